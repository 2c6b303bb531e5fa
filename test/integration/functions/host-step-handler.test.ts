/**
 * A host-step Lambda handler driving a real child-process agent (the fixture agent with the
 * `dbbackup agent` contract): submit returns `pending`, poll returns the agent's output, and the
 * agent's errors and malformed outputs leave the handler under the names Step Functions matches.
 */
import path from 'node:path';
import { LocalProcessHostRunner } from '../../../core/host-runner/local-process-runner';
import { createHandler as snapshotHandler } from '../../../functions/backup/snapshot';
import { localContext } from '../../../statemachines/local/run-local';
import { createTestRuntime, type TestRuntime } from '../../harness/runtime';
import { tempDir } from '../../harness/etcd';

const FAKE_AGENT = path.resolve(__dirname, '../../fixtures/host-runner/fake-agent.js');
let rt: TestRuntime;
let runner: LocalProcessHostRunner;

beforeAll(async () => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  rt = await createTestRuntime();
  runner = new LocalProcessHostRunner({ directory: await tempDir('host-step'), agentCommand: [process.execPath, FAKE_AGENT] });
});
afterAll(() => rt.dispose());

const context = localContext('backup-snapshot');
const mapItem = (behaviour: string) => ({
  backup: {
    behaviour, // read by the fixture agent
    engine: 'etcd', instance: 'h', config: { endpoints: ['http://127.0.0.1:1'] },
    backupId: '20261121T000000Z-abcdef', prefix: 'backups/etcd/h/20261121T000000Z-abcdef', startedAt: new Date().toISOString(),
    nodes: [{ name: 'default' }],
  },
  node: { name: 'default' },
});

/** Invokes the handler like the state machine: submit, then poll until `pending` is gone. */
async function runToEnd(event: unknown): Promise<unknown> {
  const handler = snapshotHandler(async () => ({ runtime: rt, hostRunner: runner, hostStepTimeoutSeconds: 30 }));
  let state = await handler(event, context) as { pending?: unknown };
  let polls = 0;
  while (state.pending) {
    polls += 1;
    await new Promise((resolve) => setTimeout(resolve, 100));
    state = await handler(state, context) as { pending?: unknown };
  }
  return { state, polls };
}

it('returns pending on submit and the output on a later poll; a malformed agent output is a PermanentError', async () => {
  const handler = snapshotHandler(async () => ({ runtime: rt, hostRunner: runner, hostStepTimeoutSeconds: 30 }));
  const first = await handler(mapItem('succeed'), context) as { pending?: { done: boolean }; node?: unknown };
  expect(first.pending).toMatchObject({ done: false });
  expect(first.node).toEqual({ name: 'default' });
  await expect(runToEnd(first)).rejects.toMatchObject({ name: 'PermanentError', message: expect.stringMatching(/^INVALID_AGENT_OUTPUT: /) });
});

it("rethrows the agent's transient and permanent errors by name, with the code in the message", async () => {
  await expect(runToEnd(mapItem('fail-transient'))).rejects.toMatchObject({ name: 'TransientError', message: expect.stringMatching(/^ETCD_UNAVAILABLE: /) });
  await expect(runToEnd(mapItem('fail-permanent'))).rejects.toMatchObject({ name: 'PermanentError', message: expect.stringMatching(/^CHECKSUM_MISMATCH: /) });
});
