/**
 * A killed test run leaves nothing behind: its watchdog stops the servers the run started (those
 * carrying the run's variable, and those naming its temp directories) and removes its temp
 * directories. A stand-in run (test/fixtures/test-run/doomed-run.ts) is killed with SIGKILL.
 */
import { spawn } from 'node:child_process';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive } from '../../../core/host/processes';
import { TEST_RUN_ENV } from '../../harness/test-run';

const DOOMED = path.resolve(__dirname, '../../fixtures/test-run/doomed-run.ts');

/** Polls `check` until it holds; generous, since the machine may be busy (the watchdog's own grace is 10 s). */
async function eventually(check: () => Promise<boolean> | boolean, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`still not ${what}`);
    await sleep(100);
  }
}

const exists = (file: string) => access(file).then(() => true, () => false);

describe('the test run', () => {
  it('is named in the environment of every test process', () => {
    // Assess
    expect(process.env[TEST_RUN_ENV]).toMatch(/dbbackup-test-run-/);
  });

  it('killed with SIGKILL, leaves no process and no temp directory behind', async () => {
    // Prepare
    const run = spawn(process.execPath, ['--import', 'tsx', DOOMED], { cwd: path.resolve(__dirname, '../../..'), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    run.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    // The watchdog inherits the run's stderr and writes what it stopped after removing the dirs: its exit closes the pipe.
    const stderrClosed = new Promise<void>((resolve) => run.stderr!.once('close', resolve));
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: run.stdout! }).once('line', resolve);
      run.once('exit', (code) => reject(new Error(`the doomed run exited (${code}) before it started its servers: ${stderr}`)));
    });
    const { record, dir, pids } = JSON.parse(line) as { record: string; dir: string; pids: number[] };
    const startedAlive = pids.map(isAlive);

    // Act
    run.kill('SIGKILL');

    // Assess
    expect(startedAlive).toEqual([true, true]);
    await eventually(() => pids.every((pid) => !isAlive(pid)), 'stopped');
    await eventually(async () => !(await exists(dir)) && !(await exists(record)), 'removed');
    const waiting = new AbortController();
    await Promise.race([stderrClosed, sleep(60_000, undefined, { signal: waiting.signal }).then(() => { throw new Error(`the watchdog kept the run's stderr open for 60 s; it wrote: ${stderr}`); })])
      .finally(() => waiting.abort());
    expect(stderr).toMatch(/stopped what the run left running: \d+ .*--datadir=.*dbbackup-doomed-/);
  }, 120_000);
});
