/**
 * Index integrity across shards: every entry of a secondary index points to a cell that exists,
 * and every cell the index covers has its entry. Entries live on the shard of their index key,
 * cells on the shard of their row key (layout.ts), so the check works per index and per shard
 * holding entries: the entries the cells of *every* shard call for there (each indexed cell's
 * field value, row_key, column_name and ref_key, routed by `CRC32(index_key) % N` in SQL) against
 * the entries the shard holds — as counts and order-independent digests (the MySQL driver's
 * TableDigest), so no side is held in memory and the bodies never leave their server.
 */
import mysql, { type Connection } from 'mysql2/promise';
import { quoteId } from '../mysql/shared/connection';
import type { RawRow } from '../mysql/shared/row-format';
import { unpackRow } from '../mysql/shared/row-packet';
import { TableDigest } from '../mysql/shared/table-digest';
import { digestQuery, streamQueryRows } from '../mysql/shared/table-reader';

/** One shard of the instance, reachable on its server. */
export interface ShardConnection {
  shard: number;
  database: string;
  connection: Connection;
}

/** An index as the config names it (config.ts). */
export interface IndexDefinition {
  table: string;
  column: string;
  field: string;
}

/** How one shard's entries of one index compare with what the cells call for. */
export interface ShardIndexCheck {
  shard: number;
  entries: number;
  expected: number;
  ok: boolean;
}

export interface IndexCheck {
  index: string;
  ok: boolean;
  shards: ShardIndexCheck[];
}

/**
 * Calls `onEntry` with every entry the cells of `source` call for in `index` — (index_key,
 * row_key, column_name, ref_key) as the server sends them — and the shard it belongs on (among
 * `shardCount`). Awaits `onEntry` (the stream waits meanwhile).
 */
export async function eachDerivedEntry(
  source: ShardConnection, cellTable: string, index: IndexDefinition, shardCount: number, onEntry: (entry: RawRow, shard: number) => void | Promise<void>,
): Promise<void> {
  // The body is a BLOB: read as UTF-8 JSON (as bytes, JSON functions take it for latin1 and encode
  // a non-ASCII value twice). A field absent or JSON null is not indexed.
  const field = 'JSON_EXTRACT(CONVERT(body USING utf8mb4), ?)';
  const sql = mysql.format(
    `SELECT JSON_UNQUOTE(${field}) AS index_key, row_key, column_name, ref_key, CRC32(JSON_UNQUOTE(${field})) % ? AS entry_shard
     FROM ${quoteId(source.database)}.${quoteId(cellTable)} WHERE column_name = ? AND JSON_TYPE(${field}) <> 'NULL'`,
    [index.field, index.field, shardCount, index.column, index.field],
  );
  await streamQueryRows(source.connection, sql, (packet) => {
    const row = unpackRow(packet);
    return onEntry(row.slice(0, 4), Number(row[4]!.toString('latin1')));
  });
}

/**
 * Checks every index of `indexes` over `shards` (all N shards of the instance, numbered 0…N-1).
 * `cellTable`: the cell table of every shard database.
 */
export async function checkIndexes(shards: readonly ShardConnection[], cellTable: string, indexes: readonly IndexDefinition[]): Promise<IndexCheck[]> {
  const checks: IndexCheck[] = [];
  for (const index of indexes) {
    const expected = Array.from({ length: shards.length }, () => new TableDigest()); // by shard number
    for (const source of shards) await eachDerivedEntry(source, cellTable, index, shards.length, (entry, shard) => expected[shard].add(entry));
    const results: ShardIndexCheck[] = [];
    for (const holder of shards) {
      const actual = await digestQuery(holder.connection, `SELECT index_key, row_key, column_name, ref_key FROM ${quoteId(holder.database)}.${quoteId(index.table)}`);
      const want = expected[holder.shard];
      results.push({ shard: holder.shard, entries: actual.rows, expected: want.rows, ok: actual.rows === want.rows && actual.digest === want.hex() });
    }
    checks.push({ index: index.table, ok: results.every((r) => r.ok), shards: results });
  }
  return checks;
}
