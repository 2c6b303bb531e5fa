/**
 * The end of a test run (see test-run.ts): every process still running for it is stopped, and its
 * temp directories are removed. A process belongs to the run when it carries the run's variable
 * (it descends from jest, even detached: an etcd or mariadbd a test or a restore started) or names
 * a path inside one of the run's temp directories (a server an agent started under the SSM
 * stand-in, whose environment is the SSM agent's, not the run's).
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { processesNaming } from '../../core/host/processes-naming';
import { commandLineOf, stopProcess } from '../../core/host/processes';
import { TEMP_DIRS_FILE, TEST_RUN_ENV } from './test-run';

/** How long a process of the run gets after SIGTERM (a server flushing its data) before SIGKILL. */
const STOP_GRACE_MS = 10_000;

/** True when `pid`'s environment (as it was started) holds `entry`. */
async function carries(pid: number, entry: string): Promise<boolean> {
  try {
    return (await readFile(`/proc/${pid}/environ`, 'latin1')).split('\0').includes(entry);
  } catch {
    return false;
  }
}

/** Live processes (not this one) that carry `entry` in their environment. */
async function processesCarrying(entry: string): Promise<number[]> {
  const pids = (await readdir('/proc').catch(() => [] as string[])).map(Number).filter((pid) => Number.isInteger(pid) && pid > 0 && pid !== process.pid);
  const found: number[] = [];
  for (const pid of pids) if (await carries(pid, entry)) found.push(pid);
  return found;
}

/** The temp directories the run's record lists. */
async function tempDirsOf(record: string): Promise<string[]> {
  const text = await readFile(path.join(record, TEMP_DIRS_FILE), 'utf8').catch(() => '');
  return [...new Set(text.split('\n').filter(Boolean))];
}

/** What {@link reapTestRun} did. */
export interface Reaped {
  /** Processes it stopped, with their command lines. */
  stopped: Array<{ pid: number; argv: string[] }>;
  /** Temp directories it removed (the record last). */
  removed: string[];
}

/**
 * Stops every process of the run recorded in `record` (SIGTERM, SIGKILL after a grace period) and
 * removes its temp directories and the record. Idempotent.
 */
export async function reapTestRun(record: string): Promise<Reaped> {
  const dirs = await tempDirsOf(record);
  const pids = new Set(await processesCarrying(`${TEST_RUN_ENV}=${record}`));
  for (const dir of [record, ...dirs]) for (const { pid } of await processesNaming(dir)) pids.add(pid);
  const stopped = await Promise.all([...pids].map(async (pid) => ({ pid, argv: await commandLineOf(pid) ?? [] })));
  await Promise.all(stopped.map(({ pid }) => stopProcess(pid, STOP_GRACE_MS).catch(() => undefined)));
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  await rm(record, { recursive: true, force: true });
  return { stopped, removed: [...dirs, record] };
}
