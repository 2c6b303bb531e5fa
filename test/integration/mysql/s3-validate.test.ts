/**
 * A logical MySQL backup streamed straight into S3, through a real `dbbackup` process and the
 * state machine's steps (the snapshot's record read back by the validate step): validation
 * downloads none of the chunks — S3 verified each one's CRC32 on receipt and their heads still
 * report it — while `verify` still reads every one back. s3rver behind a proxy that records what
 * is read.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { runCli } from '../../harness/cli-process';
import { startCountingProxy, type CountingProxy } from '../../harness/counting-proxy';
import { seedShop, startTestMariaDb, stopAllMariaDb, type TestMariaDb } from '../../harness/mariadb';
import { startS3rver, type S3rverHandle } from '../../harness/s3rver';
import { tempDir } from '../../harness/test-run';

let server: TestMariaDb;
let s3: S3rverHandle;
let proxy: CountingProxy;
let work: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  server = await startTestMariaDb('s3-validate', 23);
  const admin = await server.connect();
  await seedShop(admin, { bigRows: 20_000 });
  await admin.end();
  s3 = await startS3rver('backups');
  proxy = await startCountingProxy(s3.endpoint);
  work = await tempDir('s3-validate');
  env = {
    DBBACKUP_STORE: `s3://${s3.bucket}/validated`,
    DBBACKUP_SPOOL_DIR: path.join(work, 'spool'),
    AWS_ENDPOINT_URL_S3: proxy.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
  };
}, 180_000);

afterAll(async () => {
  await stopAllMariaDb();
  await proxy?.stop();
  await s3?.stop();
  await rm(work, { recursive: true, force: true });
});

describe('a logical backup streamed to S3', () => {
  it('is validated without downloading its chunks again; verify still reads every one', async () => {
    // Act
    const backup = await runCli(['--json', 'backup', 'mysql', '--instance', 'shop', '--config', JSON.stringify({ ...server.config(), databases: ['shop'], chunkRows: 5_000 })], env);
    const readByBackup = proxy.counts().gotten;
    proxy.reset();
    const summary = JSON.parse(backup.stdout) as { backupId: string; validation: { ok: boolean }; artifacts: number };
    const verify = await runCli(['--json', 'verify', summary.backupId], env);
    const readByVerify = proxy.counts().gotten;

    // Assess
    expect(backup.code).toBe(0);
    expect(summary.validation.ok).toBe(true);
    const chunksRead = (paths: string[]) => paths.filter((p) => p.endsWith('.tsv.zst'));
    expect(chunksRead(readByBackup)).toEqual([]);
    expect(verify.code).toBe(0);
    expect(chunksRead(readByVerify).length).toBeGreaterThan(4);
  });
});
