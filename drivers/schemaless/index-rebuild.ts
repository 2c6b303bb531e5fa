/**
 * Rebuilding secondary indexes from the cells (a restore's `rebuildIndexes`, a chain, a point in
 * time): every index table made to hold exactly the entries the cells of every shard call for,
 * each on the shard of its index key — the shared repair (drivers/mysql/sharded/derived-index-repair.ts),
 * which also counts the dangling entries it removed and the missing ones it added.
 */
import type { Connection } from 'mysql2/promise';
import type { ShardConnection } from '../mysql/sharded/derived-index';
import { repairDerivedIndex, type IndexRepair } from '../mysql/sharded/derived-index-repair';
import { cellIndex, type IndexDefinition } from './index-check';

/**
 * Rebuilds every index of `indexes` on `shards` (all N, numbered 0…N-1) from their cells; writes
 * through `writers` (a connection per shard, not the shard's reading one), `options.batch` entries
 * an INSERT (default 500).
 */
export async function rebuildIndexes(
  shards: readonly ShardConnection[], writers: ReadonlyMap<number, Connection>, cellTable: string, indexes: readonly IndexDefinition[],
  options: { batch?: number } = {},
): Promise<IndexRepair[]> {
  const repairs: IndexRepair[] = [];
  for (const index of indexes) repairs.push(await repairDerivedIndex(shards, writers, cellIndex(index, cellTable), options));
  return repairs;
}
