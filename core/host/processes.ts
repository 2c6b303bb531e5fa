/**
 * Processes on this host, known by pid: whether one is alive, what it runs, and stopping the one a
 * pid file records. A pid file outlives its process (a crash, a reboot, kill -9) and the kernel
 * reuses pids, so a recorded pid is trusted only while that process runs the expected program;
 * otherwise the pid file is stale, and signalling or waiting for its pid would hit an unrelated
 * process.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PermanentError, TransientError } from '../errors';
import { readTextIfExists } from './read-if-exists';

/** How long a SIGKILLed process may take to go: only uninterruptible I/O can hold it up. */
const KILL_GRACE_MS = 10_000;
const POLL_MS = 20;

/**
 * True when `pid` is a live process. A zombie (exited, not yet reaped by its parent) counts as
 * dead: it holds nothing and no signal ends it, so waiting for it to go could last forever.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie leader is not the end of a multi-threaded process (Go, Java): its other threads may
  // still be tearing down, sockets open — a new server on the same port then fails to bind.
  return processState(pid) !== 'Z' || threadsAlive(pid);
}

/** Whether any thread of `pid` other than a zombie one is still there. */
function threadsAlive(pid: number): boolean {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return false;
  }
  return tasks.some((tid) => {
    const state = processState(pid, tid);
    return state !== undefined && state !== 'Z';
  });
}

/** The one-letter state of `pid` (R, S, D, Z, ...), or of its thread `tid`; undefined when it is gone. */
function processState(pid: number, tid?: string): string | undefined {
  try {
    // Field 3 of /proc/<pid>/stat is the state; field 2, the command name, is in parentheses and may hold spaces.
    const stat = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

/** The arguments `pid` runs with, program first; `[]` for a zombie, undefined when it is gone. */
export async function commandLineOf(pid: number): Promise<string[] | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return text === '' ? [] : text.replace(/\0$/, '').split('\0');
  } catch {
    return undefined;
  }
}

/**
 * True when `pid` is alive and runs one of `programs`, compared with the base name of its argv[0]
 * (e.g. `mariadbd`), and — when `argument` is given — has that exact argument: the same program
 * may run for something else on this host (the production server beside a restore), so the
 * instance is told by an argument only ours has (e.g. `--pid-file=<this pid file>`).
 */
export async function runsProgram(pid: number, programs: readonly string[], argument?: string): Promise<boolean> {
  if (!isAlive(pid)) return false;
  const argv = await commandLineOf(pid);
  const program = argv?.[0];
  return program !== undefined && programs.includes(path.basename(program)) && (argument === undefined || argv!.includes(argument));
}

/** The pid written in `pidFile`; undefined when the file is missing or holds no pid. */
async function readPid(pidFile: string): Promise<number | undefined> {
  const pid = Number((await readTextIfExists(pidFile))?.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * The pid `pidFile` records when that process is alive and runs one of `programs`; undefined for
 * a missing or empty pid file and for a stale one (its process dead, a zombie, or another program).
 */
export async function recordedPid(pidFile: string, programs: readonly string[], argument?: string): Promise<number | undefined> {
  const pid = await readPid(pidFile);
  return pid !== undefined && await runsProgram(pid, programs, argument) ? pid : undefined;
}

/**
 * Stops the process `pidFile` records (see {@link stopProcess}), but only when it runs one of
 * `programs`, then removes the pid file; a stale pid file is just removed. Missing pid file or
 * dead process: nothing to stop. Idempotent.
 * @param options.pid the pid to stop instead of the file's (a process we started and know the pid
 *   of); it too is stopped only when it runs one of `programs`.
 * @throws as {@link stopProcess}; the pid file is then left in place.
 */
export async function stopRecordedProcess(
  pidFile: string,
  programs: readonly string[],
  options: { pid?: number; timeoutMs: number; argument?: string },
): Promise<void> {
  const pid = options.pid ?? await readPid(pidFile);
  if (pid !== undefined && await runsProgram(pid, programs, options.argument)) await stopProcess(pid, options.timeoutMs);
  await rm(pidFile, { force: true });
}

/**
 * Stops `pid`: SIGTERM, then SIGKILL when it is still alive after `timeoutMs`. Returns once it is
 * gone (or a zombie, which only its parent can clear). A dead pid is nothing to do.
 * @throws PermanentError `PROCESS_SIGNAL_FAILED` when we may not signal it (another user's process);
 *   TransientError `PROCESS_STOP_TIMEOUT` when it outlives SIGKILL by {@link KILL_GRACE_MS}.
 */
export async function stopProcess(pid: number, timeoutMs: number): Promise<void> {
  signal(pid, 'SIGTERM');
  if (await goneWithin(pid, timeoutMs)) return;
  signal(pid, 'SIGKILL');
  if (await goneWithin(pid, KILL_GRACE_MS)) return;
  throw new TransientError(`process ${pid} is still running ${KILL_GRACE_MS} ms after SIGKILL`, { code: 'PROCESS_STOP_TIMEOUT' });
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return; // already gone
    throw new PermanentError(`cannot send ${name} to process ${pid}: ${(error as Error).message}`, { code: 'PROCESS_SIGNAL_FAILED', cause: error });
  }
}

/** Waits up to `ms` for `pid` to die; true when it did. */
async function goneWithin(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (isAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await sleep(POLL_MS);
  }
  return true;
}
