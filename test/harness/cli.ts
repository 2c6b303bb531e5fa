/**
 * The CLI as a user runs it: `bin/dbbackup.js` in a child process, against a store and spool under
 * a work directory, one attempt per step (so a failure shows at once, not after the retry policy).
 */
import { execFile } from 'node:child_process';
import path from 'node:path';

const CLI = path.resolve(__dirname, '../../bin/dbbackup.js');

/** What one CLI run printed and how it exited. */
export interface CliRun { code: number; stdout: string; stderr: string }

export type Cli = (args: string[], env?: NodeJS.ProcessEnv) => Promise<CliRun>;

/**
 * A runner of `dbbackup --store <work>/store ...` with `DBBACKUP_SPOOL_DIR=<work>/spool`.
 * @param work a directory (or a function giving it, for directories made in beforeAll)
 */
export function cliIn(work: string | (() => string)): Cli {
  return function runDbbackup(args, env = {}) {
    const dir = typeof work === 'string' ? work : work();
    return new Promise((resolve) => {
      execFile(process.execPath, [CLI, '--store', path.join(dir, 'store'), ...args], {
        env: { ...process.env, DBBACKUP_SPOOL_DIR: path.join(dir, 'spool'), DBBACKUP_RETRY_ATTEMPTS: '1', ...env },
      }, (error, stdout, stderr) => {
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      });
    });
  };
}
