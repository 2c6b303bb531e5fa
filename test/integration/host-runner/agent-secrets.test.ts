/**
 * The host agent resolves `env:` and `file:` references only for a run a CLI on its host
 * orchestrates. Started any other way — as SSM Run Command starts it for a Step Functions
 * execution — it runs in AWS (core/config/platform.ts), where the step input comes from the
 * console and secrets come only from SSM Parameter Store or Secrets Manager.
 */
import { nodeState, prepareBackup } from '../../../core/backup/backup-steps';
import { RUN_ORCHESTRATOR_ENV } from '../../../core/config/settings';
import { currentProcess, formatIdentity } from '../../../core/host/process-identity';
import { runCli } from '../../harness/cli-process';
import { startTestEtcd, stopAllEtcd, writeKeys, type TestEtcd } from '../../harness/etcd';
import { createTestRuntime, type TestRuntime } from '../../harness/runtime';

const PASSWORD = 'agent-secret-right';
let etcd: TestEtcd;
let rt: TestRuntime;

beforeAll(async () => {
  etcd = await startTestEtcd('agent-secrets');
  await writeKeys(etcd.client, 10);
  await etcd.client.role('root').create();
  await (await etcd.client.user('root').create(PASSWORD)).addRole('root');
  await etcd.client.auth.authEnable();
  rt = await createTestRuntime({ env: { ETCD_PW: PASSWORD } });
});
afterAll(async () => {
  await rt.dispose();
  await stopAllEtcd();
});

async function snapshotByAgent(env: NodeJS.ProcessEnv): Promise<{ code: number | null; result: { ok: boolean; error?: { code: string; message: string } }; stdout: string; stderr: string }> {
  const state = await prepareBackup({
    engine: 'etcd', instance: 'agent-secrets', config: { endpoints: [etcd.clientUrl], username: 'root', password: { $secret: 'env:ETCD_PW' } },
  }, rt.deps);
  const run = await runCli(['--store', rt.store.url, 'agent', 'backup-snapshot', '--input', JSON.stringify(nodeState(state, state.nodes[0]))],
    { DBBACKUP_SPOOL_DIR: rt.spoolRoot, ETCD_PW: PASSWORD, ...env });
  return { ...run, result: JSON.parse(run.stdout.trim().split('\n').pop()!) };
}

describe('secret references on a host agent', () => {
  it('refuses an env: reference when no local CLI orchestrates the run (as under SSM), naming the field, never the value', async () => {
    // Act
    const run = await snapshotByAgent({});

    // Assess
    expect(run.code).toBe(2);
    expect(run.result).toMatchObject({ ok: false, error: { code: 'SECRET_REF_REFUSED' } });
    expect(run.result.error!.message).toMatch(/^password: secret reference 'env:ETCD_PW' is refused: here only ssm: and secretsmanager: references are resolved/);
    expect(run.stdout + run.stderr).not.toContain(PASSWORD);
  });

  it('resolves it for a run a CLI on this host orchestrates, or when DBBACKUP_PLATFORM=local says so', async () => {
    // Act
    const orchestrated = await snapshotByAgent({ [RUN_ORCHESTRATOR_ENV]: formatIdentity(currentProcess()) });
    const local = await snapshotByAgent({ DBBACKUP_PLATFORM: 'local' });

    // Assess
    expect(orchestrated.result).toMatchObject({ ok: true });
    expect(local.result).toMatchObject({ ok: true });
    expect(orchestrated.stdout + local.stdout).not.toContain(PASSWORD);
  });
});
