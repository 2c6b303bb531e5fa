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
import { PermanentError } from '../../core/errors';
import { TableDigest } from '../mysql/shared/table-digest';
import { digestQuery } from '../mysql/shared/table-reader';
import type { CellTable } from './cell-delta';

export interface CellSummary {
  cells: number;
  /** The highest `added_id` ("0" for none), a decimal string. */
  maxAddedId: string;
  /** sum128 of murmur3 over (row_key, column_name, ref_key, hex sha256 of body) rows: 32 hex characters. */
  digest: string;
}

/**
 * The summary of `table`'s cells as `connection` sees them (in its read view, if it holds one):
 * all of them, those created by `createdAt`, or those matching `where` (an incremental's).
 */
export async function summariseCells(connection: Connection, table: CellTable, only: { createdAt?: string; where?: string } = {}): Promise<CellSummary> {
  const from = `${quoteId(table.database)}.${quoteId(table.table)}`;
  const conditions = [...(only.createdAt === undefined ? [] : [mysql.format('created_at <= ?', [only.createdAt])]), ...(only.where === undefined ? [] : [`(${only.where})`])];
  const where = conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : '';
  const { rows: cells, digest } = await digestQuery(connection, `SELECT row_key, column_name, ref_key, SHA2(body, 256) FROM ${from}${where}`);
  const [rows] = await connection.query({ sql: `SELECT COALESCE(MAX(added_id), 0) FROM ${from}${where}`, rowsAsArray: true });
  return { cells, maxAddedId: String((rows as unknown[][])[0][0]), digest };
}

/**
 * An incremental backup's summary of the whole cell table without reading every body again: the
 * previous backup's summary plus the summary of the cells taken since (`delta`; digests are sums,
 * so they add), checked against the table's whole count and maximum read in the same view. Cells
 * are append-only: when the count differs, cells were lost by the watermark or removed at the
 * source, and the backup is refused rather than recorded as whole.
 * @throws PermanentError `SCHEMALESS_CELLS_UNACCOUNTED`
 */
export async function extendSummary(connection: Connection, table: CellTable, previous: CellSummary, delta: CellSummary): Promise<CellSummary> {
  const [rows] = await connection.query({ sql: `SELECT COUNT(*), COALESCE(MAX(added_id), 0) FROM ${quoteId(table.database)}.${quoteId(table.table)}`, rowsAsArray: true });
  const [count, max] = (rows as unknown[][])[0].map((v) => String(v));
  const cells = previous.cells + delta.cells;
  if (Number(count) !== cells) {
    throw new PermanentError(
      `${table.database}.${table.table} holds ${count} cells; the backup before recorded ${previous.cells} and this one takes ${delta.cells} more: ${Number(count) - cells} unaccounted for (cells the watermark missed, or cells removed at the source, which an append-only store never does); take a full backup`,
      { code: 'SCHEMALESS_CELLS_UNACCOUNTED', engine: 'schemaless' },
    );
  }
  const digest = TableDigest.fromHex(previous.digest, previous.cells);
  digest.merge(TableDigest.fromHex(delta.digest, delta.cells));
  return { cells, maxAddedId: max, digest: digest.hex() };
}
