/**
 * The local runner holds a run to Step Functions' quotas, as AWS does: a payload over 256 KiB fails
 * the execution with States.DataLimitExceeded, which the Catch to cleanup cannot catch, and a run
 * that would need more than 25 000 history events fails too. Events are counted as AWS records
 * them: each poll cycle of a host step adds 9.
 */
import { HISTORY_EVENTS, STEP_FUNCTIONS_LIMITS } from '../../../statemachines/history-events';
import { ExecutionFailedError } from '../../../statemachines/local/run-local';
import { DATA_LIMIT_EXCEEDED, HISTORY_LIMIT_EXCEEDED } from '../../../statemachines/local/service-limits';
import { localWorkflows } from '../../../statemachines/local/local-workflows';
import { createTestRuntime, shippedDefinitions, type TestRuntime } from '../../harness/runtime';
import { scriptedHostRunner, type StepScript } from '../../harness/scripted-host-runner';

const runtimes: TestRuntime[] = [];
afterAll(() => Promise.all(runtimes.map((rt) => rt.dispose())));

const request = { engine: 'etcd', instance: 'limits', config: { endpoints: ['http://127.0.0.1:1'] } };
const failed = (message: string): ReturnType<StepScript['result']> => ({ ok: false, error: { name: 'PermanentError', code: 'SCRIPTED', message } });

/** Runs a backup whose snapshot step does what `snapshot` says (the other host steps run for real). */
async function backupWith(snapshot: StepScript): Promise<ExecutionFailedError> {
  const rt = await createTestRuntime();
  runtimes.push(rt);
  const workflows = localWorkflows(rt, { definitions: shippedDefinitions(), waitMs: 0, hostRunner: scriptedHostRunner(rt.deps, { 'backup-snapshot': snapshot }) });
  return workflows.execute('backup', request).then(() => { throw new Error('the backup succeeded'); }, (error: unknown) => error as ExecutionFailedError);
}

it('fails the execution with States.DataLimitExceeded when a step returns more than 256 KiB, past the Catch to cleanup', async () => {
  // Act: the snapshot's output carries 300 KB.
  const error = await backupWith({ result: (input) => ({ ok: true, output: { ...input, padding: 'x'.repeat(300_000) } }) });

  // Assess
  expect(error).toBeInstanceOf(ExecutionFailedError);
  expect(error.errorName).toBe(DATA_LIMIT_EXCEEDED);
  expect(error.causeText).toMatch(/^the result of Poll snapshot is \d+ bytes, more than the 262144 bytes/);
  expect(error.execution.path).not.toContain('Cleanup after failure');
  expect(error.execution.limits.largestPayload.bytes).toBeGreaterThan(STEP_FUNCTIONS_LIMITS.payloadBytes);
});

it('counts 9 history events per poll cycle, and fails a run that would exceed 25 000 events', async () => {
  // Act: the same failure after 10 and after 30 polls, then a step that never ends.
  const after10 = await backupWith({ polls: 10, result: () => failed('gave up') });
  const after30 = await backupWith({ polls: 30, result: () => failed('gave up') });
  const endless = await backupWith({ polls: Infinity, result: () => failed('never') });

  // Assess
  expect(after10.errorName).toBe('PermanentError');
  expect(after30.execution.limits.historyEvents - after10.execution.limits.historyEvents).toBe(20 * (HISTORY_EVENTS.enterExit * 2 + HISTORY_EVENTS.enterExit + HISTORY_EVENTS.taskAttempt));
  expect(endless.errorName).toBe(HISTORY_LIMIT_EXCEEDED);
  expect(endless.causeText).toMatch(/25000 history events/);
  expect(endless.execution.limits.historyEvents).toBeGreaterThanOrEqual(STEP_FUNCTIONS_LIMITS.historyEvents);
  expect(endless.execution.limits.historyEvents).toBeLessThan(STEP_FUNCTIONS_LIMITS.historyEvents + HISTORY_EVENTS.enterExit + HISTORY_EVENTS.taskAttempt);
  expect(endless.execution.path).not.toContain('Cleanup after failure');
}, 120_000);
