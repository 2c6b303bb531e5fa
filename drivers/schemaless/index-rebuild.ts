/**
 * Rebuilding secondary indexes from the cells (a restore's `rebuildIndexes`): every index table
 * emptied on every shard, then filled with exactly the entries the cells of every shard call for
 * (index-check.ts `eachDerivedEntry`), each on the shard of its index key, in batched INSERTs.
 * Memory stays at one batch per shard; the source is read while the batches are written through
 * other connections (a MySQL connection cannot write while it streams a result).
 */
import type { Connection } from 'mysql2/promise';
import { quoteId } from '../mysql/shared/connection';
import type { RawRow } from '../mysql/shared/row-format';
import { eachDerivedEntry, type IndexDefinition, type ShardConnection } from './index-check';

/** Entries per INSERT. */
const BATCH = 500;

/**
 * Rebuilds every index of `indexes` on `shards` (all N, numbered 0…N-1) from their cells; writes
 * through `writers` (a connection per shard, not the shard's reading one), `options.batch` entries
 * an INSERT (default 500). Resolves to the entries written per index.
 */
export async function rebuildIndexes(
  shards: readonly ShardConnection[], writers: ReadonlyMap<number, Connection>, cellTable: string, indexes: readonly IndexDefinition[],
  options: { batch?: number } = {},
): Promise<Array<{ index: string; entries: number }>> {
  const batchSize = options.batch ?? BATCH;
  const results: Array<{ index: string; entries: number }> = [];
  for (const index of indexes) {
    for (const shard of shards) await writerOf(writers, shard.shard).query(`TRUNCATE TABLE ${quoteId(shard.database)}.${quoteId(index.table)}`);
    const batches = new Map<number, EntryValues[]>();
    let entries = 0;
    const flush = async (shard: number) => {
      const rows = batches.get(shard) ?? [];
      if (rows.length === 0) return;
      batches.set(shard, []);
      const target = shards.find((s) => s.shard === shard)!;
      await writerOf(writers, shard).query(
        `INSERT INTO ${quoteId(target.database)}.${quoteId(index.table)} (index_key, row_key, column_name, ref_key) VALUES ${rows.map(() => '(?, ?, ?, ?)').join(', ')}`,
        rows.flat(),
      );
      entries += rows.length;
    };
    for (const source of shards) {
      await eachDerivedEntry(source, cellTable, index, shards.length, async (entry, shard) => {
        const batch = batches.get(shard) ?? [];
        batches.set(shard, batch);
        batch.push(entryValues(entry));
        if (batch.length >= batchSize) await flush(shard);
      });
    }
    for (const shard of batches.keys()) await flush(shard);
    results.push({ index: index.table, entries });
  }
  return results;
}

/** An entry's values as INSERT parameters: keys as bytes, the column name as text, ref_key as a decimal (a bytes literal in a number's place would be read as a hex number). Copies: the packet is not ours to keep. */
type EntryValues = [Buffer, Buffer, string, string];
function entryValues([indexKey, rowKey, column, refKey]: RawRow): EntryValues {
  return [Buffer.from(indexKey!), Buffer.from(rowKey!), column!.toString('utf8'), refKey!.toString('latin1')];
}

function writerOf(writers: ReadonlyMap<number, Connection>, shard: number): Connection {
  const writer = writers.get(shard);
  if (!writer) throw new Error(`no connection to write shard ${shard}`);
  return writer;
}
