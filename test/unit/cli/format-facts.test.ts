import { factsLine } from '../../../bin/format';

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
