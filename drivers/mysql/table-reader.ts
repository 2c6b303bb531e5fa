/**
 * Reads tables as raw rows (exactly what the dump writes) with flat memory: a streamed
 * `SELECT *`, no ordering needed since the {@link TableDigest} is order independent.
 */
import type { Connection } from 'mysql2/promise';
import { quoteId } from './connection';
import { rawTypeCast, type RawRow } from './row-format';
import { TableDigest } from './table-digest';

export interface TableRef {
  database: string;
  table: string;
}

/** Streams every row of a table (optionally narrowed by a WHERE clause) to `onRow`. */
export async function streamRows(connection: Connection, ref: TableRef, onRow: (row: RawRow) => void, where = ''): Promise<void> {
  const sql = `SELECT * FROM ${quoteId(ref.database)}.${quoteId(ref.table)}${where ? ` WHERE ${where}` : ''}`;
  // The promise wrapper has no streaming: use the underlying callback connection (untyped there).
  const core = (connection as unknown as { connection: import('mysql2').Connection }).connection;
  const stream = core.query({ sql, rowsAsArray: true, typeCast: rawTypeCast as never }).stream({ highWaterMark: 1000 });
  for await (const row of stream as AsyncIterable<RawRow>) onRow(row);
}

/** Row count and digest of a table, read from the server. */
export async function digestTable(connection: Connection, ref: TableRef): Promise<{ rows: number; digest: string }> {
  const digest = new TableDigest();
  await streamRows(connection, ref, (row) => digest.add(row));
  return { rows: digest.rows, digest: digest.hex() };
}
