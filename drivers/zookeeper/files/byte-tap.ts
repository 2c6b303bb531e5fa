/**
 * A copy of a file made by the same read that checks it: a reader pulls the file's chunks through
 * the tap, and the tap passes on to `output` (a stream a writer consumes: the spool, the store)
 * the bytes the reader has confirmed, a chunk at a time, holding back the rest. A txn log being
 * written is copied up to its last whole transaction this way; a snapshot, confirmed as a whole
 * (`confirmAll`), flows on as it is read, and its copy fails (`fail`: the writer discards it)
 * when its checksum at the end does not hold.
 *
 * The writer sets the pace: a chunk waits until the output has room (memory stays at a few chunks).
 */
import { PassThrough } from 'node:stream';

/** The writer stopped consuming the output without saying why (its own error is the one to report). */
export class CopyStopped extends Error {
  constructor() {
    super('the copy was stopped by its writer');
    this.name = 'CopyStopped';
  }
}

export class ByteTap {
  /** The confirmed bytes, for a writer to consume; ends after {@link ByteTap.end}, errors after {@link ByteTap.fail}. */
  readonly output = new PassThrough({ highWaterMark: 4 * 1024 * 1024 });
  /** Chunks read and not yet passed on, in order, from stream offset `pendingOffset`. */
  private readonly pending: Buffer[] = [];
  private pendingOffset = 0;
  private confirmed = 0;

  /** @param options.confirmAll pass every chunk on as it is read (the caller fails the copy if the reader does) */
  constructor(private readonly source: AsyncIterable<Buffer>, private readonly options: { confirmAll?: boolean } = {}) {
    // A failure reaches the writer through its own pipeline, even one it sets up later (the store
    // may still be making its directory when the reader fails): no 'error' event goes unheard.
    this.output.on('error', function heardByTheWriter() {});
  }

  /** The source's chunks, for the reader. */
  async *chunks(): AsyncGenerator<Buffer> {
    for await (const chunk of this.source) {
      if (this.options.confirmAll) await this.write(chunk);
      else this.pending.push(chunk);
      yield chunk;
    }
  }

  /** The bytes before `offset` are good to copy: whole chunks among them are passed on now. */
  async confirm(offset: number): Promise<void> {
    this.confirmed = Math.max(this.confirmed, offset);
    while (this.pending.length > 0 && this.pendingOffset + this.pending[0].length <= this.confirmed) {
      const chunk = this.pending.shift()!;
      this.pendingOffset += chunk.length;
      await this.write(chunk);
    }
  }

  /** Passes on the confirmed bytes still held back and ends the output (what was read past them is left out). */
  async end(): Promise<void> {
    await this.confirm(this.confirmed);
    const rest = this.pending.shift();
    if (rest && this.confirmed > this.pendingOffset) await this.write(rest.subarray(0, this.confirmed - this.pendingOffset));
    this.pending.length = 0;
    this.output.end();
  }

  /** Ends the output with `error`: the writer discards what it wrote. */
  fail(error: Error): void {
    this.pending.length = 0;
    this.output.destroy(error);
  }

  /** Writes a chunk, waiting while the output is full; rejects when the writer stopped. */
  private write(chunk: Buffer): Promise<void> {
    const output = this.output;
    if (output.destroyed) return Promise.reject(output.errored ?? new CopyStopped());
    if (output.write(chunk)) return Promise.resolve();
    return new Promise<void>(function waitForRoom(resolve, reject) {
      const done = (error?: Error) => {
        output.off('drain', onDrain);
        output.off('close', onClose);
        if (error) reject(error);
        else resolve();
      };
      const onDrain = () => done();
      const onClose = () => done(output.errored ?? new CopyStopped());
      output.on('drain', onDrain);
      output.on('close', onClose);
    });
  }
}
