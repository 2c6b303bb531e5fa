/**
 * The host's own configuration: `/etc/dbbackup/dbbackup.env` (or the file `DBBACKUP_HOST_CONFIG`
 * names), `NAME=value` lines of the same variables the environment takes. It is how an agent run
 * by SSM Run Command — whose environment holds nothing of the host's settings — learns them: the
 * restore roots a forced restore may replace data in, the spool directory, the region.
 *
 *     # /etc/dbbackup/dbbackup.env
 *     DBBACKUP_RESTORE_ROOTS=/srv/restores
 *     DBBACKUP_SPOOL_DIR=/var/lib/dbbackup/spool
 *
 * A variable set (non-empty) in the process's environment wins over the file. Blank lines and
 * `#` comments are skipped; `export ` before a name and quotes around a value are allowed.
 */
import { readFileSync } from 'node:fs';
import { PermanentError } from '../errors';

/** The variable naming the host configuration file. */
export const HOST_CONFIG_ENV = 'DBBACKUP_HOST_CONFIG';
/** Where the host configuration is when nothing says otherwise. */
export const DEFAULT_HOST_CONFIG = '/etc/dbbackup/dbbackup.env';

const LINE = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/;

/**
 * The variables of a host configuration file's text.
 * @throws PermanentError `INVALID_CONFIG` naming the file and line of a line that is not `NAME=value`.
 */
export function parseHostConfig(text: string, file: string): Record<string, string> {
  const vars: Record<string, string> = {};
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const match = LINE.exec(line);
    if (!match) throw new PermanentError(`${file}:${index + 1}: expected NAME=value, got '${line}'`, { code: 'INVALID_CONFIG' });
    const value = match[2].trim();
    vars[match[1]] = /^(["']).*\1$/.test(value) ? value.slice(1, -1) : value;
  });
  return vars;
}

/**
 * `env` with the host configuration's variables added where `env` does not set them. A missing
 * file is no configuration; an unreadable or malformed one is an error.
 *
 * @example
 * ```ts
 * const settings = settingsFromEnv(withHostConfig(process.env));
 * ```
 */
export function withHostConfig(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const file = env[HOST_CONFIG_ENV] || DEFAULT_HOST_CONFIG;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return env;
    throw new PermanentError(`cannot read the host configuration ${file}: ${(error as Error).message}`, { code: 'INVALID_CONFIG', cause: error });
  }
  const merged: NodeJS.ProcessEnv = { ...env };
  for (const [name, value] of Object.entries(parseHostConfig(text, file))) {
    if (!merged[name]) merged[name] = value;
  }
  return merged;
}
