/**
 * The AWS data path on one machine: the state machines run in process, and every host step goes
 * through the real @aws-sdk/client-ssm to an SSM-protocol stand-in that runs the real host agent
 * (`dbbackup agent ...`) on "the database host", with the store in a real S3 protocol server.
 */
import path from 'node:path';
import { memberPidFile, stopMember } from '../../../drivers/etcd/member';
import { SsmHostRunner } from '../../../core/host-runner/ssm-runner';
import { openStore, s3OptionsFromEnv } from '../../../core/store/open-store';
import { startSsmStandin, type SsmStandin } from '../../harness/ssm-standin';
import { freeMemberUrls, startTestEtcd, stopAllEtcd, tempDir, writeKeys, type TestEtcd } from '../../harness/etcd';
import { createTestRuntime, type TestRuntime } from '../../harness/runtime';
import { startTestS3, type TestS3 } from '../../harness/s3';

const HOST = 'i-0123456789abcdef0';
const AGENT = `${process.execPath} ${path.resolve(__dirname, '../../../bin/dbbackup.js')}`;
let etcd: TestEtcd;
let s3: TestS3;
let ssm: SsmStandin;
let rt: TestRuntime;

beforeAll(async () => {
  s3 = await startTestS3();
  etcd = await startTestEtcd('ssm');
  await writeKeys(etcd.client, 100);
  const spool = await tempDir('ssm-host-spool');
  ssm = await startSsmStandin({ instanceIds: [HOST], env: { ...process.env, ...s3.env, DBBACKUP_SPOOL_DIR: spool } });
  const storeUrl = s3.storeUrl();
  const hostRunner = new SsmHostRunner({
    clientConfig: ssm.clientConfig, agentCommand: AGENT, storeUrl, resultStore: openStore(storeUrl, s3OptionsFromEnv(s3.env)),
  });
  rt = await createTestRuntime({ storeUrl, env: s3.env, workflows: { hostRunner, hostStepTimeoutSeconds: 120, waitMs: 100 } });
});
afterAll(async () => {
  await stopAllEtcd();
  await ssm?.stop();
  await rt?.dispose();
  await s3?.stop();
});

it('backs up and restores with every host step sent through SSM Run Command to the host agent', async () => {
  // Act
  const backup = await rt.execute('backup', { engine: 'etcd', instance: 'ssm', config: { endpoints: [etcd.clientUrl] }, host: HOST });
  const backupId = (backup.output as { summary: { backupId: string } }).summary.backupId;
  const dataDir = path.join(await tempDir('ssm-restore'), 'data');
  const restore = await rt.execute('restore', { backupId, target: { dataDir, ...(await freeMemberUrls()) }, host: HOST });
  await stopMember(memberPidFile(dataDir));

  // Assess
  const sent = ssm.calls.filter((c) => c.operation === 'SendCommand');
  const steps = sent.map((c) => /agent ([a-z-]+)/.exec(JSON.stringify(c.input))?.[1]);
  expect(steps).toEqual([
    'backup-snapshot', 'backup-validate', 'backup-upload', 'backup-cleanup',
    'restore-prepare', 'restore-apply', 'restore-validate',
  ]);
  expect(sent.every((c) => JSON.stringify(c.input.InstanceIds) === JSON.stringify([HOST]))).toBe(true);
  expect(JSON.stringify(sent.map((c) => c.input))).not.toContain('"password"');
  expect(backup.path).toEqual(expect.arrayContaining(['Poll snapshot']));
  expect((restore.output as { report: { validation: { ok: boolean } } }).report.validation.ok).toBe(true);
});
