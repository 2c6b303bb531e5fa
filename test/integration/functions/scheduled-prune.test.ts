/**
 * The prune function a schedule starts for one instance, as the handler runs in Lambda, on real
 * backups of a real etcd in a real store: the instance's retention applied with deletion on,
 * other instances untouched, and a bad input refused under the name EventBridge's retry sees.
 */
import type { createHandler as CreateHandler } from '../../../functions/maintenance/prune';
import { InlineHostRunner } from '../../../core/host-runner/inline-runner';
import { localContext } from '../../../statemachines/local/run-local';
import { startTestEtcd, stopAllEtcd, writeKeys, type TestEtcd } from '../../harness/etcd';
import { createTestRuntime, type TestRuntime } from '../../harness/runtime';

let etcd: TestEtcd;
let rt: TestRuntime;
const ids: string[] = [];
let other: string;
let createHandler: typeof CreateHandler;

beforeAll(async () => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT'; // read when the handler's logger is made: import it after
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  ({ createHandler } = require('../../../functions/maintenance/prune') as { createHandler: typeof CreateHandler });
  etcd = await startTestEtcd('prune');
  await writeKeys(etcd.client, 10);
  rt = await createTestRuntime();
  for (let i = 0; i < 3; i += 1) ids.push((await rt.backup({ engine: 'etcd', instance: 'pruned', config: { endpoints: [etcd.clientUrl] } })).backupId);
  other = (await rt.backup({ engine: 'etcd', instance: 'other', config: { endpoints: [etcd.clientUrl] } })).backupId;
});
afterAll(async () => {
  await stopAllEtcd();
  await rt?.dispose();
});

const handler = () => createHandler(async () => ({ runtime: rt, hostRunner: new InlineHostRunner(rt.deps), hostStepTimeoutSeconds: 60 }));

describe('the scheduled prune function', () => {
  it("applies one instance's retention with deletion on, keeping the newest, and touches no other instance", async () => {
    // Act
    const result = await handler()({ engine: 'etcd', instance: 'pruned', keepLast: 1 }, localContext('maintenance-prune'));

    // Assess
    expect(result).toEqual({ engine: 'etcd', instance: 'pruned', kept: 1, deleted: [ids[1], ids[0]] });
    expect((await rt.catalog.list({ includeIncomplete: true })).map((b) => b.backupId).sort()).toEqual([ids[2], other].sort());
  });

  it('refuses an input that is not one instance\'s retention, naming the problem', async () => {
    const refused = handler()({ engine: 'etcd', instance: 'pruned' }, localContext('maintenance-prune'));

    await expect(refused).rejects.toMatchObject({ name: 'PermanentError', message: expect.stringMatching(/^INVALID_INPUT: invalid prune request: .*give keepLast and\/or maxAgeDays/) });
  });
});
