/**
 * `dbbackup remote` against a Step Functions stand-in that runs the synthesized definitions in
 * process, as the deployed state machines would run them: the CLI (a separate process, the real
 * @aws-sdk/client-sfn, the endpoint from AWS_ENDPOINT_URL_SFN) starts executions with the console's
 * input, follows them step by step and exits with its usual codes; bad input is refused before
 * anything is sent.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { memberPidFile } from '../../../drivers/etcd/member';
import { cliIn, type CliRun } from '../../harness/cli';
import { freeMemberUrls, startTestEtcd, stopAllEtcd, tempDir, trackMember, writeKeys, type TestEtcd } from '../../harness/etcd';
import { createTestRuntime, shippedDefinitions, type TestRuntime } from '../../harness/runtime';
import { startSfnStandin, type SfnStandin } from '../../harness/sfn-standin';

const REGION = 'eu-west-1';
const HOST = 'i-0123456789abcdef0';
let etcd: TestEtcd;
let rt: TestRuntime;
let sfn: SfnStandin;
let work: string;

beforeAll(async () => {
  etcd = await startTestEtcd('remote');
  await writeKeys(etcd.client, 30);
  rt = await createTestRuntime();
  const definitions = shippedDefinitions();
  sfn = await startSfnStandin({
    region: REGION,
    machines: {
      'DbBackup-Backup': { definition: definitions.backup, run: (input, onEvent) => rt.execute('backup', input, onEvent) },
      'DbBackup-Restore': { definition: definitions.restore, run: (input, onEvent) => rt.execute('restore', input, onEvent) },
    },
  });
  work = await tempDir('remote-cli');
});
afterAll(async () => {
  await sfn?.stop();
  await stopAllEtcd();
  await rt?.dispose();
});

/** `dbbackup [--json] remote ...` as an operator's machine runs it, pointed at the stand-in. */
function remote(args: string[]): Promise<CliRun> {
  const global = args[0] === '--json' ? ['--json'] : [];
  return cliIn(() => work)([...global, 'remote', ...args.slice(global.length)], {
    AWS_ENDPOINT_URL_SFN: sfn.endpoint, AWS_REGION: REGION, AWS_ACCESS_KEY_ID: 'AKIDSTANDIN', AWS_SECRET_ACCESS_KEY: 'standin-secret',
  });
}

const backupArgs = (instance: string) => ['backup', 'etcd', '--instance', instance, '--config', JSON.stringify({ endpoints: [etcd.clientUrl] }), '--host', HOST, '--state-machine', 'DbBackup-Backup', '--poll-seconds', '0.2'];
const started = () => sfn.calls.filter((c) => c.operation === 'StartExecution').length;

describe('dbbackup remote', () => {
  it('runs a backup in the deployed machine, a line per step, and prints its summary', async () => {
    // Act
    const human = await remote(backupArgs('remote'));
    const json = await remote(['--json', ...backupArgs('remote')]);

    // Assess
    expect(human.code).toBe(0);
    expect(human.stderr).toMatch(/^started arn:aws:states:eu-west-1:\d{12}:execution:DbBackup-Backup:backup-etcd-remote-\S+\n/m);
    for (const step of ['Prepare', 'Snapshot', 'Validate', 'Upload', 'Finalize']) expect(human.stderr).toMatch(new RegExp(`\\d\\d:\\d\\d:\\d\\d → ${step}( |\\n)`));
    expect(human.stderr).not.toMatch(/→ (Submit|Poll|Wait) /);
    expect(human.stdout).toMatch(/^execution backup-etcd-remote-\S+: SUCCEEDED/);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ status: 'SUCCEEDED', output: { summary: { engine: 'etcd', instance: 'remote' } } });
    const entries = await rt.catalog.list({ engine: 'etcd', instance: 'remote' });
    expect(entries).toHaveLength(2);
    expect(human.stdout).toContain(entries[1].backupId);
  });

  it('sends the compression and encryption a schedule would give, when asked: a backup started by hand is encoded as the options say', async () => {
    // Act
    const run = await remote([...backupArgs('remote-encoded'), '--compress', '--encrypt-kms', 'arn:aws:kms:eu-west-1:111122223333:key/stack-key', '--no-wait']);

    // Assess: the execution's input (it then fails here, where no KMS answers: not this test's concern)
    expect(run.code).toBe(0);
    const input = JSON.parse(String(sfn.calls.filter((c) => c.operation === 'StartExecution').at(-1)!.input.input)) as Record<string, unknown>;
    expect(input).toMatchObject({ engine: 'etcd', instance: 'remote-encoded', compression: { codec: 'zstd', level: 3 }, encryption: { kms: 'arn:aws:kms:eu-west-1:111122223333:key/stack-key' } });
    await sfn.settled();
  });

  it('shows a failed execution\'s error and cause and exits with the code a run here would', async () => {
    // Prepare: a backup, and a target that holds someone's data
    const backupId = (await rt.backup({ engine: 'etcd', instance: 'remote-fail', config: { endpoints: [etcd.clientUrl] } })).backupId;
    const dataDir = path.join(work, 'occupied', 'data');
    await mkdir(path.join(dataDir, 'member'), { recursive: true });
    await writeFile(path.join(dataDir, 'member', 'precious.txt'), 'keep me\n');
    trackMember(memberPidFile(dataDir));

    // Act
    const run = await remote(['--json', 'restore', backupId, '--target', JSON.stringify({ dataDir, ...(await freeMemberUrls()) }), '--host', HOST,
      '--state-machine', sfn.arnOf('DbBackup-Restore'), '--poll-seconds', '0.2']);

    // Assess
    expect(run.code).toBe(2);
    const result = JSON.parse(run.stdout) as { status: string; error: string; cause: string };
    expect(result).toMatchObject({ status: 'FAILED', error: 'PermanentError', cause: expect.stringMatching(/^TARGET_NOT_EMPTY: /) });
    const human = await remote(['show', sfn.arnOf('DbBackup-Restore').replace(':stateMachine:', ':execution:') + ':' + (JSON.parse(run.stdout) as { name: string }).name]);
    expect(human.stdout).toMatch(/→ Fetch manifest\n/);
    expect(human.stdout).toMatch(/✗ Restore failed\n/);
    expect(human.stdout).toMatch(/: FAILED \(\S+ → \S+\)\n {2}error: PermanentError\n {2}cause: TARGET_NOT_EMPTY: /);
    expect(human.code).toBe(2);
  });

  it('drills the newest backup in the deployed restore machine and reports it restore-verified', async () => {
    // Prepare
    const backupId = (await rt.backup({ engine: 'etcd', instance: 'remote-drill', config: { endpoints: [etcd.clientUrl] } })).backupId;

    // Act
    const run = await remote(['drill', '--engine', 'etcd', '--instance', 'remote-drill', '--host', HOST, '--state-machine', 'DbBackup-Restore', '--poll-seconds', '0.2']);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/→ Drill start\n[\s\S]*→ Record drill\n/);
    expect(run.stdout).toMatch(/drill: restore-verified \(RTO \d+\.\d\d s, /);
    expect((await rt.catalog.get(backupId)).drill).toMatchObject({ ok: true });
  });

  it('starts without waiting, then lists and shows the execution', async () => {
    // Act
    const start = await remote(['--json', ...backupArgs('remote-nowait'), '--no-wait']);
    const { executionArn } = JSON.parse(start.stdout) as { executionArn: string };
    await sfn.settled();
    const list = await remote(['--json', 'list', '--state-machine', 'DbBackup-Backup', '--status', 'SUCCEEDED']);
    const show = await remote(['--json', 'show', executionArn.split(':').pop()!, '--state-machine', 'DbBackup-Backup']);

    // Assess
    expect(start.code).toBe(0);
    expect(executionArn).toMatch(/:execution:DbBackup-Backup:backup-etcd-remote-nowait-/);
    expect((JSON.parse(list.stdout) as Array<{ executionArn: string }>).map((e) => e.executionArn)).toContain(executionArn);
    const shown = JSON.parse(show.stdout) as { status: string; output: { summary: { instance: string } }; steps: Array<{ state: string }> };
    expect(shown).toMatchObject({ status: 'SUCCEEDED', output: { summary: { instance: 'remote-nowait' } } });
    expect(shown.steps.map((s) => s.state)).toEqual(expect.arrayContaining(['Prepare', 'Finalize']));
  });

  it('refuses bad input before anything is sent', async () => {
    // Prepare
    const before = started();
    const target = JSON.stringify({ dataDir: path.join(work, 'x'), clientUrl: 'http://127.0.0.1:1', peerUrl: 'http://127.0.0.1:2' });

    // Act
    const runs = {
      engine: await remote(['backup', 'nosuchdb', '--instance', 'a', '--config', '{}', '--host', HOST, '--state-machine', 'DbBackup-Backup']),
      config: await remote(['backup', 'etcd', '--instance', 'a', '--config', '{"endpoints":"not-a-list"}', '--host', HOST, '--state-machine', 'DbBackup-Backup']),
      inlineSecret: await remote(['restore', 'latest', '--engine', 'etcd', '--instance', 'a', '--target', JSON.stringify({ ...JSON.parse(target), password: 'hunter2' }), '--host', HOST, '--state-machine', 'DbBackup-Restore']),
      envSecret: await remote(['backup', 'etcd', '--instance', 'a', '--config', JSON.stringify({ endpoints: ['http://127.0.0.1:1'], username: 'root', password: { $secret: 'env:PW' } }), '--host', HOST, '--state-machine', 'DbBackup-Backup']),
      latestAlone: await remote(['restore', 'latest', '--target', target, '--host', HOST, '--state-machine', 'DbBackup-Restore']),
      machine: await remote(['backup', 'etcd', '--instance', 'a', '--config', JSON.stringify({ endpoints: ['http://127.0.0.1:1'] }), '--host', HOST, '--state-machine', 'NoSuchMachine']),
      json: await remote(['backup', 'etcd', '--instance', 'a', '--config', '{not json', '--host', HOST, '--state-machine', 'DbBackup-Backup']),
      drillEngine: await remote(['drill', '--engine', 'nosuchdb', '--instance', 'a', '--host', HOST, '--state-machine', 'DbBackup-Restore']),
      host: await remote(['drill', '--engine', 'etcd', '--instance', 'a', '--host', 'drill-box', '--state-machine', 'DbBackup-Restore']),
      fileKey: await remote([...backupArgs('a'), '--encrypt-key', 'file:/etc/dbbackup/backup.key']),
      level: await remote([...backupArgs('a'), '--compress', '30']),
    };

    // Assess
    expect(Object.fromEntries(Object.entries(runs).map(([name, run]) => [name, run.code]))).toEqual({
      engine: 2, config: 2, inlineSecret: 2, envSecret: 2, latestAlone: 2, machine: 2, json: 2, drillEngine: 2, host: 2, fileKey: 2, level: 2,
    });
    expect(runs.fileKey.stderr).toMatch(/encryption: secret reference 'file:\/etc\/dbbackup\/backup\.key' is refused: in AWS secrets come from SSM Parameter Store/);
    expect(runs.level.stderr).toMatch(/--compress takes a zstd level from 1 to 19, not 30/);
    expect(runs.engine.stderr).toMatch(/unknown engine 'nosuchdb'/);
    expect(runs.config.stderr).toMatch(/invalid etcd config: endpoints/);
    expect(runs.inlineSecret.stderr).toMatch(/target\.password: must be a \{ "\$secret"/);
    expect(runs.inlineSecret.stderr).not.toContain('hunter2');
    expect(runs.envSecret.stderr).toMatch(/secret reference 'env:PW' is refused/);
    expect(runs.latestAlone.stderr).toMatch(/restoring `latest` needs engine and instance/);
    expect(runs.machine.stderr).toMatch(/no state machine 'NoSuchMachine' here \(there are: DbBackup-Backup, DbBackup-Restore\)/);
    expect(runs.json.stderr).toMatch(/--config is not valid JSON/);
    expect(runs.drillEngine.stderr).toMatch(/unknown engine 'nosuchdb'/);
    expect(runs.host.stderr).toMatch(/host: 'drill-box' is not an EC2 or SSM managed instance id/);
    expect(started()).toBe(before);
  });
});

