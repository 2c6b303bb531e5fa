/**
 * How createSnapshot behaves towards the cluster: unreachable endpoints are transient (retry),
 * a dead first endpoint falls over to the next, bad credentials are permanent.
 */
import { takeSnapshot } from '../../../core/driver/take-snapshot';
import { restoreOnOneNode } from '../../harness/restore-on-one-node';
import path from 'node:path';
import { classify, isTransient, PermanentError, TransientError } from '../../../core/errors';
import { EtcdBackupDriver } from '../../../drivers/etcd/backup-driver';
import { mapEtcdError } from '../../../drivers/etcd/errors';
import { freePort } from '../../harness/ports';
import { LocalDirectoryStore } from '../../../core/store/local-directory-store';
import { memberPidFile } from '../../../drivers/etcd/member';
import { EtcdRestoreDriver } from '../../../drivers/etcd/restore-driver';
import {
  backupRecordOf, etcdBackupContext, etcdRestoreContext, freeMemberUrls, startTestEtcd, stopAllEtcd, tempDir, trackMember,
  writeKeys, type TestEtcd,
} from '../../harness/etcd';

describe('etcd connectivity and credentials', () => {
  let source: TestEtcd;
  afterAll(stopAllEtcd);
  beforeAll(async () => {
    source = await startTestEtcd('conn');
    await writeKeys(source.client, 50);
  });

  it('an unreachable endpoint fails with TransientError ETCD_UNAVAILABLE naming the endpoint', async () => {
    // Prepare
    const deadUrl = `http://127.0.0.1:${await freePort()}`;
    const backup = new EtcdBackupDriver();
    const ctx = etcdBackupContext(path.join(await tempDir('spool'), 'bk'), { endpoints: [deadUrl], dialTimeoutMs: 1000 });

    // Act
    const run = takeSnapshot('etcd', backup, ctx);

    // Assess
    const error = await run.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    expect(error).toMatchObject({ code: 'ETCD_UNAVAILABLE', engine: 'etcd', message: expect.stringMatching(new RegExp(`^etcd is unavailable: .*ECONNREFUSED.* \\(endpoint tried: ${deadUrl}\\)$`)) });
    expect((error as Error).message).not.toContain('Resolution note');
    expect(isTransient(classify(error, mapEtcdError))).toBe(true);
  });

  it('falls over to the next endpoint and records which member took the snapshot', async () => {
    // Prepare
    const deadUrl = `http://127.0.0.1:${await freePort()}`;
    const backup = new EtcdBackupDriver();
    const ctx = etcdBackupContext(path.join(await tempDir('spool'), 'bk'), { endpoints: [deadUrl, source.clientUrl], dialTimeoutMs: 1000 });

    // Act
    const snapshot = await takeSnapshot('etcd', backup, ctx);

    // Assess
    expect(snapshot.consistency.endpoint).toBe(source.clientUrl);
    expect(snapshot.facts.keyCount).toBe(50);
  });

  it('with auth enabled: a wrong password is PermanentError AUTH_FAILED (ETCD_AUTH), the right one works, and the restore keeps auth', async () => {
    // Prepare
    const secured = await startTestEtcd('auth');
    await writeKeys(secured.client, 10);
    await secured.client.role('root').create();
    const root = await secured.client.user('root').create('s3cret');
    await root.addRole('root');
    await secured.client.auth.authEnable();
    const backup = new EtcdBackupDriver();
    const spool = await tempDir('spool');
    const wrong = etcdBackupContext(path.join(spool, 'wrong'), { endpoints: [secured.clientUrl], username: 'root', password: 'nope' });
    const right = etcdBackupContext(path.join(spool, 'right'), { endpoints: [secured.clientUrl], username: 'root', password: 's3cret' });
    const store = new LocalDirectoryStore(await tempDir('store'));
    const restore = new EtcdRestoreDriver();
    const dataDir = path.join(await tempDir('target'), 'data');
    trackMember(memberPidFile(dataDir));
    const urls = await freeMemberUrls();

    // Act
    const refused = await takeSnapshot('etcd', backup, wrong).catch((e: unknown) => e);
    // Without credentials, etcd answers status but refuses the snapshot stream, whose messages may
    // end before its error: each attempt must still say why (it was taken for an empty, corrupt snapshot).
    const anonymous: unknown[] = [];
    for (let i = 0; i < 5; i += 1) {
      anonymous.push(await takeSnapshot('etcd', backup, etcdBackupContext(path.join(spool, `anonymous-${i}`), { endpoints: [secured.clientUrl] })).catch((e: unknown) => e));
    }
    const snapshot = await takeSnapshot('etcd', backup, right);
    const record = backupRecordOf(snapshot, await backup.upload(right, snapshot, { store, prefix: 'etcd/auth' }));
    const withoutCredentials = etcdRestoreContext(record, { dataDir, ...urls }, await tempDir('rspool'));
    const withCredentials = etcdRestoreContext(record, { dataDir, ...urls, username: 'root', password: 's3cret' }, withoutCredentials.spoolDir);
    const result = await restoreOnOneNode(restore, withoutCredentials, await restore.prepareTarget(withoutCredentials), { store, prefix: 'etcd/auth' });
    const unauthenticated = await restore.validateRestore(withoutCredentials, result).catch((e: unknown) => e);
    const report = await restore.validateRestore(withCredentials, result);

    // Assess
    expect(refused).toBeInstanceOf(PermanentError);
    expect(refused).toMatchObject({ code: 'AUTH_FAILED', message: expect.stringMatching(/^authentication failed \(ETCD_AUTH\): .*authentication failed/) });
    expect(anonymous.map((e) => (e as { code?: string }).code)).toEqual(Array(5).fill('AUTH_FAILED'));
    expect(snapshot.facts.keyCount).toBe(10);
    expect(unauthenticated).toMatchObject({ name: 'PermanentError', code: 'AUTH_FAILED' });
    expect(report.ok).toBe(true);
  });
});
