/** Each instance against its bounds, from catalog entries: what `dbbackup report` holds out of bounds. */
import type { CatalogEntry } from '../../../core/catalog/catalog';
import type { DrillRecord } from '../../../core/catalog/drill-record';
import { instanceHealth } from '../../../core/catalog/health-report';

const NOW = new Date('2026-12-04T12:00:00.000Z');
const hoursAgo = (h: number) => new Date(NOW.getTime() - h * 3600_000).toISOString();

/** A complete, verified backup of etcd/`instance` completed `age` hours ago, with its newest drill. */
function backup(instance: string, backupId: string, age: number, drill?: Partial<DrillRecord> & { ok: boolean; drilledHoursAgo: number }): CatalogEntry {
  return {
    backupId, engine: 'etcd', instance, prefix: `backups/etcd/${instance}/${backupId}`, complete: true, status: 'complete', createdAt: new Date(hoursAgo(age)), storedBytes: 1,
    manifest: { completedAt: hoursAgo(age), validation: { ok: true } } as CatalogEntry['manifest'],
    ...(drill ? { drill: {
      backupId, drilledAt: hoursAgo(drill.drilledHoursAgo), ok: drill.ok, restoreDurationMs: 2000, drillDurationMs: 3000, bytes: 4e6, bytesPerSecond: 2e6,
      checks: [], target: 'a scratch etcd member on this host', manifestSha256: 'x', ...(drill.ok ? {} : { reason: drill.reason ?? 'RESTORE_INVALID: digest differs' }),
    } } : {}),
  };
}

const bounds = () => ({ rpoHours: 26, drillMaxAgeHours: 168 });

describe('instance health', () => {
  it('is in bounds with a backup younger than the RPO and a good drill younger than its limit, and carries the drill\'s RTO', () => {
    const [health] = instanceHealth([backup('a', '20261204T100000000Z-aaaaaa', 2, { ok: true, drilledHoursAgo: 1 })], bounds, { now: NOW });

    expect(health).toMatchObject({
      engine: 'etcd', instance: 'a', problems: [],
      newestBackup: { backupId: '20261204T100000000Z-aaaaaa', ageHours: 2 },
      newestGoodDrill: { ageHours: 1, restoreDurationMs: 2000, bytesPerSecond: 2e6 },
    });
  });

  it('names each bound broken: an old backup, an old good drill, a newest drill that failed', () => {
    const entries = [
      backup('b', '20261203T000000000Z-bbbbbb', 36, { ok: false, drilledHoursAgo: 30, reason: 'ARTIFACT_CORRUPT: sha256 differs' }),
      backup('b', '20261120T000000000Z-cccccc', 350, { ok: true, drilledHoursAgo: 340 }),
    ];

    const [health] = instanceHealth(entries, bounds, { now: NOW });

    // The RPO is that of the backup restore latest takes: not the newest, which a drill failed to restore.
    expect(health.newestBackup?.backupId).toBe('20261120T000000000Z-cccccc');
    expect(health.problems).toEqual([
      'newest backup restore latest takes is 350.0 h old, over its RPO of 26.0 h',
      'newest good drill is 340.0 h old, over its limit of 168.0 h',
      'newest drill (of 20261203T000000000Z-bbbbbb) failed: ARTIFACT_CORRUPT: sha256 differs',
    ]);
  });

  it('measures the RPO by an older backup when the newest one\'s artifact is cut short in the store (restore latest passes over it)', () => {
    const entries = [
      { ...backup('c', '20261204T110000000Z-cccccc', 1), unstored: 'backups/etcd/c/20261204T110000000Z-cccccc/data/default/snapshot.db is 5000 bytes, expected 24608' },
      backup('c', '20261203T000000000Z-dddddd', 36),
    ];

    const [health] = instanceHealth(entries, bounds, { now: NOW });

    expect(health.newestBackup?.backupId).toBe('20261203T000000000Z-dddddd');
    expect(health.problems).toContain('newest backup restore latest takes is 36.0 h old, over its RPO of 26.0 h');
  });

  it('counts no backup whose chain is broken, nor its drill, and names the newest such backup', () => {
    // Prepare: a full backup a re-verification found corrupt, an incremental on it, and one on that (drilled fine before)
    const full = { ...backup('d', '20261204T000000000Z-ffffff', 12), verification: { ok: false, verifiedAt: hoursAgo(1) } } as CatalogEntry;
    const first = backup('d', '20261204T040000000Z-111111', 8);
    const second = backup('d', '20261204T080000000Z-222222', 4, { ok: true, drilledHoursAgo: 3 });
    first.manifest = { ...first.manifest!, extends: full.backupId };
    second.manifest = { ...second.manifest!, extends: first.backupId };

    // Act
    const [health] = instanceHealth([full, first, second], bounds, { now: NOW });

    // Assess
    expect(health.newestBackup).toBeUndefined();
    expect(health.newestGoodDrill).toBeUndefined();
    expect(health.problems).toEqual([
      `newest verified backup ${second.backupId} cannot be restored: the chain of backup ${second.backupId} (etcd/d) is broken: ${first.backupId}, which it rests on, extends ${full.backupId}, which failed its last verification (${hoursAgo(1)})`,
      'no verified backup that can be restored',
      'no backup restore-verified by a drill',
    ]);
  });

  it('reports an expected instance with no backup, and takes each instance\'s own bounds', () => {
    const health = instanceHealth([backup('c', '20261204T110000000Z-dddddd', 1, { ok: true, drilledHoursAgo: 1 })],
      (_engine, instance) => (instance === 'c' ? { rpoHours: 0.5, drillMaxAgeHours: 48 } : bounds()),
      { now: NOW, expected: [{ engine: 'etcd', instance: 'never' }] });

    expect(health.map((h) => [h.instance, h.problems])).toEqual([
      ['c', ['newest backup restore latest takes is 1.0 h old, over its RPO of 0.5 h']],
      ['never', ['no verified backup', 'no backup restore-verified by a drill']],
    ]);
  });
});
