/**
 * Frames the server's answer to a text-protocol query (one or several SELECTs) from the bytes the
 * socket delivers, without parsing rows: each received buffer is walked packet header to packet
 * header, and the row packets in it are handed on as runs (result-rows.ts), where they are. A
 * packet split across reads is put together (a row over 16 MB from its protocol packets too).
 *
 * The answer, per statement: a result-set header (a column count; or an OK packet for a statement
 * without rows; or an ERR packet), the column definitions and an EOF packet, the rows, an EOF
 * packet whose status says whether another result follows. The client never asks for
 * CLIENT_DEPRECATE_EOF (mysql2 does not), so both EOF packets are always there. The packet that
 * ends the query (the last EOF or OK, or an ERR) is not read here: it and every byte after it are
 * handed back ({@link ScanTarget.final}) to the client, which finishes the command as its own.
 */
import { PACKET_HEADER_BYTES as HEADER } from './framed-batch';
import { readLength } from './row-packet';

/** Where the scanner's findings go (result-reader.ts). */
export interface ScanTarget {
  /** A result's column definitions have arrived: its rows follow. */
  resultStarted(): void;
  /** Row packets of the current result: consecutive packets in `buffer` from `at`, their payload lengths. */
  rows(buffer: Buffer, at: number, lengths: number[], bytes: number): void;
  /** The rows of the result begun last have ended; `more`: another result follows. */
  resultEnded(more: boolean): void;
  /** A statement answered without rows (an OK packet). */
  resultWithoutRows(): void;
  /**
   * The packet at `at` of `buffer` ends the query: it and the bytes after it are the client's
   * again. Called again with the rest of a read whose first bytes completed that packet.
   */
  final(buffer: Buffer, at: number): void;
  /** The answer is not what a query of SELECTs gets: the connection cannot be trusted further. */
  protocolError(message: string): void;
}

/** A protocol packet's largest payload: a payload this long is continued in the next packet. */
const MAX_PAYLOAD = 0xffffff;
const EOF = 0xfe;
const ERR = 0xff;
const OK = 0x00;
const LOCAL_INFILE = 0xfb;
const SERVER_MORE_RESULTS_EXISTS = 0x0008;

const enum State { Header, Columns, ColumnsEof, Rows, LongRow, Done, Failed }

export class ResultScanner {
  private state = State.Header;
  private columnsLeft = 0;
  /** A packet split across reads: its bytes so far (its header first, then sized to the whole packet). */
  private partial: Buffer | undefined;
  private partialFilled = 0;
  /** The payloads of a row longer than one protocol packet, so far. */
  private longRow: Buffer[] = [];

  constructor(private readonly target: ScanTarget) {}

  /** True once the query's last packet has been handed back, or its answer refused. */
  get done(): boolean {
    return this.state === State.Done || this.state === State.Failed;
  }

  /** Reads `chunk`, as the socket delivered it. */
  execute(chunk: Buffer): void {
    if (this.state === State.Failed) return; // the connection is being torn down
    let from = 0;
    if (this.partial !== undefined) {
      from = this.fillPartial(chunk, 0);
      if (this.partial !== undefined || (this.state as State) === State.Failed) return;
    }
    if (this.state === State.Done) {
      if (from < chunk.length) this.target.final(chunk, from); // bytes after the last packet: the client's
      return;
    }
    this.scan(chunk, from);
  }

  /**
   * Walks the whole packets of `buffer` from `from`: runs of rows handed on as they are, any other
   * packet read; an incomplete last packet kept for the next read.
   */
  private scan(buffer: Buffer, from: number): void {
    const end = buffer.length;
    let at = from;
    let runAt = -1;
    let lengths: number[] = [];
    let runBytes = 0;
    while (end - at >= HEADER) {
      const length = buffer[at] | (buffer[at + 1] << 8) | (buffer[at + 2] << 16);
      if (end - at - HEADER < length) break;
      // A row: in a result's rows, neither an EOF nor an ERR (a row cannot begin with 0xfe in
      // a packet under 16 MB: that prefix is a value of 16 MB or more) nor part of a longer row.
      if (this.state === State.Rows && length < MAX_PAYLOAD && length > 0 && buffer[at + HEADER] < EOF) {
        if (runAt < 0) runAt = at;
        lengths.push(length);
        runBytes += length;
        at += HEADER + length;
        continue;
      }
      if (runAt >= 0) {
        this.target.rows(buffer, runAt, lengths, runBytes);
        runAt = -1;
        lengths = [];
        runBytes = 0;
      }
      if (this.packet(buffer, at, length)) return;
      at += HEADER + length;
    }
    if (runAt >= 0) this.target.rows(buffer, runAt, lengths, runBytes);
    if (at < end) {
      this.partial = Buffer.allocUnsafe(HEADER);
      this.partialFilled = 0;
      this.fillPartial(buffer, at);
    }
  }

  /**
   * Adds bytes of `chunk` from `from` to the packet split across reads; scans it once whole.
   * Returns where in `chunk` its bytes end.
   */
  private fillPartial(chunk: Buffer, from: number): number {
    let at = from;
    let partial = this.partial!;
    if (this.partialFilled < HEADER) {
      const taken = Math.min(HEADER - this.partialFilled, chunk.length - at);
      chunk.copy(partial, this.partialFilled, at, at + taken);
      this.partialFilled += taken;
      at += taken;
      if (this.partialFilled < HEADER) return at;
      const whole = Buffer.allocUnsafe(HEADER + (partial[0] | (partial[1] << 8) | (partial[2] << 16)));
      partial.copy(whole, 0, 0, HEADER);
      partial = this.partial = whole;
    }
    const taken = Math.min(partial.length - this.partialFilled, chunk.length - at);
    chunk.copy(partial, this.partialFilled, at, at + taken);
    this.partialFilled += taken;
    at += taken;
    if (this.partialFilled === partial.length) {
      this.partial = undefined;
      this.scan(partial, 0);
    }
    return at;
  }

  /** Reads one packet other than a row of a run. True when it ends the query (handed back). */
  private packet(buffer: Buffer, at: number, length: number): boolean {
    const first = length > 0 ? buffer[at + HEADER] : -1;
    switch (this.state) {
      case State.Header:
        if (first === ERR) return this.finish(buffer, at);
        if (first === OK) {
          this.target.resultWithoutRows();
          if (statusOfOk(buffer, at + HEADER) & SERVER_MORE_RESULTS_EXISTS) return false;
          return this.finish(buffer, at);
        }
        if (first === LOCAL_INFILE || first < 0 || length >= MAX_PAYLOAD) {
          return this.fail(`a result-set header was expected, got ${first < 0 ? 'an empty packet' : `a packet of ${length} bytes starting 0x${first.toString(16)}`}`);
        }
        [this.columnsLeft] = readLength(buffer, at + HEADER); // a column count (0xfb, NULL, was refused above)
        this.state = this.columnsLeft > 0 ? State.Columns : State.ColumnsEof;
        return false;
      case State.Columns:
        this.columnsLeft -= 1;
        if (this.columnsLeft === 0) this.state = State.ColumnsEof;
        return false;
      case State.ColumnsEof:
        if (first === ERR) return this.finish(buffer, at);
        if (first !== EOF || length >= 9) return this.fail('the EOF packet after the column definitions is missing');
        this.state = State.Rows;
        this.target.resultStarted();
        return false;
      case State.Rows:
        if (length === MAX_PAYLOAD) {
          this.longRow = [buffer.subarray(at + HEADER, at + HEADER + length)];
          this.state = State.LongRow;
          return false;
        }
        if (first === EOF) {
          const more = (buffer.readUInt16LE(at + HEADER + 3) & SERVER_MORE_RESULTS_EXISTS) !== 0;
          this.target.resultEnded(more);
          if (more) {
            this.state = State.Header;
            return false;
          }
          return this.finish(buffer, at);
        }
        if (first === ERR) return this.finish(buffer, at);
        return this.fail('an empty row packet');
      case State.LongRow: {
        this.longRow.push(buffer.subarray(at + HEADER, at + HEADER + length));
        if (length === MAX_PAYLOAD) return false;
        const row = Buffer.concat([Buffer.alloc(HEADER), ...this.longRow]);
        this.longRow = [];
        this.state = State.Rows;
        this.target.rows(row, 0, [row.length - HEADER], row.length - HEADER);
        return false;
      }
      default:
        return this.fail('a packet after the end of the query');
    }
  }

  private finish(buffer: Buffer, at: number): true {
    this.state = State.Done;
    this.target.final(buffer, at);
    return true;
  }

  private fail(message: string): true {
    this.state = State.Failed;
    this.target.protocolError(message);
    return true;
  }
}

/** The status flags of the OK packet whose payload starts at `at` (after 0x00, affected rows, last insert id). */
function statusOfOk(buffer: Buffer, at: number): number {
  const [, affectedBytes] = readLength(buffer, at + 1);
  const [, insertIdBytes] = readLength(buffer, at + 1 + affectedBytes);
  return buffer.readUInt16LE(at + 1 + affectedBytes + insertIdBytes);
}
