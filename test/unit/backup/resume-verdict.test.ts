/**
 * What a driver says about continuing a killed backup, and what core assumes of a driver that says
 * nothing: a completed snapshot can be continued, an interrupted one cannot.
 */
import { resumeVerdict } from '../../../core/backup/resume-plan';
import type { BackupDriver, SnapshotRef } from '../../../core/driver/types';
import { EtcdBackupDriver } from '../../../drivers/etcd/backup-driver';
import { MysqlBackupDriver } from '../../../drivers/mysql/backup-driver';
import { mysqlConfigSchema } from '../../../drivers/mysql/config';

const snapshot: SnapshotRef = {
  backupId: 'b', engine: 'x', instance: 'i', spoolDir: '/spool', artifacts: [], consistency: {}, facts: {}, createdAt: '2026-11-20T00:00:00.000Z',
};

describe('resumeVerdict', () => {
  it('defaults to: a completed snapshot is continued, an interrupted one is taken again', () => {
    const silent = {} as BackupDriver;
    expect(resumeVerdict(silent, {}, snapshot).resumable).toBe(true);
    expect(resumeVerdict(silent, {}, undefined)).toMatchObject({ resumable: false, reason: expect.stringMatching(/before its snapshot completed/) });
  });

  it('etcd: a spooled snapshot is continued; an interrupted Maintenance stream is not', () => {
    const driver = new EtcdBackupDriver({ tool: { flavour: 'etcdctl', command: 'etcdctl' } as never });
    expect(resumeVerdict(driver, {}, snapshot)).toMatchObject({ resumable: true, reason: expect.stringMatching(/last acknowledged part/) });
    expect(resumeVerdict(driver, {}, undefined)).toMatchObject({ resumable: false, reason: expect.stringMatching(/Maintenance call/) });
  });

  it('MySQL: an interrupted logical dump lost its read view, an interrupted physical copy its tool stream', () => {
    const driver = new MysqlBackupDriver();
    const logical = mysqlConfigSchema.parse({ user: 'root' });
    const physical = mysqlConfigSchema.parse({ user: 'root', mode: 'physical', streamToStore: false });
    expect(resumeVerdict(driver, logical, undefined)).toMatchObject({ resumable: false, reason: expect.stringMatching(/read view ended with its connections/) });
    expect(resumeVerdict(driver, physical, undefined)).toMatchObject({ resumable: false, reason: expect.stringMatching(/stream ended with the killed run/) });
    expect(resumeVerdict(driver, physical, snapshot).resumable).toBe(true);
  });
});
