/**
 * Reads tables as row packets (exactly what the dump hashes: the same columns, table-columns.ts)
 * with flat memory: a streamed SELECT, no ordering needed since the {@link TableDigest} is order
 * independent.
 */
import type { Connection } from 'mysql2/promise';
import { quoteId } from './connection';
import { assertRowPacket, rawRowStream, type RowPacket } from './row-packet';
import { selectList } from './column-codec';
import { tableColumns, tableKey } from './table-columns';
import { TableDigest } from './table-digest';

export interface TableRef {
  database: string;
  table: string;
}

/** Streams every row of a table to `onRow`, each column read as the dump reads it (column-codec.ts). */
export async function streamRows(connection: Connection, ref: TableRef, onRow: (row: RowPacket) => void): Promise<void> {
  const columns = (await tableColumns(connection, [ref.database], ref.table)).get(tableKey(ref.database, ref.table));
  const list = columns && columns.length > 0 ? selectList(columns) : '*';
  const sql = `SELECT ${list} FROM ${quoteId(ref.database)}.${quoteId(ref.table)}`;
  for await (const row of rawRowStream(connection, sql) as AsyncIterable<RowPacket>) {
    assertRowPacket(row);
    onRow(row);
  }
}

/** Row count and digest of a table, read from the server. */
export async function digestTable(connection: Connection, ref: TableRef): Promise<{ rows: number; digest: string }> {
  const digest = new TableDigest();
  await streamRows(connection, ref, (row) => digest.addPacket(row));
  return { rows: digest.rows, digest: digest.hex() };
}
