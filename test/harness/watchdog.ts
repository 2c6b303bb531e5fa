/**
 * The test run's watchdog (see test-run.ts), a program of its own: started detached by the global
 * setup with the run's record as its argument, so neither jest's end nor a signal to jest's process
 * group ends it first. It waits for the run to end — a `reap` line on stdin from the global
 * teardown, or the end of its stdin when jest dies — then reaps the run (reaper.ts) and exits.
 */
import { createInterface } from 'node:readline';
import { reapTestRun } from './reaper';

const record = process.argv[2];
if (!record) {
  process.stderr.write('usage: watchdog <test run record>\n');
  process.exit(2);
}

let reaping: Promise<void> | undefined;

function reap(): Promise<void> {
  reaping ??= reapTestRun(record).then(
    function reaped({ stopped }) {
      for (const { pid, argv } of stopped) process.stderr.write(`test run watchdog: stopped what the run left running: ${pid} ${argv.join(' ').slice(0, 200)}\n`);
    },
    function failed(error: unknown) {
      process.stderr.write(`test run watchdog: reaping ${record} failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    },
  ).finally(() => process.exit(0));
  return reaping;
}

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => { if (line.trim() === 'reap') void reap(); });
lines.on('close', () => void reap());
// Detached, it has no terminal; still, a hang-up or interrupt sent its way ends the run here too.
for (const signal of ['SIGHUP', 'SIGINT', 'SIGTERM'] as const) process.on(signal, () => void reap());
