/**
 * A corrupted snapshot must never pass: flipping one byte of the spooled snapshot.db is caught by
 * validateSnapshot (sha256 and etcd's trailer), by the streaming trailer check, and by the restore
 * tool's own hash check.
 */
import { takeSnapshot } from '../../../core/driver/take-snapshot';
import { createReadStream } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { writeArtifact } from '../../../core/driver/spool';
import { EtcdBackupDriver } from '../../../drivers/etcd/backup-driver';
import { detectEtcdTool, snapshotRestore } from '../../../drivers/etcd/etcd-tools';
import { SnapshotTrailerCheck, verifySnapshotFile } from '../../../drivers/etcd/snapshot-trailer';
import { etcdBackupContext, startTestEtcd, stopAllEtcd, tempDir, writeKeys, type TestEtcd } from '../../harness/etcd';

async function flipByte(file: string, offset: number): Promise<void> {
  const handle = await open(file, 'r+');
  try {
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, offset);
    byte[0] ^= 0x01;
    await handle.write(byte, 0, 1, offset);
  } finally {
    await handle.close();
  }
}

describe('corrupted etcd snapshots', () => {
  let source: TestEtcd;
  afterAll(stopAllEtcd);
  beforeAll(async () => {
    source = await startTestEtcd('corrupt');
    await writeKeys(source.client, 500);
  });

  it('validateSnapshot passes an intact spool and refuses it after one byte is flipped', async () => {
    // Prepare
    const backup = new EtcdBackupDriver();
    const ctx = etcdBackupContext(path.join(await tempDir('spool'), 'bk'), { endpoints: [source.clientUrl] });
    const snapshot = await takeSnapshot('etcd', backup, ctx);
    const file = path.join(snapshot.spoolDir, 'snapshot.db');
    const before = await backup.validateSnapshot(ctx, snapshot);
    const { size } = await stat(file);
    await flipByte(file, Math.floor(size / 2));

    // Act
    const after = await backup.validateSnapshot(ctx, snapshot);

    // Assess
    expect(before.ok).toBe(true);
    expect(after.ok).toBe(false);
    const failed = Object.fromEntries(after.checks.map((c) => [c.name, c]));
    expect(failed['artifact-sha256']).toMatchObject({ ok: false, detail: expect.stringContaining('does not match its checksum') });
    expect(failed['snapshot-trailer']).toMatchObject({ ok: false, detail: expect.stringContaining('is corrupt') });
  });

  it('a missing spool file is a failed check, not a crash', async () => {
    // Prepare
    const backup = new EtcdBackupDriver();
    const ctx = etcdBackupContext(path.join(await tempDir('spool'), 'bk'), { endpoints: [source.clientUrl] });
    const snapshot = await takeSnapshot('etcd', backup, ctx);
    await backup.cleanup(ctx, snapshot);

    // Act
    const report = await backup.validateSnapshot(ctx, snapshot);

    // Assess
    expect(report.ok).toBe(false);
    expect(report.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(
      expect.arrayContaining(['artifact-sha256', 'snapshot-trailer', 'snapshot-status']),
    );
  });

  it('the streaming trailer check refuses the corrupted bytes and leaves no artifact behind', async () => {
    // Prepare
    const backup = new EtcdBackupDriver();
    const ctx = etcdBackupContext(path.join(await tempDir('spool'), 'bk'), { endpoints: [source.clientUrl] });
    const snapshot = await takeSnapshot('etcd', backup, ctx);
    const file = path.join(snapshot.spoolDir, 'snapshot.db');
    await flipByte(file, 4096 + 17);
    const respool = await tempDir('respool');

    // Act
    const direct = verifySnapshotFile(file);
    const streamed = writeArtifact(respool, 'snapshot.db', createReadStream(file), new SnapshotTrailerCheck(file));

    // Assess
    await expect(direct).rejects.toMatchObject({ name: 'PermanentError', code: 'SNAPSHOT_CORRUPT' });
    await expect(streamed).rejects.toMatchObject({ name: 'PermanentError', code: 'SNAPSHOT_CORRUPT' });
    expect(await readdir(respool)).toEqual([]);
  });

  it('etcdctl snapshot restore also refuses it, and the error carries the tool\'s stderr', async () => {
    // Prepare
    const backup = new EtcdBackupDriver();
    const ctx = etcdBackupContext(path.join(await tempDir('spool'), 'bk'), { endpoints: [source.clientUrl] });
    const snapshot = await takeSnapshot('etcd', backup, ctx);
    const file = path.join(snapshot.spoolDir, 'snapshot.db');
    await flipByte(file, 100);
    const dataDir = path.join(await tempDir('target'), 'data');

    // Act
    const restore = snapshotRestore({ snapshotPath: file, name: 'r', dataDir, peerUrl: 'http://127.0.0.1:1', clusterToken: 't' }, detectEtcdTool());

    // Assess
    await expect(restore).rejects.toMatchObject({ code: 'SNAPSHOT_CORRUPT', message: expect.stringMatching(/etcdctl snapshot restore .* exited with code \d+: .*sha256/s) });
  });
});
