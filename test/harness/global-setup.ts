/**
 * Runs once before all tests: builds the CLI the tests run as child processes (bin/dbbackup.js
 * runs the built dist/cli.js, so a test never runs a stale build), starts the test run's watchdog
 * (test-run.ts: whatever the run starts is stopped and its temp directories removed when it ends,
 * even when jest is killed), and installs on this host what the selected tests' engines need
 * (the real database servers and their tools, as drivers/index.ts declares them): every engine for
 * a whole run, only etcd's for the etcd tests (sequencer.cjs notes which the selected test files
 * reach). A missing server is a failure, never a skip.
 */
import { ensureHostRequirements } from '../../core/host/host-requirements';
import { BUILTIN_DRIVERS } from '../../drivers';
import { buildProject } from '../../scripts/build';
import { startTestRun } from './test-run-watchdog';

export default async function globalSetup(): Promise<void> {
  await buildProject();
  // After the build: its esbuild service is this process's helper, not part of the run.
  await startTestRun();
  const log = (line: string) => process.stderr.write(`${line}\n`);
  // Set by the test sequencer (sequencer.cjs); unset when another sequencer ran: every engine.
  const selected = process.env.DBBACKUP_TEST_ENGINES?.split(',').filter(Boolean);
  for (const driver of BUILTIN_DRIVERS) {
    if (!selected || selected.includes(driver.plugin.manifest.name)) ensureHostRequirements(driver.host, 'test', log);
  }
}
