/**
 * A streamed query's rows, taken in batches bounded in rows and in bytes: how the read pipeline
 * (dump-pipeline.ts) reads a table from a worker's read view, stopping at a chunk boundary without
 * ending the query.
 */
import type { Readable } from 'node:stream';
import { assertRowPacket, type RowBudget, type RowPacket } from '../shared/row-packet';

/** Rows taken together, and their packet bytes. */
export interface RowBatch {
  rows: RowPacket[];
  bytes: number;
}

/**
 * A streamed query's rows (as row packets), taken in batches. Wraps the row stream (which pauses
 * the socket when its buffer is full) so a reader can stop at a chunk boundary without ending the
 * query.
 */
export class RowCursor {
  /** A row read from the stream that did not fit the last batch: the first of the next one. */
  private held: RowPacket | null = null;
  private ended = false;
  /** The query's own error (the server or the connection failed), if any. */
  error: unknown;

  /** `stream`: row packets, object mode (rawRowStream, which fails with a lost connection's error too). */
  constructor(private readonly stream: Readable) {
    this.stream.on('end', () => { this.ended = true; });
    this.stream.on('error', (error) => { this.error ??= error; });
    if (this.stream.errored) this.error = this.stream.errored;
  }

  private wait(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.stream.off('readable', done).off('end', done).off('error', done).off('close', done);
        resolve();
      };
      this.stream.on('readable', done).on('end', done).on('error', done).on('close', done);
    });
  }

  private next(): RowPacket | null {
    const row = this.held ?? (this.stream.read() as RowPacket | null);
    this.held = null;
    return row;
  }

  /**
   * The rows buffered, up to `limit.rows` rows and `limit.bytes` bytes, in order; a row larger
   * than `limit.bytes` is a batch of its own.
   */
  private fill(limit: RowBudget): RowBatch {
    const batch: RowBatch = { rows: [], bytes: 0 };
    for (let row = this.next(); row !== null; row = this.next()) {
      if (batch.rows.length > 0 && batch.bytes + row.length > limit.bytes) {
        this.held = row;
        break;
      }
      batch.rows.push(row);
      batch.bytes += row.length;
      if (batch.rows.length >= limit.rows) break;
    }
    return batch;
  }

  /**
   * The next batch (see {@link fill}); waits only when no row is buffered. A batch without rows
   * means the result has ended.
   */
  async take(limit: RowBudget): Promise<RowBatch> {
    for (;;) {
      if (this.error) throw this.error;
      const batch = this.fill(limit);
      if (batch.rows.length > 0) {
        assertRowPacket(batch.rows[0]);
        return batch;
      }
      if (this.ended || this.stream.destroyed) {
        if (this.error) throw this.error;
        return batch;
      }
      await this.wait();
    }
  }

  /** True when another row follows (waits for it or for the end). */
  async hasMore(): Promise<boolean> {
    for (;;) {
      if (this.error) throw this.error;
      if (this.held !== null || this.stream.readableLength > 0) return true;
      if (this.ended || this.stream.destroyed) return false;
      this.held = this.stream.read() as RowPacket | null;
      if (this.held !== null) return true;
      await this.wait();
    }
  }

  /** Stops reading; the connection discards the rest of the result before its next query. */
  close(): void {
    if (!this.ended && !this.stream.destroyed) this.stream.destroy();
  }
}
