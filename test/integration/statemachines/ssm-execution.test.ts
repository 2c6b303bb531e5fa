/**
 * The AWS data path on one machine, as a database host runs it: the state machines run in
 * process, and every host step goes through the real @aws-sdk/client-ssm to the SSM stand-in,
 * which checks it against the project's agent-step document and runs the INSTALLED agent — the
 * `npm pack` of this repository installed with `npm install -g` on a clean prefix — with the SSM
 * agent's environment (only PATH, HOME, AWS_SSM_REGION_NAME, AWS_SSM_INSTANCE_ID). The bucket is a
 * real S3 protocol server that, like S3, lives in one region (eu-west-1, the "stack's") and refuses
 * requests signed for any other. The host's AWS credentials come from its ~/.aws, as an instance's
 * would from its role; the store, region and S3 endpoint come from the document.
 */
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { memberPidFile, stopMember } from '../../../drivers/etcd/member';
import { processesNaming } from '../../../core/host/processes-naming';
import { agentStepDocument } from '../../../core/host-runner/agent-document';
import { SsmHostRunner } from '../../../core/host-runner/ssm-runner';
import { openStore, s3OptionsFromEnv } from '../../../core/store/open-store';
import { SYSTEM_PATH, startSsmStandin, withNodeDir, type SsmStandin } from '../../harness/ssm-standin';
import { freeMemberUrls, startTestEtcd, stopAllEtcd, tempDir, writeKeys, type TestEtcd } from '../../harness/etcd';
import { installPackedAgent, type InstalledAgent } from '../../harness/installed-agent';
import { startRegionalS3, type RegionalS3 } from '../../harness/regional-s3';
import { createTestRuntime, type TestRuntime } from '../../harness/runtime';
import { startTestS3, type TestS3 } from '../../harness/s3';

const HOST = 'i-0123456789abcdef0';
const REGION = 'eu-west-1';
const DOCUMENT = 'DbBackup-AgentStep';
let installed: InstalledAgent;
let etcd: TestEtcd;
let s3: TestS3;
let bucket: RegionalS3;
let ssm: SsmStandin;
let rt: TestRuntime;
let hostSpool: string;
/** The host's one restore root (DBBACKUP_RESTORE_ROOTS). */
let restoreRoot: string;

beforeAll(async () => {
  installed = await installPackedAgent();
  process.stderr.write(`installed dbbackup (npm pack + npm install -g): ${(installed.installedBytes / 1e6).toFixed(1)} MB, ${installed.packages.length} packages\n`);
  s3 = await startTestS3();
  bucket = await startRegionalS3(s3.env.AWS_ENDPOINT_URL_S3 ?? '', REGION);
  etcd = await startTestEtcd('ssm');
  await writeKeys(etcd.client, 100);
  const home = await tempDir('ssm-host-home');
  await mkdir(path.join(home, '.aws'));
  await writeFile(path.join(home, '.aws', 'credentials'), `[default]\naws_access_key_id = ${s3.env.AWS_ACCESS_KEY_ID}\naws_secret_access_key = ${s3.env.AWS_SECRET_ACCESS_KEY}\n`);
  const storeUrl = s3.storeUrl();
  const document = agentStepDocument({
    storeUrl,
    region: REGION,
    // The host's own configuration: where a restore may write (in AWS, a restore anywhere else is refused).
    environment: { AWS_ENDPOINT_URL_S3: bucket.endpoint, DBBACKUP_SPOOL_DIR: (hostSpool = await tempDir('ssm-host-spool')), DBBACKUP_RESTORE_ROOTS: (restoreRoot = await tempDir('ssm-restore-root')) },
  });
  ssm = await startSsmStandin({
    region: REGION, instanceIds: [HOST], documents: { [DOCUMENT]: document }, home, path: withNodeDir(`${installed.binDir}:${SYSTEM_PATH}`),
  });
  // The functions' side (a Lambda in the stack's region) reads the results and state from the same bucket.
  const functionsEnv = { ...s3.env, AWS_ENDPOINT_URL_S3: bucket.endpoint, AWS_REGION: REGION };
  const hostRunner = new SsmHostRunner({ clientConfig: ssm.clientConfig, documentName: DOCUMENT, resultStore: openStore(storeUrl, s3OptionsFromEnv(functionsEnv)) });
  rt = await createTestRuntime({ storeUrl, env: functionsEnv, workflows: { hostRunner, hostStepTimeoutSeconds: 120, waitMs: 100 } });
}, 300_000);
afterAll(async () => {
  await stopAllEtcd();
  await ssm?.stop();
  await rt?.dispose();
  await bucket?.stop();
  await s3?.stop();
  await installed?.remove();
});

it('the installed package holds the built CLI and its production dependencies only: no CDK, no local runner, no TypeScript loader', () => {
  // Assess
  expect(installed.packages).toEqual(expect.arrayContaining(['@aws-sdk/client-s3', 'etcd3', 'mysql2']));
  for (const devOnly of ['aws-cdk-lib', 'constructs', 'aws-local-stepfunctions', 'tsx', 'typescript', 'esbuild', 'jest']) {
    expect(installed.packages).not.toContain(devOnly);
  }
  expect(installed.installedBytes).toBeLessThan(100e6);
});

it('backs up and restores with every host step sent through SSM Run Command to the installed agent, signed for the bucket\'s region', async () => {
  // Act
  const backup = await rt.execute('backup', { engine: 'etcd', instance: 'ssm', config: { endpoints: [etcd.clientUrl] }, host: HOST });
  const backupId = (backup.output as { summary: { backupId: string } }).summary.backupId;
  const dataDir = path.join(restoreRoot, 'ssm-restore', 'data');
  const restore = await rt.execute('restore', { backupId, target: { dataDir, ...(await freeMemberUrls()) }, host: HOST });
  await stopMember(memberPidFile(dataDir));

  // Assess
  const sent = ssm.calls.filter((c) => c.operation === 'SendCommand');
  expect(sent.map((c) => (c.input.Parameters as { step: string[] }).step[0])).toEqual([
    'backup-snapshot', 'backup-validate', 'backup-upload', 'backup-cleanup',
    'restore-prepare', 'restore-stage', 'restore-apply', 'restore-start', 'restore-validate',
  ]);
  expect(sent.every((c) => c.input.DocumentName === DOCUMENT && JSON.stringify(c.input.InstanceIds) === JSON.stringify([HOST]))).toBe(true);
  expect(JSON.stringify(sent.map((c) => c.input))).not.toContain('password');
  expect(backup.path).toEqual(expect.arrayContaining(['Poll snapshot']));
  expect((restore.output as { report: { validation: { ok: boolean } } }).report.validation.ok).toBe(true);
  expect(new Set(bucket.signedRegions)).toEqual(new Set([REGION]));
});

it('refuses, on the host, a restore into a directory outside the host\'s restore roots, forced or not: the console cannot have the agent write anywhere', async () => {
  // Prepare
  const backup = await rt.execute('backup', { engine: 'etcd', instance: 'ssm-elsewhere', config: { endpoints: [etcd.clientUrl] }, host: HOST });
  const backupId = (backup.output as { summary: { backupId: string } }).summary.backupId;
  const elsewhere = path.join(await tempDir('ssm-elsewhere'), 'data');

  // Act
  const error = await rt.execute('restore', { backupId, target: { dataDir: elsewhere, ...(await freeMemberUrls()) }, host: HOST }).then(() => undefined, (e: unknown) => e);

  // Assess
  expect(error).toMatchObject({ errorName: 'PermanentError', causeText: expect.stringContaining(`RESTORE_ROOT_REFUSED: the restore would write ${elsewhere}, which is not inside the restore roots this host allows (${restoreRoot}); a restore started in AWS writes only inside the directories the host's own configuration names in DBBACKUP_RESTORE_ROOTS`) });
  await expect(stat(elsewhere)).rejects.toMatchObject({ code: 'ENOENT' });
});

it('drills a backup on the drill host through SSM: scratch member started, restored, validated and torn down there, the verdict beside the backup', async () => {
  // Prepare
  const backup = await rt.execute('backup', { engine: 'etcd', instance: 'ssm-drill', config: { endpoints: [etcd.clientUrl] }, host: HOST });
  const backupId = (backup.output as { summary: { backupId: string } }).summary.backupId;
  const before = ssm.calls.length;

  // Act
  const drill = await rt.drill({ backupId, engine: 'etcd', instance: 'ssm-drill', host: HOST });

  // Assess
  const sent = ssm.calls.slice(before).filter((c) => c.operation === 'SendCommand');
  expect(sent.map((c) => (c.input.Parameters as { step: string[] }).step[0])).toEqual([
    'drill-start', 'restore-prepare', 'restore-stage', 'restore-apply', 'restore-start', 'restore-validate', 'drill-teardown',
  ]);
  expect(sent.every((c) => JSON.stringify(c.input.InstanceIds) === JSON.stringify([HOST]))).toBe(true);
  expect(drill).toMatchObject({ backupId, ok: true, target: 'a scratch etcd member on this host' });
  expect(drill.checks.filter((c) => !c.ok)).toEqual([]);
  expect((await rt.catalog.get(backupId)).drill).toEqual(drill);
  expect(await processesNaming(path.join(hostSpool, 'drill'))).toEqual([]);
  expect(await readdir(path.join(hostSpool, 'drill'))).toEqual([]);
});
