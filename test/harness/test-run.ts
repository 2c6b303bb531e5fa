/**
 * One test run's footprint on this host, so that nothing outlives it — not even when jest is
 * killed (`kill -9`, a CI timeout, Ctrl-C twice):
 *
 * - the run's record, a directory named in `DBBACKUP_TEST_RUN` (set by the global setup, so every
 *   jest worker and every process they start inherits it), lists the temp directories the harness
 *   made ({@link tempDir});
 * - a watchdog process (watchdog.ts), started detached by the global setup, waits for jest's end:
 *   the global teardown tells it, and a jest that dies closes its end of the watchdog's stdin. Then
 *   it stops every process of the run (reaper.ts) — servers the tests started, servers the code
 *   under test started, agents — and removes the temp directories.
 */
import { appendFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** The variable naming the run's record; every process of the run carries it. */
export const TEST_RUN_ENV = 'DBBACKUP_TEST_RUN';

/** The file in the run's record that lists its temp directories, one a line. */
export const TEMP_DIRS_FILE = 'temp-dirs';

/** Adds `dir` to the run's temp directories (removed when the run ends); nothing outside a jest run. */
export function trackTempDir(dir: string): void {
  const record = process.env[TEST_RUN_ENV];
  if (record) appendFileSync(path.join(record, TEMP_DIRS_FILE), `${dir}\n`);
}

/**
 * A fresh temp directory (`<tmp>/dbbackup-<label>-XXXXXX`) that the run removes when it ends, even
 * when a test forgets to, or jest is killed.
 */
export async function tempDir(label: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `dbbackup-${label}-`));
  trackTempDir(dir);
  return dir;
}

/** The temp dirs one server harness makes (named `<prefix>-<label>`), removed together when it stops its servers. */
export function harnessTempDirs(prefix: string): { make(label: string): Promise<string>; removeAll(): Promise<void> } {
  const dirs = new Set<string>();
  return {
    async make(label) {
      const dir = await tempDir(`${prefix}-${label}`);
      dirs.add(dir);
      return dir;
    },
    async removeAll() {
      for (const dir of dirs) await rm(dir, { recursive: true, force: true });
      dirs.clear();
    },
  };
}
