/**
 * Reads tables as row packets (exactly what the dump hashes: the same columns, table-columns.ts)
 * with flat memory: a streamed SELECT, no ordering needed since the {@link TableDigest} is order
 * independent. Synchronous consumers (digests) get each row as it arrives (row-packet.ts
 * `eachRowPacket`); {@link streamQueryRows} is for consumers that must wait.
 */
import type { Connection } from 'mysql2/promise';
import { quoteId } from './connection';
import { BATCH, eachRowPacket, type RowPacket } from './row-packet';
import { packetsOf } from './framed-batch';
import { readResult } from './result-reader';
import { selectList, type ColumnInfo } from './column-codec';
import { tableColumns, tableKey } from './table-columns';
import { storedTableName } from './exact-names';
import { TableDigest } from './table-digest';

export interface TableRef {
  database: string;
  table: string;
}

/**
 * Calls `onRow` with the rows of `sql` as row packets, awaiting it (the rows wait meanwhile: at
 * the server, once a batch is read ahead).
 */
export async function streamQueryRows(connection: Connection, sql: string, onRow: (row: RowPacket) => void | Promise<void>): Promise<void> {
  const result = readResult(connection, sql);
  try {
    for (let batch = await result.take(BATCH); batch.count > 0; batch = await result.take(BATCH)) {
      for (const row of packetsOf(batch)) await onRow(row);
    }
  } finally {
    result.close();
  }
}

/** Row count and order-independent digest of the rows of `sql`: read a batch at a time, as a dump reads them. */
export async function digestQuery(connection: Connection, sql: string): Promise<{ rows: number; digest: string }> {
  const digest = new TableDigest();
  const result = readResult(connection, sql);
  // Each batch is digested before the next is taken: one packet buffer serves them all.
  let room = new Uint8Array(0);
  const reused = (size: number) => (room.length >= size ? room.subarray(0, size) : (room = new Uint8Array(size)));
  try {
    for (let batch = await result.take(BATCH, reused); batch.count > 0; batch = await result.take(BATCH, reused)) digest.addBatch(batch);
  } finally {
    result.close();
  }
  return { rows: digest.rows, digest: digest.hex() };
}

/** The columns of a table as the dump reads them, in order (none when there is no such table), found as the server names it. */
export async function dumpedColumns(connection: Connection, ref: TableRef): Promise<ColumnInfo[]> {
  const stored = await storedTableName(connection);
  const [database, table] = [stored(ref.database), stored(ref.table)];
  return (await tableColumns(connection, [database], table)).get(tableKey(database, table)) ?? [];
}

/**
 * Calls `onRow` (synchronous) with every row of a table, each column read as the dump reads it (column-codec.ts):
 * `columns` as {@link dumpedColumns} gives them (read here when not given).
 */
export async function streamRows(connection: Connection, ref: TableRef, onRow: (row: RowPacket) => void, columns?: ColumnInfo[]): Promise<void> {
  await eachRowPacket(connection, await tableQuery(connection, ref, columns), onRow);
}

/** The SELECT of every row of a table, each column read as the dump reads it ({@link streamRows}). */
async function tableQuery(connection: Connection, ref: TableRef, columns?: ColumnInfo[]): Promise<string> {
  return selectRows(ref, columns ?? await dumpedColumns(connection, ref));
}

/** A WHERE clause of every one of `conditions` ('' for none). */
export const whereSql = (conditions: readonly string[]): string => (conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : '');

/** The SELECT of a table's rows (those meeting every one of `where`), `columns` read as the dump reads them (all when none are known). */
export function selectRows(ref: TableRef, columns: ColumnInfo[], where: readonly string[] = []): string {
  const list = columns.length > 0 ? selectList(columns) : '*';
  return `SELECT ${list} FROM ${quoteId(ref.database)}.${quoteId(ref.table)}${whereSql(where)}`;
}

/** Row count and digest of a table, read from the server. */
export async function digestTable(connection: Connection, ref: TableRef): Promise<{ rows: number; digest: string }> {
  return digestQuery(connection, await tableQuery(connection, ref));
}
