/**
 * A shard's cells summarised for validation: how many, the highest `added_id`, and a digest of
 * every cell's (row_key, column_name, ref_key, sha256 of body) that does not depend on their order
 * (the MySQL driver's TableDigest over the rows as the server sends them). The same summary comes
 * from a backup's dump of the cells (computed as it writes them, {@link SUMMARY_PROJECTION}), from
 * a restored shard, and from the shard of another server it was restored onto; on a server the
 * body is hashed there (`SHA2(body, 256)`), so `summariseCells` never moves the bodies. `createdAt` limits
 * it to the cells created at or before a time (a point-in-time restore keeps exactly those: cells
 * are never updated).
 */
import { format, type Connection } from 'mysql2/promise';
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
 * The columns a summary digests: these as they are, then the sha256 of the body. A dump given this
 * projection (dump-pipeline.ts `TableSource.projection`) digests the rows it writes the same way,
 * so a backup summarises its cells without reading their bodies twice.
 */
export const SUMMARY_PROJECTION = { keep: ['row_key', 'column_name', 'ref_key'], hashed: 'body' } as const;

/** How many cells `table` holds and its highest `added_id` ("0" for none), as `connection` sees it. */
export async function countCells(connection: Connection, table: CellTable): Promise<Pick<CellSummary, 'cells' | 'maxAddedId'>> {
  const [rows] = await connection.query({ sql: `SELECT COUNT(*), COALESCE(MAX(added_id), 0) FROM ${quoteId(table.database)}.${quoteId(table.table)}`, rowsAsArray: true });
  const [cells, max] = (rows as unknown[][])[0].map((v) => String(v));
  return { cells: Number(cells), maxAddedId: max };
}

/**
 * The summary of `table`'s cells as `connection` sees them (in its read view, if it holds one):
 * all of them, or those created by `createdAt`.
 */
export async function summariseCells(connection: Connection, table: CellTable, only: { createdAt?: string } = {}): Promise<CellSummary> {
  const from = `${quoteId(table.database)}.${quoteId(table.table)}`;
  const where = only.createdAt === undefined ? '' : ` WHERE ${format('created_at <= ?', [only.createdAt])}`;
  const { keep, hashed } = SUMMARY_PROJECTION;
  const { rows: cells, digest } = await digestQuery(connection, `SELECT ${keep.map(quoteId).join(', ')}, SHA2(${quoteId(hashed)}, 256) FROM ${from}${where}`);
  const [rows] = await connection.query({ sql: `SELECT COALESCE(MAX(added_id), 0) FROM ${from}${where}`, rowsAsArray: true });
  return { cells, maxAddedId: String((rows as unknown[][])[0][0]), digest };
}

/**
 * An incremental backup's summary of the whole cell table without reading every body again: the
 * previous backup's summary plus the summary of the cells taken since (`delta`; digests are sums,
 * so they add), checked against the whole table's count and maximum (`whole`, read in the same
 * view). Cells are append-only: when the count differs, cells were lost by the watermark or removed
 * at the source, and the backup is refused rather than recorded as whole.
 * @throws PermanentError `SCHEMALESS_CELLS_UNACCOUNTED`
 */
export function extendSummary(table: CellTable, previous: CellSummary, delta: Pick<CellSummary, 'cells' | 'digest'>, whole: Pick<CellSummary, 'cells' | 'maxAddedId'>): CellSummary {
  const cells = previous.cells + delta.cells;
  if (whole.cells !== cells) {
    throw new PermanentError(
      `${table.database}.${table.table} holds ${whole.cells} cells; the backup before recorded ${previous.cells} and this one takes ${delta.cells} more: ${whole.cells - cells} unaccounted for (cells the watermark missed, or cells removed at the source, which an append-only store never does); take a full backup`,
      { code: 'SCHEMALESS_CELLS_UNACCOUNTED', engine: 'schemaless' },
    );
  }
  const digest = TableDigest.fromHex(previous.digest, previous.cells);
  digest.merge(TableDigest.fromHex(delta.digest, delta.cells));
  return { cells, maxAddedId: whole.maxAddedId, digest: digest.hex() };
}
