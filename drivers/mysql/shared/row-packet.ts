/**
 * Rows as the server sends them: one text-protocol row packet per row, each column a
 * length-encoded string (`0xfb` for NULL). The dump and the digests work on these packets
 * directly — no per-column Buffer, no type conversion — which is most of a dump's CPU saved.
 *
 * A dump reads them straight off the socket (result-reader.ts); a digest, as mysql2 hands them
 * over ({@link eachRowPacket}, which asks mysql2 for the packets instead of parsed rows).
 * {@link packRow} builds the same packet bytes from a decoded row (when a dump line is read
 * back), so a digest computed from either side is the same.
 */
import type { Connection } from 'mysql2/promise';
import { PermanentError } from '../../../core/errors';
import { callbackConnection } from './connection';
import type { RawRow } from './row-format';
import { kernel } from './row-kernel';

/** One row packet's payload (no 4-byte header): the columns as length-encoded strings. */
export type RowPacket = Buffer;

export const NULL_MARKER = 0xfb;

/**
 * mysql2 parses each row with the query's `_rowParser`, created once the column definitions have
 * arrived. This parser hands back the packet's payload as it is: a view of the bytes received
 * (mysql2 never reuses them), nothing copied. A mysql2 internal we rely on, covered by tests that
 * compare it with mysql2's own parsing.
 */
const PACKET_PARSER = {
  next(packet: { buffer: Buffer; offset: number; end: number }): RowPacket {
    return packet.buffer.subarray(packet.offset, packet.end);
  },
};

/** A bound on rows held in memory: at most `rows` rows and about `bytes` bytes of packets. */
export interface RowBudget {
  rows: number;
  bytes: number;
}

/**
 * What one batch of a dump handed to an encoder thread (encode-pool.ts) holds at most: 16 384 rows
 * or 4 MiB of packets, whichever comes first (a wider row is a batch of its own). Bytes as well as
 * rows, so that a batch (its packets on the reading thread, its lines and frame in the encoder's)
 * stays small whatever the row width: 16 384 rows of multi-MB BLOBs would be GBs. Rows by the
 * thousand, so that narrow rows make few batches: each costs a hand-over each way and a frame
 * (batches of 1 024 rows of 250 bytes, 256 KiB, made a dump of such rows ~4 % slower).
 */
export const BATCH: RowBudget = { rows: 16_384, bytes: 4 * 1024 * 1024 };

/**
 * How far a result's reader (result-reader.ts) reads ahead of its consumer. Bytes as well as
 * rows: thousands of rows of multi-MB BLOBs would otherwise be GBs held before the socket pauses.
 * A dump's batch, so that a batch of narrow rows is taken at once.
 */
export const READ_AHEAD: RowBudget = BATCH;

/**
 * Sends `sql` on `core`, its rows delivered as row packets ({@link PACKET_PARSER}). mysql2 still
 * makes a row parser for each result (which the packet parser stands in for): `disableEval` makes
 * it a plain object rather than code compiled for the result's columns: ~0.2 ms of the client's
 * thread for each table of columns of its own (measured: 96 ms for 500 such tables, now 2).
 */
function rawQuery(core: import('mysql2').Connection, sql: string): import('mysql2').Query {
  const query = core.query({ sql, disableEval: true } as import('mysql2').QueryOptions);
  Object.defineProperty(query, '_rowParser', { configurable: true, get: () => PACKET_PARSER, set: () => undefined });
  return query;
}

/**
 * Calls `onRow` with each row packet of `sql` as it arrives: a consumer that keeps up by design
 * (a digest), so nothing is buffered and no stream or promise stands between a row and it — a
 * read-back of 1 M rows spends a quarter less CPU than through a stream. Resolves at
 * the result's end; rejects with the query's error, a lost connection's, or the first `onRow`
 * throws (the rest of the result is then read and dropped by the connection).
 */
export function eachRowPacket(connection: Connection, sql: string, onRow: (row: RowPacket) => void): Promise<void> {
  const core = callbackConnection(connection);
  return new Promise<void>((resolve, reject) => {
    let failed = false;
    const fail = (error: unknown) => {
      if (failed) return;
      failed = true;
      core.off('error', fail);
      reject(error);
    };
    core.once('error', fail); // before sending the query
    const query = rawQuery(core, sql);
    query.on('result', (row: unknown) => {
      if (failed) return;
      try {
        assertRowPacket(row);
        onRow(row);
      } catch (error) {
        fail(error);
      }
    });
    query.on('error', fail);
    query.on('end', () => {
      core.off('error', fail);
      if (!failed) resolve();
    });
  });
}

/**
 * Throws unless `row` is a row packet: should a mysql2 release stop using `_rowParser`, rows would
 * arrive parsed, and a digest must stop with a clear error rather than be computed wrongly.
 */
export function assertRowPacket(row: unknown): asserts row is RowPacket {
  if (!Buffer.isBuffer(row)) {
    throw new PermanentError(
      'mysql2 returned parsed rows where raw row packets are expected: this mysql2 version is not supported (see row-packet.ts)',
      { code: 'UNSUPPORTED_CLIENT', engine: 'mysql' },
    );
  }
}

/** Reads a length-encoded integer at `at`; returns [value, bytes used]. NULL is [-1, 1]. */
export const readLength: (packet: Uint8Array, at: number) => [number, number] = kernel.readLength;

/** Size of the length-encoded prefix for a field of `length` bytes. */
function prefixSize(length: number): number {
  return length < 0xfb ? 1 : length < 0x10000 ? 3 : length < 0x1000000 ? 4 : 9;
}

function writeLength(out: Buffer, at: number, length: number): number {
  if (length < 0xfb) {
    out[at] = length;
    return at + 1;
  }
  if (length < 0x10000) {
    out[at] = 0xfc;
    out.writeUInt16LE(length, at + 1);
    return at + 3;
  }
  if (length < 0x1000000) {
    out[at] = 0xfd;
    out.writeUIntLE(length, at + 1, 3);
    return at + 4;
  }
  out[at] = 0xfe;
  out.writeUInt32LE(length >>> 0, at + 1);
  out.writeUInt32LE(Math.floor(length / 2 ** 32), at + 5);
  return at + 9;
}

/** The row packet the server would send for `row` (minimal length encodings, as servers write them). */
export function packRow(row: RawRow): RowPacket {
  let size = 0;
  for (const value of row) size += value === null ? 1 : prefixSize(value.length) + value.length;
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const value of row) {
    if (value === null) {
      out[at++] = NULL_MARKER;
      continue;
    }
    at = writeLength(out, at, value.length);
    at += value.copy(out, at);
  }
  return out;
}

/** The columns of a row packet (views into it; null for NULL). */
export function unpackRow(packet: RowPacket): RawRow {
  const row: RawRow = [];
  let at = 0;
  while (at < packet.length) {
    const [length, used] = readLength(packet, at);
    at += used;
    if (length < 0) {
      row.push(null);
      continue;
    }
    row.push(packet.subarray(at, at + length));
    at += length;
  }
  return row;
}
