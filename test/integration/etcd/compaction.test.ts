/**
 * The snapshot's revision when compaction removed its newest entries: `snapshot status` reports
 * the newest entry left (a lower revision than the store's), yet the restored cluster comes back
 * at the store's revision. The driver must record the latter.
 */
import { takeSnapshot } from '../../../core/driver/take-snapshot';
import { restoreOnOneNode } from '../../harness/restore-on-one-node';
import path from 'node:path';
import { Etcd3 } from 'etcd3';
import { LocalDirectoryStore } from '../../../core/store/local-directory-store';
import { EtcdBackupDriver, snapshotRevision } from '../../../drivers/etcd/backup-driver';
import { memberPidFile } from '../../../drivers/etcd/member';
import { EtcdRestoreDriver } from '../../../drivers/etcd/restore-driver';
import {
  backupRecordOf, currentRevision, etcdBackupContext, etcdRestoreContext, freeMemberUrls, startTestEtcd, stopAllEtcd,
  tempDir, trackMember,
} from '../../harness/etcd';

describe('etcd snapshot revision after compaction', () => {
  afterAll(stopAllEtcd);

  it('records the store revision, not the newest surviving entry, and the restore agrees', async () => {
    // Prepare
    const source = await startTestEtcd('compact');
    await source.client.put('a').value('1');
    await source.client.put('b').value('2');
    await source.client.delete().key('a');
    const storeRevision = await currentRevision(source.client);
    await source.client.kv.compact({ revision: storeRevision, physical: true });
    const backup = new EtcdBackupDriver();
    const restore = new EtcdRestoreDriver();
    const store = new LocalDirectoryStore(await tempDir('store'));
    const ctx = etcdBackupContext(path.join(await tempDir('spool'), 'bk'), { endpoints: [source.clientUrl] }, 'bk-compact');
    const dataDir = path.join(await tempDir('target'), 'data');
    trackMember(memberPidFile(dataDir));

    // Act
    const snapshot = await takeSnapshot('etcd', backup, ctx);
    const validation = await backup.validateSnapshot(ctx, snapshot);
    const record = backupRecordOf(snapshot, await backup.upload(ctx, snapshot, { store, prefix: 'etcd/compact' }));
    const rctx = etcdRestoreContext(record, { dataDir, ...(await freeMemberUrls()) }, await tempDir('rspool'));
    const result = await restoreOnOneNode(restore, rctx, await restore.prepareTarget(rctx), { store, prefix: 'etcd/compact' });
    const report = await restore.validateRestore(rctx, result);

    // Assess
    expect(snapshot.facts.snapshotRevision).toBe(storeRevision - 1);
    expect(snapshot.consistency.revision).toBe(storeRevision);
    expect(snapshot.facts.keyCount).toBe(1);
    expect(validation.ok).toBe(true);
    expect(report.ok).toBe(true);
    const restored = new Etcd3({ hosts: [String(result.endpoint.clientUrl)] });
    try {
      expect(await currentRevision(restored)).toBe(storeRevision);
    } finally {
      restored.close();
    }
  });

  it('snapshotRevision: trusts the status revision unless compaction hid the newest entries', () => {
    // Act
    const normal = snapshotRevision(120, 100, 130);
    const quietCompacted = snapshotRevision(3, 4, 4);
    const ambiguous = () => snapshotRevision(3, 4, 9);

    // Assess
    expect(normal).toBe(120);
    expect(quietCompacted).toBe(4);
    expect(ambiguous).toThrow(expect.objectContaining({ name: 'TransientError', code: 'SNAPSHOT_REVISION_UNKNOWN' }));
  });
});
