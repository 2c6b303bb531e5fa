/**
 * A restored cell table read once for both of its proofs: the digest of its rows, every column as
 * the dump read it (table-reader.ts; what `cell-rows` compares with the dumped chunks), and its
 * cell summary (cell-summary.ts; what `cell-summaries` compares with the backup's). The summary is
 * computed here from the same rows, byte for byte as the server computes it in `summariseCells`:
 * the count, the highest `added_id`, and the TableDigest of the row packets of (row_key,
 * column_name, ref_key, lower-case hex SHA-256 of body). Every body crosses the network once and
 * is hashed in Node, whose cores a restore leaves idle, not on the server, whose cores it fills.
 *
 * Per cell, nothing is taken apart that need not be: the summary's packet is built by the row
 * kernel's projection (`SUMMARY_PROJECTION`, as the dump's encoder threads build it: the key
 * columns copied as they came, behind them the body's hash); the highest `added_id` is kept as
 * the decimal text the server sent.
 */
import type { Connection } from 'mysql2/promise';
import { PermanentError } from '../../core/errors';
import { kernel } from '../mysql/shared/row-kernel';
import { readLength, type RowPacket } from '../mysql/shared/row-packet';
import { TableDigest } from '../mysql/shared/table-digest';
import { dumpedColumns, streamRows } from '../mysql/shared/table-reader';
import type { CellTable } from './cell-delta';
import { SUMMARY_PROJECTION, type CellSummary } from './cell-summary';
import { ENGINE } from './records';

export interface CellTableRead {
  /** Row count and digest of the table's rows, as `digestTable` gives them. */
  rows: { rows: number; digest: string };
  /** The cells' summary, as `summariseCells` gives it. */
  summary: CellSummary;
}

/** Where column `column` of `packet` starts (at its length prefix). */
function columnStart(packet: RowPacket, column: number): number {
  let at = 0;
  for (let c = 0; c < column; c += 1) {
    const [length, used] = readLength(packet, at);
    at += used + Math.max(length, 0);
  }
  return at;
}

/** True when decimal text `a` is a greater integer than `b` (both as the server prints a BIGINT). */
function greaterDecimal(a: Uint8Array, b: Uint8Array): boolean {
  const [negativeA, negativeB] = [a[0] === 0x2d, b[0] === 0x2d];
  if (negativeA !== negativeB) return negativeB;
  const byMagnitude = a.length !== b.length ? a.length - b.length : Buffer.compare(a, b);
  return negativeA ? byMagnitude < 0 : byMagnitude > 0;
}

/**
 * Reads every cell of `table` once (see the file comment).
 * @throws PermanentError `SCHEMALESS_CELL_TABLE` when the table lacks a column of the layout's cell table
 */
export async function readCellTable(connection: Connection, table: CellTable): Promise<CellTableRead> {
  const columns = await dumpedColumns(connection, table);
  const indexOf = (name: string) => {
    const at = columns.findIndex((c) => c.name === name);
    if (at < 0) throw new PermanentError(`${table.database}.${table.table} has no column ${name}: not a cell table of the reference layout`, { code: 'SCHEMALESS_CELL_TABLE', engine: ENGINE });
    return at;
  };
  const addedId = indexOf('added_id');
  const projection = kernel.projectionOf(SUMMARY_PROJECTION.keep.map(indexOf), indexOf(SUMMARY_PROJECTION.hashed));
  const rows = new TableDigest();
  const summary = new TableDigest();
  let maxAddedId: Uint8Array | undefined; // a view of a packet: mysql2 never reuses them
  await streamRows(connection, table, function addCell(packet) {
    rows.addPacket(packet);
    summary.addProjected(packet, projection);
    const start = columnStart(packet, addedId);
    const [idLength, idPrefix] = readLength(packet, start);
    const id = packet.subarray(start + idPrefix, start + idPrefix + idLength);
    if (maxAddedId === undefined || greaterDecimal(id, maxAddedId)) maxAddedId = id;
  }, columns);
  const max = maxAddedId === undefined ? '0' : Buffer.from(maxAddedId).toString('latin1');
  return { rows: { rows: rows.rows, digest: rows.hex() }, summary: { cells: summary.rows, maxAddedId: max, digest: summary.hex() } };
}
