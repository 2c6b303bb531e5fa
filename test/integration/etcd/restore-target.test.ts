/**
 * Restore targets: a non-empty data dir is refused without force and replaced with it; a busy port
 * is refused; a retried restore starts clean; validateRestore catches a restore that does not
 * match the backup; `start: false` leaves the member stopped but still validates.
 */
import { takeSnapshot } from '../../../core/driver/take-snapshot';
import { restoreOnOneNode } from '../../harness/restore-on-one-node';
import { access, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { LocalDirectoryStore } from '../../../core/store/local-directory-store';
import type { BackupRecord } from '../../../core/driver/types';
import { EtcdBackupDriver } from '../../../drivers/etcd/backup-driver';
import { memberPid, memberPidFile, stopMember } from '../../../drivers/etcd/member';
import { etcdScratch } from '../../../drivers/etcd/scratch';
import { silentLogger } from '../../../core/logger';
import { EtcdRestoreDriver } from '../../../drivers/etcd/restore-driver';
import {
  backupRecordOf, etcdBackupContext, etcdRestoreContext, freeMemberUrls, startTestEtcd, stopAllEtcd, tempDir, trackMember,
  writeKeys, type TestEtcd,
} from '../../harness/etcd';

describe('etcd restore targets', () => {
  let source: TestEtcd;
  let store: LocalDirectoryStore;
  let record: BackupRecord;
  const restore = new EtcdRestoreDriver();
  afterAll(stopAllEtcd);

  beforeAll(async () => {
    source = await startTestEtcd('target');
    await writeKeys(source.client, 300);
    store = new LocalDirectoryStore(await tempDir('store'));
    const backup = new EtcdBackupDriver();
    const ctx = etcdBackupContext(path.join(await tempDir('spool'), 'bk'), { endpoints: [source.clientUrl] }, 'bk-target');
    const snapshot = await takeSnapshot('etcd', backup, ctx);
    record = backupRecordOf(snapshot, await backup.upload(ctx, snapshot, { store, prefix: 'etcd/target' }));
  });

  async function newTarget(extra: Record<string, unknown> = {}) {
    const urls = await freeMemberUrls();
    const dataDir = path.join(await tempDir('target'), 'data');
    trackMember(memberPidFile(dataDir));
    return { dataDir, ...urls, ...extra };
  }

  it('starts a restored member with etcd\'s own election timings; one in milliseconds only when the target asks (as a drill\'s scratch member does)', async () => {
    // Prepare
    const serving = await newTarget();
    const checked = await newTarget({ fastElections: true });
    const flagsOf = async (dataDir: string) => (await readFile(`/proc/${await memberPid(memberPidFile(dataDir))}/cmdline`, 'utf8')).split('\0').filter((a) => /^--(heartbeat-interval|election-timeout)=/.test(a));

    // Act
    for (const target of [serving, checked]) {
      const rctx = etcdRestoreContext(record, target, await tempDir('rspool'), false);
      await restoreOnOneNode(restore, rctx, await restore.prepareTarget(rctx), { store, prefix: 'etcd/target' });
    }

    // Assess
    expect(await flagsOf(serving.dataDir)).toEqual([]);
    expect(await flagsOf(checked.dataDir)).toEqual(['--heartbeat-interval=10', '--election-timeout=100']);
    expect((await etcdScratch.start(await tempDir('scratch'), record, silentLogger)).target).toMatchObject({ fastElections: true });
  });

  it('refuses a non-empty data dir without force, naming the dir and --force', async () => {
    // Prepare
    const target = await newTarget();
    await mkdir(target.dataDir, { recursive: true });
    await writeFile(path.join(target.dataDir, 'precious.txt'), 'do not delete');
    const rctx = etcdRestoreContext(record, target, await tempDir('rspool'), false);

    // Act
    const prepare = restore.prepareTarget(rctx);

    // Assess
    await expect(prepare).rejects.toMatchObject({ name: 'PermanentError', code: 'TARGET_NOT_EMPTY' });
    await expect(prepare).rejects.toThrow(new RegExp(`${target.dataDir}.*--force`));
    expect(await readdir(target.dataDir)).toEqual(['precious.txt']);
  });

  it('replaces a non-empty data dir with force and restores into it', async () => {
    // Prepare
    const target = await newTarget();
    await mkdir(target.dataDir, { recursive: true });
    await writeFile(path.join(target.dataDir, 'old.txt'), 'stale');
    const rctx = etcdRestoreContext(record, target, await tempDir('rspool'), true);

    // Act
    const prepared = await restore.prepareTarget(rctx);
    const result = await restoreOnOneNode(restore, rctx, prepared, { store, prefix: 'etcd/target' });
    const report = await restore.validateRestore(rctx, result);

    // Assess
    expect(report.ok).toBe(true);
    expect(await readdir(target.dataDir)).toEqual(['member']);
  });

  it('refuses, even with force, a data dir an etcd nobody recorded runs on (one started by hand or by systemd): TARGET_IN_USE, its files kept, the member still serving', async () => {
    // Prepare: a member whose pid file is gone, as one started by hand has none
    const running = await startTestEtcd('by-hand');
    await running.client.put('written/before').value('kept');
    await rm(memberPidFile(running.dataDir));
    const rctx = etcdRestoreContext(record, { dataDir: running.dataDir, ...(await freeMemberUrls()) }, await tempDir('rspool'), true);

    // Act
    const prepare = restore.prepareTarget(rctx);

    // Assess
    await expect(prepare).rejects.toMatchObject({ name: 'PermanentError', code: 'TARGET_IN_USE', message: expect.stringContaining(`pid ${running.pid} `) });
    await expect(prepare).rejects.toThrow(`holds files under ${running.dataDir}`);
    expect(await readdir(running.dataDir)).toEqual(['member']);
    expect(await running.client.get('written/before').string()).toBe('kept');
    await stopMember(running.pid);
  });

  it('refuses a target whose client port is already taken (here: by the source cluster)', async () => {
    // Prepare
    const target = await newTarget({ clientUrl: source.clientUrl });
    const rctx = etcdRestoreContext(record, target, await tempDir('rspool'));

    // Act
    const prepare = restore.prepareTarget(rctx);

    // Assess
    await expect(prepare).rejects.toMatchObject({ code: 'TARGET_PORT_IN_USE', message: expect.stringContaining(source.clientUrl) });
  });

  it('a retried restore step stops its own member, starts clean and ends in the same state', async () => {
    // Prepare
    const target = await newTarget();
    const rctx = etcdRestoreContext(record, target, await tempDir('rspool'));
    const prepared = await restore.prepareTarget(rctx);
    const first = await restoreOnOneNode(restore, rctx, prepared, { store, prefix: 'etcd/target' });

    // Act
    const second = await restoreOnOneNode(restore, rctx, prepared, { store, prefix: 'etcd/target' });
    const report = await restore.validateRestore(rctx, second);

    // Assess
    expect(second.endpoint.pid).not.toBe(first.endpoint.pid);
    expect(() => process.kill(Number(first.endpoint.pid), 0)).toThrow();
    expect(report.ok).toBe(true);
  });

  it('validateRestore reports a mismatch when the restored data is not what the backup recorded', async () => {
    // Prepare
    const target = await newTarget();
    const rctx = etcdRestoreContext(record, target, await tempDir('rspool'));
    const result = await restoreOnOneNode(restore, rctx, await restore.prepareTarget(rctx), { store, prefix: 'etcd/target' });
    const otherData = etcdRestoreContext({
      ...record,
      facts: { ...record.facts, keyCount: Number(record.facts.keyCount) + 1, kvDigest: '0'.repeat(64) },
    }, target, rctx.spoolDir);
    const newerBackup = etcdRestoreContext({
      ...record,
      consistency: { ...record.consistency, revision: Number(record.consistency.revision) + 5 },
    }, target, rctx.spoolDir);

    // Act
    const dataReport = await restore.validateRestore(otherData, result);
    const revisionReport = await restore.validateRestore(newerBackup, result);

    // Assess
    expect(dataReport.ok).toBe(false);
    expect(dataReport.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['key-count', 'kv-digest']);
    expect(revisionReport.ok).toBe(false);
    expect(revisionReport.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['revision', 'key-count', 'kv-digest']);
    expect(revisionReport.checks.find((c) => c.name === 'kv-digest')?.detail).toMatch(/before the recorded revision/);
  });

  it('with start: false the member is left stopped, and validation starts it only for the check', async () => {
    // Prepare
    const target = await newTarget({ start: false });
    const rctx = etcdRestoreContext(record, target, await tempDir('rspool'));

    // Act
    const result = await restoreOnOneNode(restore, rctx, await restore.prepareTarget(rctx), { store, prefix: 'etcd/target' });
    const report = await restore.validateRestore(rctx, result);

    // Assess
    expect(result.endpoint.started).toBe(false);
    expect(report.ok).toBe(true);
    await expect(access(memberPidFile(target.dataDir))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
