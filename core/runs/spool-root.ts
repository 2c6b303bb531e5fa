/**
 * The host's spool directory (DBBACKUP_SPOOL_DIR), made if missing — one folder at a time, so a
 * path that cannot be made fails at once, naming the setting: Node's recursive mkdir loops for ever
 * on a path under /proc (ENOENT for the folder, EEXIST for its parent, again and again) and reports
 * ENOENT on a read-only file system.
 */
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { PermanentError } from '../errors';
import { unwritableBecause } from '../io/unwritable';

const made = new Set<string>();

/**
 * Makes `spoolRoot` and its missing parents (private to this user).
 * @throws PermanentError `SPOOL_UNUSABLE` when a folder of it cannot be made
 */
export async function makeSpoolRoot(spoolRoot: string): Promise<void> {
  if (made.has(spoolRoot)) return;
  const folders: string[] = [];
  for (let folder = path.resolve(spoolRoot); folder !== path.dirname(folder); folder = path.dirname(folder)) folders.unshift(folder);
  for (const folder of folders) {
    await mkdir(folder, { mode: 0o700 }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'EEXIST') return;
      const why = unwritableBecause(error.code) ?? `cannot be made (${error.code ?? error.message})`;
      throw new PermanentError(`the spool directory ${spoolRoot} (DBBACKUP_SPOOL_DIR) ${why}: ${folder}`, { code: 'SPOOL_UNUSABLE', cause: error });
    });
  }
  if (!(await stat(spoolRoot)).isDirectory()) {
    throw new PermanentError(`the spool directory ${spoolRoot} (DBBACKUP_SPOOL_DIR) is a file, not a folder`, { code: 'SPOOL_UNUSABLE' });
  }
  made.add(spoolRoot);
}
