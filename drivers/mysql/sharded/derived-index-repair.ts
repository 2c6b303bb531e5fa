/**
 * Repairing a derived index (derived-index.ts) on the shards that hold it wrongly: each such
 * shard made to hold exactly the entries the rows of every shard call for on it, counting what
 * changed. The derived entries due on a repaired shard go into a temporary table on its server
 * (batched INSERTs through a writer connection, one batch per shard in memory), then one DELETE
 * removes the dangling entries and one INSERT … SELECT adds the missing ones. Every source shard
 * is read (an entry's row may be on any of them); the entries of the other shards are skipped.
 */
import type { Connection, ResultSetHeader } from 'mysql2/promise';
import { quoteId } from '../shared/connection';
import { unpackRow } from '../shared/row-packet';
import { eachDerivedEntry, type DerivedIndex, type ShardConnection } from './derived-index';

/** What a repair changed on one index. */
export interface IndexRepair {
  index: string;
  /** Entries the repaired shards hold now. */
  entries: number;
  /** Entries removed: they pointed to no row (or not to the row's current value). */
  dangling: number;
  /** Entries added: a row called for them and they were not there. */
  missing: number;
}

/** Entries per INSERT. */
const BATCH = 500;

/**
 * Repairs `index` on the shards `options.holders` (default: every shard) from the rows of all
 * `shards` (the N of the store, numbered 0…N-1; see the file comment), writing through `writers`
 * (a connection per repaired shard, none of them a reading one: a connection cannot write while
 * it streams), `options.batch` entries an INSERT (default 500).
 */
export async function repairDerivedIndex(
  shards: readonly ShardConnection[], writers: ReadonlyMap<number, Connection>, index: DerivedIndex,
  options: { batch?: number; holders?: readonly number[] } = {},
): Promise<IndexRepair> {
  const batchSize = options.batch ?? BATCH;
  const holders = shards.filter((s) => options.holders === undefined || options.holders.includes(s.shard));
  const writerOf = (shard: number): Connection => {
    const writer = writers.get(shard);
    if (!writer) throw new Error(`no connection to write shard ${shard}`);
    return writer;
  };
  // A temporary table (the writer's session only) in the holder's database.
  const scratch = (shard: number) => `${quoteId(shards.find((s) => s.shard === shard)!.database)}.${quoteId(`dbbackup_expected_${shard}`)}`;
  const columns = index.columns.map(quoteId).join(', ');
  for (const holder of holders) {
    await writerOf(holder.shard).query(`DROP TEMPORARY TABLE IF EXISTS ${scratch(holder.shard)}`);
    await writerOf(holder.shard).query(`CREATE TEMPORARY TABLE ${scratch(holder.shard)} LIKE ${quoteId(holder.database)}.${quoteId(index.table)}`);
  }
  const batches = new Map<number, unknown[][]>(holders.map((h) => [h.shard, []]));
  const flush = async (shard: number) => {
    const rows = batches.get(shard)!;
    if (rows.length === 0) return;
    batches.set(shard, []);
    const tuple = `(${index.columns.map(() => '?').join(', ')})`;
    await writerOf(shard).query(`INSERT IGNORE INTO ${scratch(shard)} (${columns}) VALUES ${rows.map(() => tuple).join(', ')}`, rows.flat());
  };
  for (const source of shards) {
    await eachDerivedEntry(source, index, shards.length, async (entry, shard) => {
      const batch = batches.get(shard);
      if (batch === undefined) return; // a shard not repaired
      batch.push(index.params(unpackRow(entry)));
      if (batch.length >= batchSize) await flush(shard);
    });
  }
  for (const shard of batches.keys()) await flush(shard);
  const repair: IndexRepair = { index: index.table, entries: 0, dangling: 0, missing: 0 };
  const join = index.columns.map((c) => `i.${quoteId(c)} = e.${quoteId(c)}`).join(' AND ');
  const first = quoteId(index.columns[0]);
  for (const holder of holders) {
    const writer = writerOf(holder.shard);
    const table = `${quoteId(holder.database)}.${quoteId(index.table)}`;
    await writer.query(`USE ${quoteId(holder.database)}`); // a multi-table DELETE resolves its aliases in the current database
    const [deleted] = await writer.query(`DELETE i FROM ${table} i LEFT JOIN ${scratch(holder.shard)} e ON ${join} WHERE e.${first} IS NULL`) as [ResultSetHeader, unknown];
    const [added] = await writer.query(`INSERT INTO ${table} (${columns}) SELECT ${index.columns.map((c) => `e.${quoteId(c)}`).join(', ')} FROM ${scratch(holder.shard)} e LEFT JOIN ${table} i ON ${join} WHERE i.${first} IS NULL`) as [ResultSetHeader, unknown];
    const [[count]] = (await writer.query({ sql: `SELECT COUNT(*) FROM ${scratch(holder.shard)}`, rowsAsArray: true }))[0] as unknown[][];
    await writer.query(`DROP TEMPORARY TABLE ${scratch(holder.shard)}`);
    repair.dangling += deleted.affectedRows;
    repair.missing += added.affectedRows;
    repair.entries += Number(String(count));
  }
  return repair;
}
