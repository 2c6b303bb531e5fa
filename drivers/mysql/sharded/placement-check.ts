/**
 * A shard map checked against the rows it places. In a store of this kind every row of a shard's
 * table is there by its key (`CRC32(key) % N`, shard-map.ts), so a config that names the wrong
 * database for a shard (two swapped, a map left stale by a move) shows in any few of its rows. A
 * backup taken through such a map is complete, and its restore passes every check onto a right
 * map, yet puts every row of those shards where the store never looks for it.
 */
import type { Connection } from 'mysql2/promise';
import { PermanentError } from '../../../core/errors';
import { quoteId } from '../shared/connection';
import { shardOf } from './shard-map';

/** Rows looked at per table: the first of its primary key, a page or two. */
const SAMPLE_ROWS = 32;

/** A table of one shard whose rows `key` places. */
export interface PlacedTable {
  shard: number;
  database: string;
  table: string;
  /** The column whose CRC32 names a row's shard. */
  key: string;
}

/** How an engine names its shards in messages. */
export interface PlacementWords {
  /** `shard` or `partition`. */
  shard: string;
  engine: string;
}

/**
 * Looks at the first rows of each of `tables` and refuses the map when one belongs on another of
 * the `shardCount` shards.
 * @throws PermanentError `SHARD_MAP_MISMATCH` naming the table, the shard its rows belong on, and how many of those looked at did
 */
export async function assertPlacement(connection: Connection, tables: readonly PlacedTable[], shardCount: number, words: PlacementWords): Promise<void> {
  for (const placed of tables) {
    const [rows] = await connection.query({ sql: `SELECT ${quoteId(placed.key)} FROM ${quoteId(placed.database)}.${quoteId(placed.table)} LIMIT ${SAMPLE_ROWS}`, rowsAsArray: true });
    const homes = (rows as unknown[][]).map(([key]) => shardOf(Buffer.isBuffer(key) ? key : Buffer.from(String(key), 'utf8'), shardCount));
    const elsewhere = homes.filter((home) => home !== placed.shard);
    if (elsewhere.length === 0) continue;
    const home = mostCommon(elsewhere);
    throw new PermanentError(
      `${words.shard} ${placed.shard} (${placed.database}.${placed.table}) holds rows of ${words.shard} ${home}: ${elsewhere.length} of the ${homes.length} looked at belong on another ${words.shard} (CRC32(${placed.key}) % ${shardCount}). `
      + `The config's ${words.shard} map does not say where the store keeps them (two databases swapped?); a backup through it would restore them where the store never looks`,
      { code: 'SHARD_MAP_MISMATCH', engine: words.engine },
    );
  }
}

function mostCommon(values: readonly number[]): number {
  const counts = new Map<number, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0][0];
}
