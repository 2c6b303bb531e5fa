/**
 * A host step's timing, as its Lambda handler sets it: the command runs for the step's timeout or
 * until the run's deadline if that comes first, is not started once too little is left (so the run
 * goes to its cleanup in time), and the state machine waits longer between polls the longer the
 * step has been running.
 */
import { createHandler as restoreHandler } from '../../../functions/restore/apply';
import { MIN_HOST_STEP_SECONDS, deadlineOf, splitRunInput } from '../../../core/steps/run-deadline';
import { localContext } from '../../../statemachines/local/run-local';
import { createTestRuntime, type TestRuntime } from '../../harness/runtime';
import { scriptedHostRunner, type ScriptedHostRunner } from '../../harness/scripted-host-runner';

let rt: TestRuntime;
let runner: ScriptedHostRunner;

beforeAll(async () => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  rt = await createTestRuntime();
  runner = scriptedHostRunner(rt.deps, { 'restore-apply': { polls: Infinity, result: () => ({ ok: true, output: {} }) } });
});
afterAll(() => rt.dispose());

const HOUR = 3600;
const handler = () => restoreHandler(async () => ({ runtime: rt, hostRunner: runner, hostStepTimeoutSeconds: 6 * HOUR }));
const inAMinute = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();
const state = (deadline?: string) => ({
  backupId: 'latest', target: {}, force: false, restoreId: '20261121T000000000Z-abcdef', startedAt: new Date().toISOString(),
  backup: { backupId: '20261121T000000000Z-123456', engine: 'etcd', instance: 'main', artifacts: 1, bytes: 1 },
  manifestKey: 'backups/etcd/main/20261121T000000000Z-123456/manifest.json', prepared: { key: 'k' },
  ...(deadline ? { deadline } : {}),
});

it("runs a step until the run's deadline when that comes before the step's own timeout", async () => {
  // Act
  const pending = await handler()(state(inAMinute(30)), localContext('restore-restore')) as { pending: { waitSeconds: number } };

  // Assess
  const timeout = runner.submitted.at(-1)!.timeoutSeconds;
  expect(timeout).toBeGreaterThan(29 * 60);
  expect(timeout).toBeLessThanOrEqual(30 * 60);
  expect(pending.pending.waitSeconds).toBe(10);
});

it('runs a step for its own timeout without a deadline, or when the deadline is far', async () => {
  await handler()(state(), localContext('restore-restore'));
  expect(runner.submitted.at(-1)!.timeoutSeconds).toBe(6 * HOUR);
  await handler()(state(inAMinute(20 * 60)), localContext('restore-restore'));
  expect(runner.submitted.at(-1)!.timeoutSeconds).toBe(6 * HOUR);
});

it('refuses to start a step once less than a minute is left, so the run goes to its cleanup in time', async () => {
  // Prepare
  const submitted = runner.submitted.length;

  // Act
  const starting = handler()(state(new Date(Date.now() + (MIN_HOST_STEP_SECONDS - 5) * 1000).toISOString()), localContext('restore-restore'));

  // Assess
  await expect(starting).rejects.toMatchObject({ name: 'PermanentError', message: expect.stringMatching(/^RUN_DEADLINE_PASSED: /) });
  expect(runner.submitted).toHaveLength(submitted);
});

it('waits longer between polls the longer the step has been running', async () => {
  // Prepare: a step submitted 40 minutes ago.
  const first = await handler()(state(), localContext('restore-restore')) as { pending: Record<string, unknown> };
  const older = { ...first, pending: { ...first.pending, submittedAt: new Date(Date.now() - 40 * 60_000).toISOString() } };

  // Act
  const polled = await handler()(older, localContext('restore-restore')) as { pending: { waitSeconds: number } };

  // Assess
  expect(polled.pending.waitSeconds).toBe(300);
});

it("reads the run's budget from a first step's input and turns it into a deadline", () => {
  const { request, budget } = splitRunInput({ request: { backupId: 'latest' }, budget: { startedAt: '2026-11-21T00:00:00.000Z', hostWorkSeconds: 3600 } });
  expect(request).toEqual({ backupId: 'latest' });
  expect(deadlineOf(budget)).toEqual({ deadline: '2026-11-21T01:00:00.000Z' });
  expect(splitRunInput({ backupId: 'latest' })).toEqual({ request: { backupId: 'latest' } });
});
