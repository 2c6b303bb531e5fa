/**
 * Rows as the server sends them: one text-protocol row packet per row, each column a
 * length-encoded string (`0xfb` for NULL). The dump and the digests work on these packets
 * directly — no per-column Buffer, no type conversion — which is most of a dump's CPU saved.
 *
 * {@link rawRowStream} asks mysql2 for the packets instead of parsed rows; {@link packRow} builds
 * the same packet bytes from a decoded row (when a dump line is read back), so a digest computed
 * from either side is the same.
 */
import type { Connection } from 'mysql2/promise';
import { PermanentError } from '../../core/errors';
import type { Readable } from 'node:stream';
import type { RawRow } from './row-format';
import { kernel } from './row-kernel';

/** One row packet's payload (no 4-byte header): the columns as length-encoded strings. */
export type RowPacket = Buffer;

export const NULL_MARKER = 0xfb;

/**
 * mysql2 parses each row with the query's `_rowParser`, created once the column definitions have
 * arrived. This parser hands back the packet's payload as it is: a view of the bytes received
 * (mysql2 never reuses them), nothing copied. The only mysql2 internal we rely on; covered by
 * tests that compare it with mysql2's own parsing.
 */
const PACKET_PARSER = {
  next(packet: { buffer: Buffer; offset: number; end: number }): RowPacket {
    return packet.buffer.subarray(packet.offset, packet.end);
  },
};

/**
 * Streams the rows of `sql` as row packets (object mode; backpressure pauses the socket). mysql2
 * reports a lost connection (or a query on a closed one, synchronously) on the connection, not on
 * a streamed query: the stream listens there too and fails with that error, so a reader never
 * waits forever on a dead server.
 */
export function rawRowStream(connection: Connection, sql: string, highWaterMark = 1024): Readable {
  // The promise wrapper has no streaming: use the underlying callback connection.
  const core = (connection as unknown as { connection: import('mysql2').Connection }).connection;
  let lostWith: Error | undefined;
  let stream: Readable | undefined;
  const lost = (error: Error) => {
    lostWith ??= error;
    stream?.destroy(error);
  };
  core.once('error', lost); // before sending the query
  const query = core.query({ sql });
  Object.defineProperty(query, '_rowParser', { configurable: true, get: () => PACKET_PARSER, set: () => undefined });
  stream = query.stream({ highWaterMark }) as Readable;
  stream.on('close', () => core.off('error', lost));
  if (lostWith) stream.destroy(lostWith);
  return stream;
}

/**
 * Throws unless `row` is a row packet: should a mysql2 release stop using `_rowParser`, rows would
 * arrive parsed, and the dump must stop with a clear error rather than write them wrongly.
 */
export function assertRowPacket(row: unknown): asserts row is RowPacket {
  if (!Buffer.isBuffer(row)) {
    throw new PermanentError(
      'mysql2 returned parsed rows where the dump expects raw row packets: this mysql2 version is not supported (see row-packet.ts)',
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
