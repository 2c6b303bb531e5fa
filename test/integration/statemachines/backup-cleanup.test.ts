/**
 * The backup state machine's cleanup, run in process against a real etcd with a two-node driver
 * (the etcd driver listing two nodes): after a failure every node is cleaned even when one node's
 * cleanup fails, the incomplete backup is discarded and the failure is counted — a failure at
 * Prepare too; after a completed backup (manifest written) a failing cleanup leaves the execution
 * a success, saying which node was not cleaned.
 */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { AgentResult } from '../../../core/agent/agent-steps';
import type { DriverPlugin } from '../../../core/driver/types';
import { plugin as etcdPlugin } from '../../../drivers/etcd';
import { METRIC } from '../../../functions/shared/metric-names';
import { publish } from '../../../functions/shared/observability';
import { ExecutionFailedError } from '../../../statemachines/local/run-local';
import { localWorkflows } from '../../../statemachines/local/local-workflows';
import { startTestEtcd, stopAllEtcd, writeKeys, type TestEtcd } from '../../harness/etcd';
import { createTestRuntime, shippedDefinitions, type TestRuntime } from '../../harness/runtime';
import { scriptedHostRunner, type StepScript } from '../../harness/scripted-host-runner';

// The metrics the handlers publish, observed (CloudWatch-only, off locally).
jest.mock('../../../functions/shared/observability', () => ({
  ...jest.requireActual('../../../functions/shared/observability'),
  publish: jest.fn(),
}));

const ENGINE = 'etcd-pair';
let etcd: TestEtcd;
const runtimes: TestRuntime[] = [];

beforeAll(async () => {
  etcd = await startTestEtcd('cleanup');
  await writeKeys(etcd.client, 50);
});
afterAll(async () => {
  await stopAllEtcd();
  await Promise.all(runtimes.map((rt) => rt.dispose()));
});
beforeEach(() => jest.mocked(publish).mockClear());

/** The etcd driver under another name, backing up two nodes (both from the same etcd). */
function pairPlugin(): DriverPlugin {
  const backup = Object.assign(Object.create(etcdPlugin.backup!) as object, {
    listNodes: async () => [{ name: 'n1' }, { name: 'n2' }],
  });
  return { ...etcdPlugin, manifest: { ...etcdPlugin.manifest, name: ENGINE, capabilities: [...etcdPlugin.manifest.capabilities, 'multi-node'] }, backup } as unknown as DriverPlugin;
}

const failure = (message: string): AgentResult => ({ ok: false, error: { name: 'PermanentError', code: 'SCRIPTED', message } });

/** A cleanup step that fails on `node` and runs for real on the others. */
const cleanupFailingOn = (node: string): StepScript => ({
  result: (input, runForReal) => ((input.node as { name: string }).name === node ? failure(`host of ${node} unreachable`) : runForReal()),
});

/** A runtime with the two-node driver whose host steps do what `scripts` say (the rest run for real). */
async function pairRuntime(scripts: Parameters<typeof scriptedHostRunner>[1]) {
  const rt = await createTestRuntime();
  runtimes.push(rt);
  rt.deps.registry.register(pairPlugin(), 'test');
  const hostRunner = scriptedHostRunner(rt.deps, scripts);
  const workflows = localWorkflows(rt, { definitions: shippedDefinitions(), waitMs: 10, hostRunner });
  return { rt, hostRunner, workflows };
}

/** The run directories left under the spool's backup/ (`<backupId>/<node>`). */
async function spoolNodes(rt: TestRuntime): Promise<string[]> {
  const root = path.join(rt.spoolRoot, 'backup');
  if (!existsSync(root)) return [];
  const nodes: string[] = [];
  for (const id of await readdir(root)) {
    for (const entry of await readdir(path.join(root, id))) if (!entry.endsWith('.owner.json')) nodes.push(`${id}/${entry}`);
  }
  return nodes;
}

const request = () => ({ engine: ENGINE, instance: 'pair', config: { endpoints: [etcd.clientUrl] } });

it('after a failure cleans every node though one node\'s cleanup fails, discards the incomplete backup and counts the failure', async () => {
  // Prepare: both nodes upload, then a record Finalize needs is gone (so it fails after every node's work is done);
  // the cleanup of n2 fails.
  const { rt, hostRunner, workflows } = await pairRuntime({
    'backup-upload': {
      async result(input, runForReal) {
        const uploaded = await runForReal();
        if ((input.node as { name: string }).name === 'n2') await rt.store.delete([(input.validation as { key: string }).key]);
        return uploaded;
      },
    },
    'backup-cleanup': cleanupFailingOn('n2'),
  });

  // Act
  const error = await workflows.execute('backup', request()).catch((e: unknown) => e) as ExecutionFailedError;

  // Assess: the original error, cleanup ran for both nodes, n1's spool is gone and n2's (whose cleanup failed) is left.
  expect(error).toBeInstanceOf(ExecutionFailedError);
  expect(error.errorName).toBe('PermanentError');
  expect(error.causeText).toMatch(/^STEP_RECORD_MISSING: /);
  expect(error.execution.path).toEqual(expect.arrayContaining(['Finalize', 'Cleanup after failure', 'Backup failed']));
  const cleaned = hostRunner.submitted.filter((c) => c.step === 'backup-cleanup').map((c) => (c.input as { node: { name: string } }).node.name);
  expect(cleaned.sort()).toEqual(['n1', 'n2']);
  expect((await spoolNodes(rt)).map((entry) => path.basename(entry))).toEqual(['n2']);
  expect(await rt.catalog.list({ includeIncomplete: true })).toEqual([]);
  expect(publish).toHaveBeenCalledWith(ENGINE, 'pair', [[METRIC.backupFailed, 'Count', 1]]);
});

it('counts a failure at Prepare too, where there is nothing to clean', async () => {
  // Prepare
  const { workflows } = await pairRuntime({});

  // Act
  const error = await workflows.execute('backup', { engine: ENGINE, instance: 'bad', config: { endpoints: ['ftp://nope'] } })
    .catch((e: unknown) => e) as ExecutionFailedError;

  // Assess
  expect(error.causeText).toMatch(/^INVALID_CONFIG: /);
  expect(error.execution.path).toEqual(['Prepare', 'Cleanup after failure', 'Backup failed']);
  expect(publish).toHaveBeenCalledWith(ENGINE, 'bad', [[METRIC.backupFailed, 'Count', 1]]);
});

it('keeps a completed backup a success when the cleanup after it fails, and says which node was not cleaned', async () => {
  // Prepare
  const { rt, workflows } = await pairRuntime({ 'backup-cleanup': cleanupFailingOn('n1') });

  // Act
  const execution = await workflows.execute('backup', request());

  // Assess
  const output = execution.output as { summary: { backupId: string }; cleanup: Record<string, unknown> };
  expect(execution.path).toContain('Backup succeeded');
  expect(execution.path).not.toContain('Cleanup after failure');
  expect(output.cleanup).toEqual({
    cleaned: ['n2'], failedNodes: [{ node: 'n1', error: expect.stringContaining('host of n1 unreachable') }], failed: false, discarded: 0,
  });
  expect((await rt.catalog.get(output.summary.backupId)).complete).toBe(true);
  expect((await spoolNodes(rt)).map((entry) => path.basename(entry))).toEqual(['n1']);
  expect(jest.mocked(publish).mock.calls.map(([, , values]) => values[0][0])).not.toContain(METRIC.backupFailed);
});
