/**
 * Starting a local server process the same way for every engine (an etcd member, a MariaDB
 * server, the tests' and the demo's throwaway servers): detached, so it outlives the step that
 * started it; its output appended to a log file; its pid recorded in a pid file the moment it
 * runs; ready once its probe answers; and stopped again on every way the start can fail, with
 * the log's last lines in the error. A pid file is trusted later only while its process runs the
 * expected program (processes.ts), so a reused pid is never taken for the server.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PermanentError, TransientError } from '../errors';
import { logTail, logTailNote } from './log-tail';

/** Lines of a server's log that {@link ServerProcessOptions.explainExit} is shown. */
const EXPLAINED_LINES = 2_000;
import { isAlive, stopRecordedProcess } from './processes';
import { waitUntilReady } from './readiness';

/** How a server's process is recognised from its pid file (see processes.ts `runsProgram`). */
export interface ServerIdentity {
  /** Base names its argv[0] may have, e.g. `['mariadbd', 'mysqld']`. */
  programs: readonly string[];
  /** An argument only this instance has (e.g. `--pid-file=<its pid file>`), when others of the program may run here. */
  argument?: string;
}

export interface ServerProcessOptions<T> {
  /** Stamped on its errors. */
  engine: string;
  /** Its errors' codes: `<prefix>_START_FAILED` (it exited), `<prefix>_START_TIMEOUT` (it did not answer), e.g. `ETCD`. */
  codePrefix: string;
  /** For messages, e.g. `etcd at http://127.0.0.1:2379`. */
  what: string;
  command: string;
  args: readonly string[];
  env?: NodeJS.ProcessEnv;
  /** Its stdout and stderr are appended here. */
  logFile: string;
  /** Its pid is written here as soon as it runs. */
  pidFile: string;
  /**
   * Called with its pid right after the pid file is written, before the wait for readiness (e.g. to
   * record who started it, so a process killed while waiting leaves that record behind). Should it
   * fail, the server is stopped and its error thrown.
   */
  onSpawn?: (pid: number) => Promise<void>;
  identity: ServerIdentity;
  /** Resolves once the server answers (with what it answered); rejects, saying why, while it does not. */
  probe: () => Promise<T>;
  readyTimeoutMs: number;
  /** Pause between probes (default 100 ms). */
  pollMs?: number;
  /** How long a stop waits after SIGTERM before SIGKILL. */
  stopTimeoutMs: number;
  /** What a known cause found in the log (its last 2 000 lines) of a server that exited means, said before the log's last lines. */
  explainExit?: (logTail: string) => string | undefined;
}

export interface ServerProcess<T> {
  pid: number;
  pidFile: string;
  logFile: string;
  /** What the probe answered when it first succeeded. */
  ready: T;
  /** Stops it (SIGTERM, then SIGKILL) and removes its pid file. */
  stop(): Promise<void>;
}

/**
 * Starts the server and waits until its probe answers.
 * @throws PermanentError `MISSING_TOOL` when it cannot be started, `<prefix>_START_FAILED` when it
 *   exits before it answers; TransientError `<prefix>_START_TIMEOUT` when it does not answer in
 *   time. Either way it is not left running, and the message carries its log's last lines.
 */
export async function startServerProcess<T>(options: ServerProcessOptions<T>): Promise<ServerProcess<T>> {
  const { engine, logFile, pidFile } = options;
  await mkdir(path.dirname(logFile), { recursive: true });
  await mkdir(path.dirname(pidFile), { recursive: true });
  const log = openSync(logFile, 'a');
  let child;
  try {
    child = spawn(options.command, options.args, { detached: true, stdio: ['ignore', log, log], env: options.env ?? process.env });
  } finally {
    closeSync(log);
  }
  const spawnError = await new Promise<Error | undefined>((resolve) => {
    child.once('spawn', () => resolve(undefined));
    child.once('error', (error) => resolve(error));
  });
  if (spawnError || child.pid === undefined) {
    throw new PermanentError(`cannot start ${options.command}: ${spawnError?.message ?? 'no pid'}`, { code: 'MISSING_TOOL', engine, cause: spawnError });
  }
  const pid = child.pid;
  let exited = false;
  child.once('exit', () => { exited = true; });
  child.unref();
  const stop = () => stopRecordedProcess(pidFile, options.identity.programs, { pid, timeoutMs: options.stopTimeoutMs, argument: options.identity.argument });
  try {
    await writeFile(pidFile, `${pid}\n`);
    await options.onSpawn?.(pid);
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
  const outcome = await waitUntilReady(options.probe, {
    timeoutMs: options.readyTimeoutMs, pollMs: options.pollMs, isRunning: () => !exited && isAlive(pid),
  });
  if (outcome.ready) return { pid, pidFile, logFile, ready: outcome.value, stop };
  // Not left running: a retry would find its data dir locked and its ports taken.
  await stop().catch(() => rm(pidFile, { force: true })); // the start's own error is the one to report
  const note = await logTailNote(logFile);
  if (outcome.reason === 'exited') {
    const cause = options.explainExit?.(await logTail(logFile, EXPLAINED_LINES)); // a cause may be logged well before the last lines
    throw new PermanentError(`${options.what} exited before it became ready${cause ? `: ${cause}` : ''}${note}`, { code: `${options.codePrefix}_START_FAILED`, engine });
  }
  throw new TransientError(`${options.what} did not become ready in time (last: ${outcome.last}); stopped it${note}`, {
    code: `${options.codePrefix}_START_TIMEOUT`, engine,
  });
}
