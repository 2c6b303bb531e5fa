import { factsLine, listedEntries } from '../../../bin/format';

describe('the facts `show` prints', () => {
  it('keep short fields as they are and summarise long ones, in one readable line', () => {
    // Prepare: a MySQL backup's facts, 1 000 tables of them
    const tables = Array.from({ length: 1000 }, (_, i) => ({ database: 'shop', table: `t${i}`, rows: i, chunks: [`data/shop/t${i}.000000.tsv.zst`] }));
    const definitions = Object.fromEntries(tables.map((t) => [t.table, `CREATE TABLE ${t.table} (id INT PRIMARY KEY)`]));
    const facts = { mode: 'logical', databases: ['shop'], tables, definitions, binlogArchive: { archivedAt: '2026-12-05T00:00:00Z', files: ['binlog.000001', 'binlog.000002', 'binlog.000003'], bytes: 123456 }, note: 'x'.repeat(80) };

    // Act
    const line = factsLine(facts);

    // Assess
    expect(line).toBe(`mode="logical"  databases=["shop"]  tables=[1000 items]  definitions={t0, t1, t2, t3, t4, … 1000 fields}  binlogArchive={archivedAt, files, bytes}  note="${'x'.repeat(58)}…`);
  });
});

describe('the backups `list --json` prints', () => {
  it('carry each manifest\'s header and its artifact count, not its facts nor its artifact list; of a verification, its count and failures', () => {
    // Prepare: a backup of 1 000 tables, and one without a manifest (still running)
    const artifacts = Array.from({ length: 2001 }, (_, i) => ({ name: `data/shop/t${i}.000000.tsv.zst`, key: `k/${i}`, size: 10, sha256: 'a'.repeat(64) }));
    const manifest = {
      formatVersion: 1 as const, backupId: 'b1', engine: 'mysql', instance: 'shop', driver: { name: 'mysql', version: '1.0.0' },
      startedAt: '2026-12-05T00:00:00Z', completedAt: '2026-12-05T00:00:02Z', consistency: { gtid: '0-1-5' },
      facts: { tables: Array.from({ length: 1000 }, (_, i) => ({ table: `t${i}` })) }, artifacts, bytes: 20010, validation: { ok: true, checks: [] },
    };
    const base = { engine: 'mysql', instance: 'shop', createdAt: new Date('2026-12-05T00:00:00Z'), storedBytes: 20010 };
    const verification = {
      backupId: 'b1', verifiedAt: '2026-12-05T01:00:00Z', ok: false,
      artifacts: artifacts.map((a, i) => (i === 7 ? { name: a.name, ok: false, detail: 'changed' } : { name: a.name, ok: true })),
    };
    const entries = [
      { ...base, backupId: 'b1', prefix: 'backups/mysql/shop/b1', complete: true, status: 'complete' as const, manifest, verification },
      { ...base, backupId: 'b2', prefix: 'backups/mysql/shop/b2', complete: false, status: 'incomplete' as const },
    ];

    // Act
    const listed = JSON.parse(JSON.stringify(listedEntries(entries))) as Array<Record<string, unknown> & { manifest?: Record<string, unknown> }>;

    // Assess
    expect(listed[0]!.manifest).toEqual({
      formatVersion: 1, backupId: 'b1', engine: 'mysql', instance: 'shop', driver: { name: 'mysql', version: '1.0.0' },
      startedAt: '2026-12-05T00:00:00Z', completedAt: '2026-12-05T00:00:02Z', consistency: { gtid: '0-1-5' }, bytes: 20010, validation: { ok: true, checks: [] }, artifactCount: 2001,
    });
    expect(listed[0]!.verification).toEqual({ backupId: 'b1', verifiedAt: '2026-12-05T01:00:00Z', ok: false, artifactCount: 2001, failed: [{ name: 'data/shop/t7.000000.tsv.zst', ok: false, detail: 'changed' }] });
    expect(listed[0]).toMatchObject({ backupId: 'b1', status: 'complete', listStatus: 'CORRUPT', storedBytes: 20010 });
    expect(listed[1]).toEqual({ ...base, createdAt: '2026-12-05T00:00:00.000Z', backupId: 'b2', prefix: 'backups/mysql/shop/b2', complete: false, status: 'incomplete', listStatus: 'incomplete' });
  });
});
