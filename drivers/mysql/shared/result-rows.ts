/**
 * The rows of one result (one statement of a query read by result-reader.ts), held as the socket
 * delivered them: runs of row packets, each run consecutive packets (headers included) in one
 * received buffer. A reader takes them in batches bounded in rows and in bytes, each batch
 * copied into one framed buffer (framed-batch.ts) a run at a time, and can stop at a chunk
 * boundary without ending the query.
 */
import { PACKET_HEADER_BYTES, type FramedBatch } from './framed-batch';
import type { RowBudget } from './row-packet';

/** Consecutive row packets in one buffer: the first not yet taken starts at `at`. */
export interface PacketRun {
  buffer: Buffer;
  at: number;
  /** Payload lengths, in order; those before `next` are taken. */
  lengths: number[];
  next: number;
}

/** What a result's rows tell the reader that fills them: when to hold the socket and let it go. */
export interface ReadAheadHolder {
  /** `rows` holds as much as its read-ahead: stop reading the socket. */
  holdSocketFor(rows: ResultRows): void;
  /** `rows` has room again: go on reading, if it was the one holding the socket. */
  releaseSocketFor(rows: ResultRows): void;
}

/** A buffer of `size` bytes for a batch's packets (the encoder pool's spares: encode-pool.ts). */
export type PacketBufferSource = (size: number) => Uint8Array<ArrayBuffer>;

const newBuffer: PacketBufferSource = (size) => new Uint8Array(size);

export class ResultRows {
  private readonly runs: PacketRun[] = [];
  private rows = 0;
  private bytes = 0;
  private ended = false;
  private closed = false;
  /** Who waits for rows (or the end): each woken at the next change. */
  private waiting: Array<() => void> = [];
  /** The query's own error (the server or the connection failed), if any. */
  error: unknown;

  constructor(private readonly holder: ReadAheadHolder, readonly readAhead: RowBudget) {}

  /** Rows and payload bytes received and not yet taken. */
  get buffered(): { rows: number; bytes: number } {
    return { rows: this.rows, bytes: this.bytes };
  }

  /** True once more is buffered than the read-ahead allows. */
  get full(): boolean {
    return this.rows >= this.readAhead.rows || this.bytes >= this.readAhead.bytes;
  }

  /** Packets received: `run` (its `bytes` of payload), appended (dropped once the reader has closed). */
  receive(run: PacketRun, bytes: number): void {
    if (this.closed || this.error !== undefined) return;
    this.runs.push(run);
    this.rows += run.lengths.length - run.next;
    this.bytes += bytes;
    if (this.full) this.holder.holdSocketFor(this);
    this.notify();
  }

  /** The result has all its rows. */
  end(): void {
    this.ended = true;
    this.notify();
  }

  /** The result failed: what is buffered is dropped, and the reader gets `error` at its next call. */
  fail(error: unknown): void {
    this.error ??= error;
    this.drop();
    this.notify();
  }

  /**
   * The next batch of up to `limit.rows` rows and `limit.bytes` payload bytes, in order (a row
   * larger than `limit.bytes` is a batch of its own), in a buffer from `buffers`; waits only
   * when no row is buffered — or, with `whole`, until the batch is full, the read-ahead is, or the
   * result has ended (a small table's rows in one batch however many reads of the socket they
   * came in). A batch without rows means the result has ended.
   */
  async take(limit: RowBudget, buffers: PacketBufferSource = newBuffer, { whole = false } = {}): Promise<FramedBatch> {
    for (;;) {
      if (this.error !== undefined) throw this.error;
      if (this.rows > 0 && (!whole || this.ready(limit))) return this.copy(limit, buffers);
      if (this.rows === 0 && (this.ended || this.closed)) return { packets: new Uint8Array(0), lengths: new Uint32Array(0), count: 0, bytes: 0 };
      await this.arrival();
    }
  }

  /** True when a whole batch of `limit` need wait no longer: it is buffered, the read-ahead holds the socket, or the result has ended. */
  private ready(limit: RowBudget): boolean {
    return this.ended || this.closed || this.full || this.rows >= limit.rows || this.bytes >= limit.bytes;
  }

  /** True when another row follows (waits for it or for the end). */
  async hasMore(): Promise<boolean> {
    for (;;) {
      if (this.error !== undefined) throw this.error;
      if (this.rows > 0) return true;
      if (this.ended || this.closed) return false;
      await this.arrival();
    }
  }

  /** Stops reading: what is buffered is dropped, and rows still to come (the connection reads them to the result's end). */
  close(): void {
    this.closed = true;
    this.drop();
    this.notify();
  }

  private drop(): void {
    this.runs.length = 0;
    this.rows = 0;
    this.bytes = 0;
    this.holder.releaseSocketFor(this);
  }

  private arrival(): Promise<void> {
    return new Promise((resolve) => { this.waiting.push(resolve); });
  }

  private notify(): void {
    if (this.waiting.length === 0) return;
    const waiting = this.waiting;
    this.waiting = [];
    for (const wake of waiting) wake();
  }

  /** Takes what fits `limit` off the front of the runs, copied a run at a time. */
  private copy(limit: RowBudget, buffers: PacketBufferSource): FramedBatch {
    let count = 0;
    let bytes = 0;
    let size = 0;
    measure: for (const run of this.runs) {
      for (let i = run.next; i < run.lengths.length; i += 1) {
        const length = run.lengths[i];
        if (count > 0 && (count >= limit.rows || bytes + length > limit.bytes)) break measure;
        count += 1;
        bytes += length;
        size += PACKET_HEADER_BYTES + length;
      }
    }
    const packets = buffers(size);
    const lengths = new Uint32Array(count);
    let filled = 0;
    let at = 0;
    while (filled < count) {
      const run = this.runs[0];
      const from = run.at;
      let end = from;
      for (; run.next < run.lengths.length && filled < count; run.next += 1) {
        const length = run.lengths[run.next];
        lengths[filled++] = length;
        end += PACKET_HEADER_BYTES + length;
      }
      packets.set(run.buffer.subarray(from, end), at);
      at += end - from;
      run.at = end;
      if (run.next === run.lengths.length) this.runs.shift();
    }
    this.rows -= count;
    this.bytes -= bytes;
    if (!this.full) this.holder.releaseSocketFor(this);
    return { packets, lengths, count, bytes };
  }
}
