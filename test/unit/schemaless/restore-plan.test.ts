/**
 * The plan of a Schemaless restore from a chain (drivers/schemaless/restore-plan.ts): each shard's
 * cell chunks of every member in order, the digests merged, the newest member's summary and
 * buffered writes, index tables from the full backup alone or rebuilt.
 */
import type { BackupRecord } from '../../../core/driver/types';
import { planRestore } from '../../../drivers/schemaless/restore-plan';
import type { ShardFacts } from '../../../drivers/schemaless/records';
import { TableDigest } from '../../../drivers/mysql/shared/table-digest';

const digestOf = (...rows: string[]) => {
  const digest = new TableDigest();
  for (const row of rows) digest.add([Buffer.from(row)]);
  return digest;
};

function record(backupId: string, kind: ShardFacts['kind'], rows: Record<number, string[]>): BackupRecord {
  const shards = [0, 1].map((shard): ShardFacts => {
    const table = (role: 'cells' | 'index' | 'buffered-writes', name: string, cells: string[]) => ({
      database: `sl_${shard}`, table: name, engine: 'InnoDB', rows: cells.length, digest: digestOf(...cells).hex(),
      chunks: [`data/sl_${shard}/${name}/000000.tsv.gz`], role, ddl: `CREATE TABLE ${name} (...)`,
    });
    return {
      shard, database: `sl_${shard}`, kind,
      summary: { cells: rows[shard].length, maxAddedId: String(rows[shard].length), digest: '0'.repeat(32) },
      newCells: rows[shard].length, lateCells: 0,
      tables: [table('cells', 'cell', rows[shard]), ...(kind === 'full' ? [table('index', 'idx', ['e'])] : []), table('buffered-writes', 'bw', [backupId])],
    };
  });
  const facts = { shardCount: 2, cellTable: 'cell', indexes: [{ table: 'idx', column: 'profile', field: '$.email' }], bufferedWritesTable: 'bw', shards, digestAlgorithm: 'x', valueEncoding: 'exact' };
  const artifacts = shards.flatMap((s) => s.tables.flatMap((t) => t.chunks)).map((name) => ({ name, key: `backups/${backupId}/data/default/${name}`, size: 1, sha256: 'a'.repeat(64) }));
  return { backupId, engine: 'schemaless', instance: 'i', consistency: {}, facts, artifacts };
}

it('loads every member\'s cells in order, proves them by the merged digest, and builds the indexes of a chain from the cells', () => {
  // Prepare
  const full = record('b1', 'full', { 0: ['a', 'b'], 1: ['c'] });
  const increment = record('b2', 'incremental', { 0: ['d'], 1: [] });

  // Act
  const plan = planRestore([full], increment, { rebuildIndexes: false });

  // Assess
  const cells = plan.shards[0].tables.find((t) => t.role === 'cells')!;
  expect(cells.chunks.map((c) => c.key)).toEqual(['backups/b1/data/default/data/sl_0/cell/000000.tsv.gz', 'backups/b2/data/default/data/sl_0/cell/000000.tsv.gz']);
  expect(cells).toMatchObject({ rows: 3, digest: digestOf('a', 'b', 'd').hex() });
  expect(plan.loadIndexes).toBe(false);
  expect(plan.shards[0].tables.find((t) => t.role === 'index')).toMatchObject({ rows: 0, chunks: [] });
  expect(plan.shards[0].tables.find((t) => t.role === 'buffered-writes')).toMatchObject({ digest: digestOf('b2').hex() });
  expect(plan.shards[0].summary.cells).toBe(1); // the newest member's summary of the whole table
  expect(new Set(plan.downloads.map((d) => d.local)).size).toBe(plan.downloads.length);
});

it('loads a full backup\'s index entries (the repair follows) unless told to rebuild or a point in time is asked for', () => {
  const full = record('b1', 'full', { 0: ['a'], 1: ['c'] });

  expect(planRestore([], full, { rebuildIndexes: false }).shards[1].tables.find((t) => t.role === 'index')).toMatchObject({ rows: 1, chunks: [expect.objectContaining({ name: 'data/sl_1/idx/000000.tsv.gz' })] });
  expect(planRestore([], full, { rebuildIndexes: true }).loadIndexes).toBe(false);
  expect(planRestore([], full, { rebuildIndexes: false, pointInTime: '2026-01-01T00:00:00Z' }).loadIndexes).toBe(false);
});

it('refuses a chain that does not start with a full backup', () => {
  const increment = record('b2', 'incremental', { 0: ['d'], 1: [] });

  expect(() => planRestore([], increment, { rebuildIndexes: false })).toThrow(/holds no full backup of shard 0/);
});

it('merges recorded digests exactly as the rows would', () => {
  expect(TableDigest.fromHex(digestOf('a', 'b').hex(), 2).hex()).toBe(digestOf('a', 'b').hex());
  const merged = TableDigest.fromHex(digestOf('a').hex(), 1);
  merged.merge(TableDigest.fromHex(digestOf('b', 'c').hex(), 2));
  expect([merged.hex(), merged.rows]).toEqual([digestOf('a', 'b', 'c').hex(), 3]);
});

it('starts each shard from its newest full backup in the chain (an incremental that could not extend its base took it whole)', () => {
  const full = record('b1', 'full', { 0: ['a'], 1: ['c'] });
  const whole = record('b2', 'full', { 0: ['a', 'd'], 1: ['c'] });
  const increment = record('b3', 'incremental', { 0: ['e'], 1: [] });

  const plan = planRestore([full, whole], increment, { rebuildIndexes: false });

  expect(plan.shards[0].tables.find((t) => t.role === 'cells')).toMatchObject({ rows: 3, digest: digestOf('a', 'd', 'e').hex() });
  expect(plan.downloads.some((d) => d.key.startsWith('backups/b1/'))).toBe(false);
  expect(plan.loadIndexes).toBe(false);
});
