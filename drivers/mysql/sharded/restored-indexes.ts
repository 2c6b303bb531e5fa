/**
 * A restore's secondary indexes made to hold exactly what its rows call for, across shards (or
 * partitions): entries restored from a backup whose shards were read at different moments may
 * dangle or be missing.
 *
 * - Entries loaded from the backup: every index is checked first (derived-index.ts: count and
 *   order-independent digest of the entries due on each shard against those there, so a shard
 *   that passes holds exactly its entries: nothing dangles, nothing is missing), and only the
 *   shards that fail are repaired (derived-index-repair.ts), counting what changed.
 * - Indexes not loaded (built from the rows): every shard is repaired, which builds them.
 *
 * What it did to each index is recorded ({@link indexRecords}) for the validation, which checks
 * again only the indexes the restore changed (index-validation.ts).
 */
import type { Connection } from 'mysql2/promise';
import type { JsonObject } from '../../../core/driver/types';
import { openDataConnection } from '../shared/connection';
import { openLoadConnection } from '../shared/target-connection';
import { checkDerivedIndexes, type DerivedIndex, type IndexCheck } from './derived-index';
import { repairDerivedIndex, type IndexRepair } from './derived-index-repair';
import type { LaneOptions } from './shard-lanes';
import { connectShards, type ShardMap } from './target-shards';

/** What a restore did to one index: its entries now, on every shard, and the entries it removed and added. */
export interface RestoredIndex extends IndexRecord {
  index: string;
  /** The shards repaired (their check failed, or the index was built). */
  repairedShards: number[];
}

/** What a restore records of one index for its validation (the restore result's endpoint). */
export type IndexRecord = {
  entries: number;
  dangling: number;
  missing: number;
  /** Every shard passed the check as loaded: nothing was repaired or built, the index is proven. */
  checkedWhole: boolean;
};

/** The record of each index, by its table, for the restore result (its endpoint's `restoredIndexes`). */
export function indexRecords(restored: readonly RestoredIndex[]): Record<string, IndexRecord> {
  return Object.fromEntries(restored.map(({ index, entries, dangling, missing, checkedWhole }) => [index, { entries, dangling, missing, checkedWhole }]));
}

/** The records {@link indexRecords} left in a restore result's endpoint (none when it made no index whole). */
export function recordedIndexes(endpoint: JsonObject): Readonly<Record<string, IndexRecord>> | undefined {
  return endpoint.restoredIndexes as unknown as Record<string, IndexRecord> | undefined;
}

/**
 * Makes every index of `indexes` whole on the shards of `target` (see the file comment);
 * `options.loaded`: the index tables hold the backup's entries (else they are empty, to be built).
 */
export async function makeIndexesWhole(target: ShardMap, indexes: readonly DerivedIndex[], options: LaneOptions & { loaded: boolean }): Promise<RestoredIndex[]> {
  const checks: Array<IndexCheck | undefined> = options.loaded ? await checkDerivedIndexes(target, indexes, options) : indexes.map(() => undefined);
  const failing = checks.map((check) => (check ? check.shards.filter((s) => !s.ok).map((s) => s.shard) : target.shards.map((s) => s.shard)));
  const repairs = failing.some((shards) => shards.length > 0) ? await repairShards(target, indexes, failing) : indexes.map(() => undefined);
  return indexes.map((index, i) => {
    const passed = (checks[i]?.shards ?? []).filter((s) => s.ok).reduce((n, s) => n + s.entries, 0);
    const repair = repairs[i] ?? { entries: 0, dangling: 0, missing: 0 };
    return { index: index.table, entries: passed + repair.entries, dangling: repair.dangling, missing: repair.missing, repairedShards: failing[i], checkedWhole: checks[i] !== undefined && failing[i].length === 0 };
  });
}

/** Repairs each index on its `failing` shards, through a reading and a writing connection per server. */
async function repairShards(target: ShardMap, indexes: readonly DerivedIndex[], failing: ReadonlyArray<readonly number[]>): Promise<Array<IndexRepair | undefined>> {
  const readers = await connectShards(target, openDataConnection);
  const writers = await connectShards(target, openLoadConnection).catch(async (error: unknown) => {
    await readers.close();
    throw error;
  });
  try {
    const byShard = new Map<number, Connection>(writers.shards.map((s) => [s.shard, s.connection]));
    const repairs: Array<IndexRepair | undefined> = [];
    for (const [i, index] of indexes.entries()) {
      repairs.push(failing[i].length > 0 ? await repairDerivedIndex(readers.shards, byShard, index, { holders: failing[i] }) : undefined);
    }
    return repairs;
  } finally {
    await Promise.all([readers.close(), writers.close()]);
  }
}
