/**
 * A snapshot taken while a writer keeps writing: the recorded revision and kv digest must describe
 * exactly what the snapshot holds, so the restored cluster matches them, and matches the source as
 * it was at that revision — not as it was before or after.
 */
import { takeSnapshot } from '../../../core/driver/take-snapshot';
import { restoreOnOneNode } from '../../harness/restore-on-one-node';
import path from 'node:path';
import { Etcd3 } from 'etcd3';
import { LocalDirectoryStore } from '../../../core/store/local-directory-store';
import { EtcdBackupDriver } from '../../../drivers/etcd/backup-driver';
import { computeKvDigest } from '../../../drivers/etcd/kv-digest';
import { memberPidFile } from '../../../drivers/etcd/member';
import { EtcdRestoreDriver } from '../../../drivers/etcd/restore-driver';
import {
  backupRecordOf, currentRevision, etcdBackupContext, etcdRestoreContext, freeMemberUrls, readAllKeys, startTestEtcd,
  stopAllEtcd, tempDir, trackMember, writeKeys, type TestEtcd,
} from '../../harness/etcd';

/** Writes (puts and deletes) as fast as it can until stopped; counts its writes. */
function startWriter(client: Etcd3) {
  let stopped = false;
  let writes = 0;
  const done = (async () => {
    while (!stopped) {
      const n = writes;
      if (n % 7 === 6) await client.delete().key(`bulk/${String(n % 5000).padStart(6, '0')}`);
      else await client.put(`live/${n % 300}`).value(`write-${n}`);
      writes += 1;
    }
  })();
  return {
    get writes() { return writes; },
    async waitFor(count: number) { while (writes < count) await new Promise((r) => setTimeout(r, 5)); },
    async stop() { stopped = true; await done; },
  };
}

describe('etcd snapshot under concurrent writes', () => {
  let source: TestEtcd;
  afterAll(stopAllEtcd);
  beforeAll(async () => { source = await startTestEtcd('live'); });

  it('records the revision and digest the snapshot actually holds, and the restore matches them exactly', async () => {
    // Prepare
    await writeKeys(source.client, 5000, { prefix: 'bulk/', valueBytes: 2048 });
    const writer = startWriter(source.client);
    await writer.waitFor(100);
    const revisionWhenWriterRan = await currentRevision(source.client);
    const spoolDir = path.join(await tempDir('spool'), 'live');
    const store = new LocalDirectoryStore(await tempDir('store'));
    const backup = new EtcdBackupDriver();
    const restore = new EtcdRestoreDriver();
    const ctx = etcdBackupContext(spoolDir, { endpoints: [source.clientUrl] }, 'bk-live');
    const { clientUrl, peerUrl } = await freeMemberUrls();
    const dataDir = path.join(await tempDir('target'), 'etcd-data');
    trackMember(memberPidFile(dataDir));

    // Act
    const snapshot = await takeSnapshot('etcd', backup, ctx);
    const writesAtSnapshotEnd = writer.writes;
    await writer.waitFor(writesAtSnapshotEnd + 100);
    await writer.stop();
    const uploaded = await backup.upload(ctx, snapshot, { store, prefix: 'etcd/live' });
    const rctx = etcdRestoreContext(backupRecordOf(snapshot, uploaded), { dataDir, clientUrl, peerUrl }, await tempDir('restore-spool'));
    const result = await restoreOnOneNode(restore, rctx, await restore.prepareTarget(rctx), { store, prefix: 'etcd/live' });
    const report = await restore.validateRestore(rctx, result);

    // Assess
    const recorded = Number(snapshot.consistency.revision);
    const finalRevision = await currentRevision(source.client);
    // The snapshot really was taken mid-stream: it includes some of the writer's writes, not all of them.
    expect(recorded).toBeGreaterThan(revisionWhenWriterRan);
    expect(finalRevision).toBeGreaterThan(recorded);
    // ...and the content did change after the snapshot, so a digest of "latest" would not match.
    const latest = await computeKvDigest(source.client, finalRevision);
    expect(latest.digest).not.toBe(snapshot.facts.kvDigest);

    expect(report.ok).toBe(true);
    const restored = new Etcd3({ hosts: [clientUrl] });
    try {
      expect(await currentRevision(restored)).toBe(recorded);
      expect(await readAllKeys(restored)).toEqual(await readAllKeys(source.client, recorded));
      expect((await computeKvDigest(restored, recorded)).digest).toBe(snapshot.facts.kvDigest);
    } finally {
      restored.close();
    }
  });
});
