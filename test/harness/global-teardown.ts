/**
 * Runs once after all tests: the test run's watchdog stops whatever the run left running and
 * removes its temp directories (test-run.ts), and this waits until it has.
 */
import { finishTestRun } from './test-run-watchdog';

export default async function globalTeardown(): Promise<void> {
  await finishTestRun();
}
