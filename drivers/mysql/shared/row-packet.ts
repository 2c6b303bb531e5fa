/**
 * Rows as the server sends them: one text-protocol row packet per row, each column a
 * length-encoded string (`0xfb` for NULL). The dump and the digests work on these packets
 * directly — no per-column Buffer, no type conversion — which is most of a dump's CPU saved.
 *
 * {@link rawRowStream} (and {@link rawRowStreams}, for several statements sent as one query) asks
 * mysql2 for the packets instead of parsed rows; {@link packRow} builds
 * the same packet bytes from a decoded row (when a dump line is read back), so a digest computed
 * from either side is the same.
 */
import type { Connection } from 'mysql2/promise';
import { PermanentError } from '../../../core/errors';
import { Readable } from 'node:stream';
import type { RawRow } from './row-format';
import { kernel } from './row-kernel';

/** One row packet's payload (no 4-byte header): the columns as length-encoded strings. */
export type RowPacket = Buffer;

export const NULL_MARKER = 0xfb;

/**
 * mysql2 parses each row with the query's `_rowParser`, created once the column definitions have
 * arrived. This parser hands back the packet's payload as it is: a view of the bytes received
 * (mysql2 never reuses them), nothing copied. One of the two mysql2 internals we rely on (the
 * other: {@link statementAt}); covered by tests that compare it with mysql2's own parsing.
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
 * How far a row stream reads ahead of its consumer. Bytes as well as rows: thousands of rows of
 * multi-MB BLOBs would otherwise be GBs held before the socket pauses. A dump's batch, so that a
 * batch of narrow rows is taken at once.
 */
export const READ_AHEAD: RowBudget = BATCH;

/** What a {@link PacketStream} holds back when it is full: the connection (its socket). */
export interface RowSource {
  pause(): void;
  resume(): void;
}

/**
 * Row packets in object mode, holding back their source once `readAhead.rows` rows OR
 * `readAhead.bytes` bytes are buffered (a Readable's own highWaterMark counts objects only), and
 * letting it go once the consumer has read below both. It may exceed the byte bound by one row
 * (and what the socket had already delivered).
 */
export class PacketStream extends Readable {
  private bufferedBytes = 0;
  private holding = false;

  constructor(private readonly source: RowSource, private readonly readAhead: RowBudget = READ_AHEAD) {
    super({ objectMode: true, highWaterMark: readAhead.rows });
  }

  /** Bytes of the packets buffered, not yet read. */
  get readableBytes(): number {
    return this.bufferedBytes;
  }

  /** A row from the source; holds the source back when the stream is full. */
  offer(row: RowPacket): void {
    if (this.destroyed) return;
    this.bufferedBytes += row.length;
    const room = this.push(row);
    if (!room || this.bufferedBytes >= this.readAhead.bytes) this.hold();
  }

  /** The source's rows have ended. */
  finish(): void {
    if (!this.destroyed) this.push(null);
  }

  override read(size?: number): RowPacket | null {
    const row = super.read(size) as RowPacket | null;
    if (row !== null) {
      this.bufferedBytes -= row.length;
      this.release();
    }
    return row;
  }

  override _read(): void {
    this.release();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // Lets the socket go if this stream held it: the connection must read (and discard) the rest
    // of an unfinished result. Its source resumes only what this stream held back.
    if (this.holding) this.source.resume();
    this.holding = false;
    callback(error);
  }

  private hold(): void {
    if (this.holding) return;
    this.holding = true;
    this.source.pause();
  }

  private release(): void {
    if (!this.holding || this.readableLength >= this.readableHighWaterMark || this.bufferedBytes >= this.readAhead.bytes) return;
    this.holding = false;
    this.source.resume();
  }
}

/** The callback connection under mysql2's promise wrapper (which has no streaming). */
const coreOf = (connection: Connection): import('mysql2').Connection => (connection as unknown as { connection: import('mysql2').Connection }).connection;

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
 * Streams the rows of `sql` as row packets, reading ahead at most `readAhead` (rows and bytes)
 * before the socket pauses: {@link rawRowStreams} of one statement.
 */
export function rawRowStream(connection: Connection, sql: string, readAhead: RowBudget = READ_AHEAD): PacketStream {
  return rawRowStreams(connection, [sql], readAhead)[0];
}

/** Why the streams of a query cannot be told apart: mysql2 no longer keeps the field they rely on. */
const UNSUPPORTED_RESULTS = 'mysql2 does not say which statement of a query failed (no _resultIndex): this mysql2 version is not supported for several statements a query (see row-packet.ts)';

/**
 * The statement a query was at: mysql2's `_resultIndex`, which moves to the next statement once a
 * result's last row has arrived (so when the query fails, the statements before it returned all
 * their rows). Undefined if mysql2 has no such field.
 */
function statementAt(query: import('mysql2').Query): number | undefined {
  const at = (query as { _resultIndex?: unknown })._resultIndex;
  return typeof at === 'number' ? at : undefined;
}

/**
 * The rows of each of `statements` (SELECTs sent as one query: the connection runs multiple
 * statements) as a stream of row packets of its own, in order: a statement's stream ends when the
 * next one's result begins. Each reads ahead at most `readAhead` (rows and bytes) before the
 * socket pauses; one stream receives rows at a time (the others have ended or not begun), and a
 * stream lets go of the socket only if it held it, so rows wait in the server, not here.
 *
 * mysql2 reports a lost connection (or a query on a closed one, synchronously) on the connection,
 * not on a streamed query: the streams listen there too. An error fails the stream of the
 * statement that was running and those after it (the ones before end with all their rows), so a
 * reader never waits forever on a dead server. So does a query that returns fewer results than it
 * has statements, or more.
 */
export function rawRowStreams(connection: Connection, statements: string[], readAhead: RowBudget = READ_AHEAD): PacketStream[] {
  const core = coreOf(connection);
  const streams = statements.map(() => new PacketStream(core, readAhead));
  let ended = 0; // the streams before this one have all their rows
  const endUpTo = (end: number) => {
    for (; ended < end; ended += 1) streams[ended].finish();
  };
  let query: import('mysql2').Query | undefined;
  const fail = (error: Error) => {
    if (query) endUpTo(Math.min(statementAt(query) ?? ended, streams.length));
    for (const stream of streams.slice(ended)) stream.destroy(error);
  };
  core.once('error', fail); // before sending the query
  query = rawQuery(core, statements.join(';\n'));
  if (statements.length > 1 && statementAt(query) === undefined) fail(new PermanentError(UNSUPPORTED_RESULTS, { code: 'UNSUPPORTED_CLIENT', engine: 'mysql' }));
  let results = 0;
  const miscounted = () => new PermanentError(`the server returned ${results} results for ${statements.length} statements`, { code: 'MYSQL_DUMP_FAILED', engine: 'mysql' });
  query.on('fields', () => {
    if (results === statements.length) fail(miscounted());
    endUpTo(Math.min(results++, streams.length));
  });
  query.on('result', (row: RowPacket, index: number) => streams[index]?.offer(row));
  query.on('end', () => {
    if (results < statements.length) endUpTo(results);
    if (results !== statements.length) fail(miscounted());
    endUpTo(streams.length);
  });
  query.on('error', fail);
  let open = streams.length;
  for (const stream of streams) stream.on('close', () => { if (--open === 0) core.off('error', fail); });
  return streams;
}

/**
 * Calls `onRow` with each row packet of `sql` as it arrives: a consumer that keeps up by design
 * (a digest), so nothing is buffered and no stream or promise stands between a row and it — a
 * read-back of 1 M rows spends a quarter less CPU than through {@link rawRowStream}. Resolves at
 * the result's end; rejects with the query's error, a lost connection's, or the first `onRow`
 * throws (the rest of the result is then read and dropped by the connection).
 */
export function eachRowPacket(connection: Connection, sql: string, onRow: (row: RowPacket) => void): Promise<void> {
  const core = coreOf(connection);
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
