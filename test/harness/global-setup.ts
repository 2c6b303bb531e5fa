/**
 * Runs once before all tests: builds the CLI the tests run as child processes (bin/dbbackup.js
 * runs the built dist/cli.js, so a test never runs a stale build), starts the test run's watchdog
 * (test-run.ts: whatever the run starts is stopped and its temp directories removed when it ends,
 * even when jest is killed), and installs what every built-in driver's tests need on this host
 * (drivers/index.ts: the real database servers and their tools). A missing server is a failure,
 * never a skip.
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
  for (const driver of BUILTIN_DRIVERS) ensureHostRequirements(driver.host, 'test', log);
}
