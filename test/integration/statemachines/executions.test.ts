/**
 * The synthesized state machines, executed in process with the real handlers against a real etcd
 * and a real S3 protocol server (s3rver; LocalStack or AWS with `npm run test:localstack`):
 * success, a transient failure cured by the state machine's own Retry, and a restore from the
 * documented console input. Failures every driver must classify alike (unreachable, wrong
 * credentials, invalid config, refused targets) are the driver contract suite's (test/contract).
 */
import { readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../../core/logger';
import { readJson } from '../../../core/store/json';
import { memberPidFile, startLocalEtcd, stopMember, type LocalEtcd } from '../../../drivers/etcd/member';
import { freeMemberUrls, startTestEtcd, stopAllEtcd, tempDir, writeKeys, type TestEtcd } from '../../harness/etcd';
import { createTestRuntime, type TestRuntime } from '../../harness/runtime';
import { startTestS3, type TestS3 } from '../../harness/s3';

const EXAMPLES = path.resolve(__dirname, '../../../examples/console');
let etcd: TestEtcd;
let s3: TestS3;
const runtimes: TestRuntime[] = [];

beforeAll(async () => {
  s3 = await startTestS3();
  etcd = await startTestEtcd('sfn');
  await writeKeys(etcd.client, 300);
});
afterAll(async () => {
  await stopAllEtcd();
  await Promise.all(runtimes.map((rt) => rt.dispose()));
  await s3.stop();
});

/** A runtime whose store is a fresh prefix in the test S3 (s3rver, or LocalStack/AWS when configured). */
async function runtime(options: Parameters<typeof createTestRuntime>[0] = {}): Promise<TestRuntime> {
  const rt = await createTestRuntime({ storeUrl: s3.storeUrl(), env: s3.env, ...options });
  runtimes.push(rt);
  return rt;
}

describe('backup state machine', () => {
  it('succeeds through every step and leaves a complete, verified backup', async () => {
    // Prepare
    const rt = await runtime();

    // Act
    const execution = await rt.execute('backup', { engine: 'etcd', instance: 'sfn', config: { endpoints: [etcd.clientUrl] } });

    // Assess
    const output = execution.output as { summary: { backupId: string; validation: { ok: boolean } }; cleanup: { failed: boolean } };
    expect(execution.path).toEqual(expect.arrayContaining(['Prepare', 'Nodes', 'Snapshot', 'Validate', 'Upload', 'Finalize', 'Cleanup', 'Backup succeeded']));
    expect(execution.path).not.toContain('Cleanup after failure');
    expect(output.summary.validation.ok).toBe(true);
    expect(output.cleanup.failed).toBe(false);
    expect((await rt.catalog.get(output.summary.backupId)).complete).toBe(true);
    expect(await readdir(path.join(rt.spoolRoot, 'backup'))).toEqual([]);
  });

  it('retries a transient failure with the shipped Retry policy and then succeeds', async () => {
    // Prepare: an etcd that is down when the backup starts and comes back after the first failure.
    const dir = await tempDir('flaky');
    const { clientUrl, peerUrl } = await freeMemberUrls();
    const ports = { clientPort: Number(new URL(clientUrl).port), peerPort: Number(new URL(peerUrl).port) };
    let flaky: LocalEtcd = await startLocalEtcd({ dir, ...ports });
    await flaky.stop();
    let restarting: Promise<void> | undefined;
    const bringBack: Logger = {
      debug() {}, info() {}, error() {},
      warn(message) {
        if (message.includes('did not answer')) restarting ??= startLocalEtcd({ dir, ...ports }).then((e) => { flaky = e; });
      },
    };
    const rt = await runtime({ logger: bringBack, workflows: { retryIntervalMs: 1500 } });

    try {
      // Act
      const execution = await rt.execute('backup', { engine: 'etcd', instance: 'flaky', config: { endpoints: [clientUrl], dialTimeoutMs: 1000 } });

      // Assess
      expect(execution.retries.Snapshot).toBe(1);
      expect(execution.path).toContain('Backup succeeded');
      expect(await rt.catalog.list({ engine: 'etcd', instance: 'flaky' })).toHaveLength(1);
    } finally {
      await restarting;
      await flaky.stop();
    }
  });

});

describe('restore state machine', () => {
  it('restores from the documented console input (latest) and reports a validated restore', async () => {
    // Prepare: the example as an operator would paste it, pointed at this machine.
    const rt = await runtime();
    await rt.backup({ engine: 'etcd', instance: 'main', config: { endpoints: [etcd.clientUrl] } });
    const example = JSON.parse(readFileSync(path.join(EXAMPLES, 'restore-input.json'), 'utf8'));
    const dataDir = path.join(await tempDir('console'), 'data');
    const input = { ...example, host: undefined, target: { ...example.target, dataDir, ...(await freeMemberUrls()) } };
    delete input.host;

    // Act
    const execution = await rt.execute('restore', input);
    await stopMember(memberPidFile(dataDir));

    // Assess
    const report = (execution.output as { report: { validation: { ok: boolean; checks: number; failed: number }; restoreDurationMs: number; reportKey: string } }).report;
    expect(report.validation).toEqual({ ok: true, checks: 4, failed: 0 });
    expect(report.restoreDurationMs).toBeGreaterThan(0);
    const full = await readJson<{ validation: { checks: { name: string; ok: boolean }[] } }>(rt.store, report.reportKey);
    expect(full!.validation.checks.map((c) => [c.name, c.ok])).toEqual([['new-cluster', true], ['revision', true], ['key-count', true], ['kv-digest', true]]);
    expect(execution.path).toEqual(expect.arrayContaining(['Fetch manifest', 'Prepare', 'Apply', 'Validate', 'Report', 'Restore succeeded']));
  });
});
