/** Member processes and the snapshot tools on this host (etcd 3.4: etcdctl, no etcdutl). */
import { takeSnapshot } from '../../../core/driver/take-snapshot';
import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { detectEtcdTool, snapshotRestore, snapshotStatus } from '../../../drivers/etcd/etcd-tools';
import { memberPidFile, startLocalEtcd, startMember, stopMember } from '../../../drivers/etcd/member';
import { EtcdBackupDriver } from '../../../drivers/etcd/backup-driver';
import { isAlive } from '../../../core/host/processes';
import { freePort } from '../../harness/ports';
import { etcdBackupContext, startTestEtcd, stopAllEtcd, tempDir, trackMember, writeKeys } from '../../harness/etcd';

/** A zombie (ended, not yet reaped by this test process) is not running: the same rule stop() waits on. */
const alive = isAlive;

describe('etcd members', () => {
  afterAll(stopAllEtcd);

  it('startLocalEtcd runs a ready single-node etcd with a pid file and log next to its data dir; stop() ends it', async () => {
    // Prepare
    const dir = await tempDir('member');
    const clientPort = await freePort();
    const peerPort = await freePort();

    // Act
    const etcd = await startLocalEtcd({ dir, clientPort, peerPort });
    trackMember(memberPidFile(etcd.dataDir));
    const pidFileText = await readFile(memberPidFile(etcd.dataDir), 'utf8');
    const runningBeforeStop = alive(etcd.pid);
    await etcd.stop();

    // Assess
    expect(etcd.clientUrl).toBe(`http://127.0.0.1:${clientPort}`);
    expect(etcd.dataDir).toBe(path.join(dir, 'data'));
    expect(Number(pidFileText)).toBe(etcd.pid);
    expect(runningBeforeStop).toBe(true);
    expect(alive(etcd.pid)).toBe(false);
    await expect(access(memberPidFile(etcd.dataDir))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readFile(etcd.logFile, 'utf8')).toContain('ready to serve client requests');
  });

  it('a member that cannot start fails fast with ETCD_START_FAILED and the log tail', async () => {
    // Prepare
    const busy = await startTestEtcd('busy');
    const dataDir = path.join(await tempDir('clash'), 'data');
    trackMember(memberPidFile(dataDir));

    // Act
    const started = Date.now();
    const error = await startMember({ name: 'clash', dataDir, clientUrl: busy.clientUrl, peerUrl: `http://127.0.0.1:${await freePort()}` })
      .catch((e: unknown) => e);

    // Assess
    expect(error).toMatchObject({ name: 'PermanentError', code: 'ETCD_START_FAILED' });
    expect((error as Error).message).toMatch(/exited before it became ready[\s\S]*address already in use/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('stopMember ignores a stale pid file whose pid is not an etcd', async () => {
    // Prepare
    const pidFile = path.join(await tempDir('stale'), 'x.etcd.pid');
    await writeFile(pidFile, `${process.pid}\n`);

    // Act
    await stopMember(pidFile);

    // Assess
    expect(alive(process.pid)).toBe(true);
    await expect(access(pidFile)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('etcd snapshot tools on this host', () => {
  afterAll(stopAllEtcd);

  it('detects etcdctl (3.4) here, reads a real snapshot\'s status, and reports a failing restore with its stderr', async () => {
    // Prepare
    const source = await startTestEtcd('tools');
    await writeKeys(source.client, 20);
    const ctx = etcdBackupContext(path.join(await tempDir('spool'), 'bk'), { endpoints: [source.clientUrl] });
    const snapshot = await takeSnapshot('etcd', new EtcdBackupDriver(), ctx);
    const file = path.join(snapshot.spoolDir, 'snapshot.db');
    const occupied = path.join(await tempDir('occupied'), 'data');
    await mkdir(path.join(occupied, 'member'), { recursive: true });
    const tool = detectEtcdTool();

    // Act
    const status = await snapshotStatus(file, tool);
    const failed = await snapshotRestore({ snapshotPath: file, name: 'r', dataDir: occupied, peerUrl: 'http://127.0.0.1:2', clusterToken: 't' }, tool)
      .catch((e: unknown) => e);

    // Assess
    expect(tool.flavour).toBe('etcdctl');
    expect(status.revision).toBe(snapshot.consistency.revision);
    expect(status.totalKey).toBeGreaterThan(20);
    expect(failed).toMatchObject({ name: 'PermanentError', code: 'ETCD_TOOL_FAILED' });
    expect((failed as Error).message).toMatch(/etcdctl snapshot restore .* exited with code 1: .*exists/s);
  });
});
