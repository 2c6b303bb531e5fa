/**
 * Processes on this host whose command line names a path inside a directory. A run's private
 * directory is named on no command line but its own tools' (`mariadbd --datadir=<dir>/...`), so
 * when the run is dead, these are its orphans: a detached server it started, still holding the
 * files (and a port) that removing the directory would not free.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { commandLineOf, isAlive, stopProcess } from './processes';

export interface NamingProcess {
  pid: number;
  /** Its arguments, program first. */
  argv: string[];
}

/** True when `arg` is `dir`, a path inside it, or `--option=` one of those (a `file://` URL of one included). */
function namesPathIn(arg: string, dir: string): boolean {
  const value = (arg.startsWith('-') && arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : arg).replace(/^file:\/\//, '');
  return value === dir || value.startsWith(`${dir}${path.sep}`);
}

/** Live processes (not this one) whose arguments name `dir` or a path inside it; `[]` where /proc is missing. */
export async function processesNaming(dir: string): Promise<NamingProcess[]> {
  const root = path.resolve(dir);
  const entries = await readdir('/proc').catch(() => [] as string[]);
  const found: NamingProcess[] = [];
  for (const entry of entries) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) continue;
    const argv = await commandLineOf(pid);
    if (argv && argv.some((arg) => namesPathIn(arg, root)) && isAlive(pid)) found.push({ pid, argv });
  }
  return found;
}

/**
 * Stops every process {@link processesNaming} finds for `dir`, all at once (SIGTERM, then SIGKILL
 * after `timeoutMs`): what ran from a directory is so found again by any later process, with no
 * record of its own. Resolves with the pids stopped.
 */
export async function stopProcessesNaming(dir: string, timeoutMs: number): Promise<number[]> {
  const found = await processesNaming(dir);
  await Promise.all(found.map(({ pid }) => stopProcess(pid, timeoutMs)));
  return found.map(({ pid }) => pid);
}
