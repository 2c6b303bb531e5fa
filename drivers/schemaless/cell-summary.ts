/**
 * A shard's cells summarised for validation: how many, the highest `added_id`, and a digest of
 * every cell's (row_key, column_name, ref_key, sha256 of body) that does not depend on their order
 * (the MySQL driver's TableDigest over the rows as the server sends them). The same summary comes
 * from the source in a backup's read view, from a restored shard, and from the shard of another
 * server it was restored onto; the body is hashed by the server (`SHA2(body, 256)`), so a check
 * never moves the bodies. `createdAt` limits it to the cells created at or before a time (a
 * point-in-time restore keeps exactly those: cells are never updated).
 */
import mysql, { type Connection } from 'mysql2/promise';
import { quoteId } from '../mysql/shared/connection';
import { digestQuery } from '../mysql/shared/table-reader';
import type { CellTable } from './cell-delta';

export interface CellSummary {
  cells: number;
  /** The highest `added_id` ("0" for none), a decimal string. */
  maxAddedId: string;
  /** sum128 of murmur3 over (row_key, column_name, ref_key, hex sha256 of body) rows: 32 hex characters. */
  digest: string;
}

/** The summary of `table`'s cells as `connection` sees them (in its read view, if it holds one). */
export async function summariseCells(connection: Connection, table: CellTable, upTo: { createdAt?: string } = {}): Promise<CellSummary> {
  const from = `${quoteId(table.database)}.${quoteId(table.table)}`;
  const where = upTo.createdAt === undefined ? '' : mysql.format(' WHERE created_at <= ?', [upTo.createdAt]);
  const { rows: cells, digest } = await digestQuery(connection, `SELECT row_key, column_name, ref_key, SHA2(body, 256) FROM ${from}${where}`);
  const [rows] = await connection.query({ sql: `SELECT COALESCE(MAX(added_id), 0) FROM ${from}${where}`, rowsAsArray: true });
  return { cells, maxAddedId: String((rows as unknown[][])[0][0]), digest };
}
