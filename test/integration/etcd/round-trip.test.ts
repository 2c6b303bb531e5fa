/**
 * The whole etcd data path against real etcd 3.4 servers: snapshot → validate → upload → prepare →
 * restore → validateRestore, with an independent key-by-key comparison of source and restore.
 */
import { takeSnapshot } from '../../../core/driver/take-snapshot';
import { restoreOnOneNode } from '../../harness/restore-on-one-node';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { LocalDirectoryStore } from '../../../core/store/local-directory-store';
import { EtcdBackupDriver } from '../../../drivers/etcd/backup-driver';
import { memberPidFile } from '../../../drivers/etcd/member';
import { EtcdRestoreDriver } from '../../../drivers/etcd/restore-driver';
import { Etcd3 } from 'etcd3';
import {
  backupRecordOf, currentRevision, etcdBackupContext, etcdRestoreContext, freeMemberUrls, readAllKeys, startTestEtcd,
  stopAllEtcd, tempDir, trackMember, writeKeys, type TestEtcd,
} from '../../harness/etcd';

describe('etcd backup and restore round trip', () => {
  let source: TestEtcd;
  afterAll(stopAllEtcd);

  beforeAll(async () => {
    source = await startTestEtcd('roundtrip');
  });

  it('restores a few thousand keys (binary values, several revisions, a deletion) exactly, and proves it', async () => {
    // Prepare
    const { client } = source;
    await writeKeys(client, 2000, { prefix: 'text/' });
    await writeKeys(client, 1000, { prefix: 'bin/', binary: true, valueBytes: 300 });
    const binaryKey = Buffer.from([0x00, 0xff, 0x10, 0x80]);
    await client.put(binaryKey).value(randomBytes(1000));
    for (let version = 1; version <= 5; version += 1) await client.put('multi/revisioned').value(`v${version}`);
    await client.put('doomed').value('short-lived');
    await client.delete().key('doomed');
    await client.delete().key('text/000007');
    const sourceRevision = await currentRevision(client);
    const sourceKeys = await readAllKeys(client);

    const spoolDir = path.join(await tempDir('spool'), 'bk1');
    await writeFile(path.join(path.dirname(spoolDir), 'unrelated'), 'x');
    await mkdir(spoolDir, { recursive: true });
    await writeFile(path.join(spoolDir, 'snapshot.db.partial'), 'left over by a crashed attempt');
    const store = new LocalDirectoryStore(await tempDir('store'));
    const backup = new EtcdBackupDriver();
    const restore = new EtcdRestoreDriver();
    const ctx = etcdBackupContext(spoolDir, { endpoints: [source.clientUrl] }, 'bk-roundtrip');
    const { clientUrl, peerUrl } = await freeMemberUrls();
    const dataDir = path.join(await tempDir('target'), 'etcd-data');
    trackMember(memberPidFile(dataDir));

    // Act
    const snapshot = await takeSnapshot('etcd', backup, ctx);
    const spooled = await readdir(spoolDir);
    const snapshotReport = await backup.validateSnapshot(ctx, snapshot);
    const uploaded = await backup.upload(ctx, snapshot, { store, prefix: 'etcd/test/bk-roundtrip/data/default' });
    await backup.cleanup(ctx, snapshot);
    const record = backupRecordOf(snapshot, uploaded);
    const rctx = etcdRestoreContext(record, { dataDir, clientUrl, peerUrl }, await tempDir('restore-spool'));
    const prepared = await restore.prepareTarget(rctx);
    const result = await restoreOnOneNode(restore, rctx, prepared, { store, prefix: 'unused' });
    const restoreReport = await restore.validateRestore(rctx, result);

    // Assess
    expect(snapshotReport).toEqual({ ok: true, checks: expect.any(Array) });
    expect(snapshotReport.checks.map((c) => c.name)).toEqual(['artifacts', 'artifact-sha256', 'snapshot-trailer', 'snapshot-status', 'revision', 'snapshot-hash']);
    expect(snapshot.consistency).toMatchObject({
      revision: sourceRevision, endpoint: source.clientUrl, etcdVersion: '3.4.23',
      clusterId: expect.stringMatching(/^[0-9a-f]+$/), memberId: expect.stringMatching(/^[0-9a-f]+$/),
    });
    expect(snapshot.facts).toMatchObject({ keyCount: sourceKeys.length, kvDigest: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(sourceKeys.length).toBe(2000 - 1 + 1000 + 1 + 1);
    expect(spooled).toEqual(['snapshot.db']);
    expect(await readdir(path.dirname(spoolDir))).toEqual(['unrelated']);
    expect(uploaded.artifacts).toEqual([expect.objectContaining({ name: 'snapshot.db', key: 'etcd/test/bk-roundtrip/data/default/snapshot.db' })]);

    expect(prepared.details).toMatchObject({ clusterToken: 'restore-bk-roundtrip' });
    expect(result.endpoint).toMatchObject({ clientUrl, started: true });
    expect(restoreReport.checks.map((c) => [c.name, c.ok])).toEqual([
      ['new-cluster', true], ['revision', true], ['key-count', true], ['kv-digest', true],
    ]);
    expect(restoreReport.ok).toBe(true);

    const restored = new Etcd3({ hosts: [clientUrl] });
    try {
      expect(await currentRevision(restored)).toBe(sourceRevision);
      expect(await readAllKeys(restored)).toEqual(sourceKeys);
      expect(await restored.get('multi/revisioned').string()).toBe('v5');
      expect(await restored.get('doomed').string()).toBeNull();
      // History survives the restore too: an older revision of the multi-revision key is readable.
      const old = await restored.kv.range({ key: Buffer.from('multi/revisioned'), revision: sourceRevision - 3 - 2 });
      expect(old.kvs[0].value.toString()).toBe('v3');
    } finally {
      restored.close();
    }
  });
});
