/**
 * A shard map checked against the rows it places. In a store of this kind every row of a shard's
 * table is there by its key (`CRC32(key) % N`, shard-map.ts), so a config that names the wrong
 * database for a shard (two swapped, a map left stale by a move) shows in any few of its rows. A
 * backup taken through such a map is complete, and its restore passes every check onto a right
 * map, yet puts every row of those shards where the store never looks for it. A map that is wrong
 * misplaces most rows ((N-1)/N of them); a few misplaced rows are something else — rows a reshard
 * left behind, keys a non-strict server cut short — and are only warned about.
 */
import type { Connection } from 'mysql2/promise';
import { PermanentError } from '../../../core/errors';
import type { Logger } from '../../../core/logger';
import { quoteId } from '../shared/connection';
import { ER_BAD_DB_ERROR, ER_NO_SUCH_TABLE, errnoOf } from '../shared/errors';
import { shardOf } from './shard-map';
import type { ShardWords } from './target-shards';

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

/**
 * Looks at the first rows of each of `tables` (a table not there yet is passed over: the dump says
 * so) and refuses the map when most of a table's belong on another of the `shardCount` shards;
 * warns when some do.
 * @throws PermanentError `SHARD_MAP_MISMATCH` naming the table, the shard its rows belong on, and how many of those looked at did
 */
export async function assertPlacement(connection: Connection, tables: readonly PlacedTable[], shardCount: number, words: ShardWords, logger: Logger): Promise<void> {
  for (const placed of tables) {
    const homes = (await firstKeys(connection, placed)).map((key) => shardOf(key, shardCount));
    const elsewhere = homes.filter((home) => home !== placed.shard);
    if (elsewhere.length === 0) continue;
    const where = `${words.shard} ${placed.shard} (${placed.database}.${placed.table})`;
    const counted = `${elsewhere.length} of the ${homes.length} looked at belong on another ${words.shard} (CRC32(${placed.key}) % ${shardCount})`;
    if (2 * elsewhere.length <= homes.length) {
      logger.warn(`${words.engine} backup: ${where} holds rows that belong elsewhere: ${counted} (left by a reshard, or keys a non-strict server cut short?)`);
      continue;
    }
    throw new PermanentError(
      `${where} holds rows of ${words.shard} ${mostCommon(elsewhere)}: ${counted}. `
      + `The config's ${words.shard} map does not say where the store keeps them (two databases swapped?); a backup through it would restore them where the store never looks`,
      { code: 'SHARD_MAP_MISMATCH', engine: words.engine },
    );
  }
}

/** The key bytes of the table's first rows (as stored: cast to binary); none when the table is not there. */
async function firstKeys(connection: Connection, placed: PlacedTable): Promise<Buffer[]> {
  try {
    const [rows] = await connection.query({ sql: `SELECT CAST(${quoteId(placed.key)} AS BINARY) FROM ${quoteId(placed.database)}.${quoteId(placed.table)} LIMIT ${SAMPLE_ROWS}`, rowsAsArray: true });
    return (rows as unknown[][]).map(([key]) => (Buffer.isBuffer(key) ? key : Buffer.from(String(key), 'utf8')));
  } catch (error) {
    if (errnoOf(error) === ER_NO_SUCH_TABLE || errnoOf(error) === ER_BAD_DB_ERROR) return [];
    throw error;
  }
}

function mostCommon(values: readonly number[]): number {
  const counts = new Map<number, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0][0];
}
