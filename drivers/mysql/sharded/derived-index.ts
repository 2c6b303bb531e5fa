/**
 * Secondary indexes derived from rows, across the shards (or partitions) of a store on MySQL
 * servers — Schemaless's indexes over cells, Docstore's over documents. An entry lives on the
 * shard of its index key (`CRC32(index_key) % N`, computed here: shard-map.ts `shardOf`), its row
 * on the shard of the row's key, so an entry and its row are often on different shards and
 * servers. What an index must hold is a query over every source shard (the engine's:
 * {@link DerivedIndex.derived}); what it holds is its table on each shard.
 *
 * - {@link checkDerivedIndexes}: per index and per shard holding entries, the derived entries due
 *   there against the entries there, as counts and order-independent digests (the MySQL driver's
 *   TableDigest): a missing entry and an entry pointing to no row both fail the shard; nothing is
 *   held in memory and the rows never leave their server. The shards are read at once, a few
 *   streams a server (shard-lanes.ts).
 * - derived-index-repair.ts makes the shards that fail hold exactly their entries.
 */
import type { Connection } from 'mysql2/promise';
import { quoteId } from '../shared/connection';
import type { RawRow } from '../shared/row-format';
import { readLength, type RowPacket } from '../shared/row-packet';
import { TableDigest } from '../shared/table-digest';
import { digestQuery, streamQueryRows } from '../shared/table-reader';
import { mapShards, type LaneOptions } from './shard-lanes';
import { fitsKey, keyLimitOf } from './index-key-limit';
import { shardOf } from './shard-map';
import type { ShardMap } from './target-shards';

/** One shard of the store, reachable on its server (shards of one server may share the connection). */
export interface ShardConnection {
  shard: number;
  database: string;
  connection: Connection;
}

/** An index whose entries derive from rows. */
export interface DerivedIndex {
  /** The index table in every shard database. */
  table: string;
  /** The columns that make an entry (the index table's key), in order, the index key first. */
  columns: readonly string[];
  /**
   * The SELECT, on the shard database `database`, of the entries its rows call for: {@link columns}
   * in order. A row whose index key is NULL is no entry (the query may leave it to this file to
   * skip: filtering it in SQL may cost a second evaluation of the key).
   */
  derived(database: string): string;
  /** An entry's values as INSERT parameters, copied (the row's buffers are not ours to keep). */
  params(entry: RawRow): unknown[];
}

export interface ShardIndexCheck {
  shard: number;
  /** Entries the shard holds. */
  entries: number;
  /** Entries the rows of every shard call for on it. */
  expected: number;
  ok: boolean;
}

export interface IndexCheck {
  index: string;
  ok: boolean;
  shards: ShardIndexCheck[];
}

/**
 * Calls `onEntry` with every entry (as its row packet) the rows of `source` call for in `index`,
 * and the shard that holds it among `shardCount`; awaits it (the rows wait meanwhile). A row
 * whose key is longer than the index table's key column holds is no entry (index-key-limit.ts).
 */
export async function eachDerivedEntry(
  source: ShardConnection, index: DerivedIndex, shardCount: number, onEntry: (entry: RowPacket, shard: number) => void | Promise<void>,
): Promise<void> {
  const limit = await keyLimitOf(source, index.table, index.columns[0]);
  await streamQueryRows(source.connection, index.derived(source.database), (packet) => {
    const [length, used] = readLength(packet, 0);
    if (length < 0) return undefined; // no index key: no entry
    const key = packet.subarray(used, used + length);
    if (!fitsKey(key, limit)) return undefined; // one the index cannot hold: no entry
    return onEntry(packet, shardOf(key, shardCount));
  });
}

const entriesOf = (index: DerivedIndex, database: string): string =>
  `SELECT ${index.columns.map(quoteId).join(', ')} FROM ${quoteId(database)}.${quoteId(index.table)}`;

/** Checks every index over the shards of `target` (all N of the store, numbered 0…N-1), `lanes.perServer` streams a server. */
export async function checkDerivedIndexes(target: ShardMap, indexes: readonly DerivedIndex[], lanes: LaneOptions = {}): Promise<IndexCheck[]> {
  const numbers = target.shards.map((s) => s.shard).sort((a, b) => a - b);
  const reads = indexes.flatMap((_, i) => numbers.map((shard) => ({ i, shard })));
  const expected = indexes.map(() => numbers.map(() => new TableDigest())); // by index, then by shard number
  await mapShards(target, reads, (read) => read.shard, (read, source) =>
    eachDerivedEntry(source, indexes[read.i], numbers.length, (entry, holder) => expected[read.i][holder].addPacket(entry)), lanes);
  const held = await mapShards(target, reads, (read) => read.shard, (read, holder) => digestQuery(holder.connection, entriesOf(indexes[read.i], holder.database)), lanes);
  return indexes.map((index, i) => {
    const shards = reads.flatMap((read, j): ShardIndexCheck[] => {
      if (read.i !== i) return [];
      const [actual, want] = [held[j], expected[i][read.shard]];
      return [{ shard: read.shard, entries: actual.rows, expected: want.rows, ok: actual.rows === want.rows && actual.digest === want.hex() }];
    });
    return { index: index.table, ok: shards.every((s) => s.ok), shards };
  });
}
