/**
 * Starting and finishing a test run (test-run.ts) from jest's global setup and teardown: the run's
 * record, the variable that names it, and its watchdog (watchdog.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TEST_RUN_ENV } from './test-run';

/** How long the teardown waits for the watchdog to stop what the run left (its grace is 10 s a process, in parallel). */
const REAP_WAIT_MS = 120_000;

/** Where the global setup leaves the watchdog for the global teardown (the same process, not the same modules). */
const HANDLE = Symbol.for('dbbackup.testRunWatchdog');

type Holder = { [HANDLE]?: ChildProcess };

/**
 * Creates the run's record, names it in this process's environment (the jest workers and every
 * process started from here on inherit it), and starts the watchdog.
 */
export async function startTestRun(): Promise<string> {
  const record = await mkdtemp(path.join(os.tmpdir(), 'dbbackup-test-run-'));
  const env = { ...process.env };
  delete env[TEST_RUN_ENV];
  const watchdog = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'watchdog.ts'), record], {
    cwd: path.resolve(__dirname, '../..'), detached: true, stdio: ['pipe', 'ignore', 'inherit'], env,
  });
  // Neither may keep jest alive; the pipe stays open for as long as jest lives.
  watchdog.unref();
  (watchdog.stdin as unknown as { unref?: () => void }).unref?.();
  (globalThis as Holder)[HANDLE] = watchdog;
  process.env[TEST_RUN_ENV] = record;
  return record;
}

/** Tells the watchdog the run is over and waits until it has reaped it. */
export async function finishTestRun(): Promise<void> {
  const watchdog = (globalThis as Holder)[HANDLE];
  if (!watchdog || watchdog.exitCode !== null || watchdog.signalCode !== null) return;
  const exited = new Promise<'reaped'>((resolve) => watchdog.once('exit', () => resolve('reaped')));
  watchdog.stdin?.end('reap\n');
  const waiting = new AbortController();
  const timeout = sleep(REAP_WAIT_MS, 'timeout' as const, { signal: waiting.signal }).catch(() => 'reaped' as const);
  const outcome = await Promise.race([exited, timeout]);
  waiting.abort();
  if (outcome === 'timeout') process.stderr.write(`the test run watchdog (pid ${watchdog.pid}) is still reaping after ${REAP_WAIT_MS} ms; not waiting for it\n`);
}
