/**
 * A copy of a file made by the same read that checks it: the tap reads the file, gives each chunk
 * to the reader that checks it, and writes to `writer` (a ChunkWriter: the spool, the store,
 * hashing as they write) the bytes the reader has confirmed, a chunk at a time, holding back the
 * rest. A txn log being written is copied up to its last whole transaction this way; a snapshot,
 * confirmed as a whole (`confirmAll`), is written as it is read, and its copy is aborted by the
 * caller when its checksum at the end does not hold.
 *
 * Buffers are reused: a chunk's buffer goes back to the pool once its write is done and the reader
 * has pulled the next chunk (the reader lets go of a chunk then: JuteStream's `reuse`). Writes run
 * in the writer's own time (libuv's threadpool for a local file) while the reader goes on; at most
 * MAX_WRITES are in flight, so memory stays at a few chunks (and what a log holds back: one txn).
 */
import { open } from 'node:fs/promises';
import type { ChunkWriter } from '../../../core/io/chunk-writer';
import { CHUNK_SIZE } from './file-chunks';

/** Chunk writes in flight at once before the read waits for the oldest. */
const MAX_WRITES = 4;

export class ByteTap {
  /** Chunks read and not yet written (each with the pool buffer it is in), in order, from stream offset `pendingOffset`. */
  private readonly pending: Array<{ chunk: Buffer; buffer: Buffer }> = [];
  private pendingOffset = 0;
  private confirmed = 0;
  /** Buffers free to read into. */
  private readonly free: Buffer[] = [];
  /** Writes not yet done, oldest first. */
  private readonly writes: Promise<void>[] = [];
  /** The first write that failed: the copy stops with it. */
  private failure?: { error: unknown };

  /** @param options.confirmAll write every chunk as it is read (the caller aborts the copy if the reader fails) */
  constructor(private readonly file: string, private readonly writer: ChunkWriter<unknown>, private readonly options: { confirmAll?: boolean } = {}) {}

  /**
   * The file's chunks, for the reader; each valid until the next is pulled. The next chunk is read
   * (in libuv's threadpool) while the reader works on the current one.
   * @throws a failed write's error
   */
  async *chunks(): AsyncGenerator<Buffer> {
    const handle = await open(this.file, 'r');
    const readNext = () => {
      const buffer = this.free.pop() ?? Buffer.allocUnsafeSlow(CHUNK_SIZE);
      return handle.read(buffer, 0, CHUNK_SIZE, null).then(({ bytesRead }) => ({ buffer, bytesRead }));
    };
    let reading = readNext();
    try {
      for (;;) {
        this.throwIfFailed();
        const { buffer, bytesRead } = await reading;
        if (bytesRead === 0) {
          this.free.push(buffer);
          return;
        }
        reading = readNext();
        const chunk = buffer.subarray(0, bytesRead);
        let written: Promise<void> | undefined;
        if (this.options.confirmAll) written = this.write(chunk);
        else this.pending.push({ chunk, buffer });
        yield chunk;
        // The reader is done with the chunk; its buffer is free once it is written (a pending one: later).
        if (written) this.release(buffer, written);
        await this.throttle();
      }
    } finally {
      await reading.catch(() => undefined); // the read ahead ends before the file closes
      await handle.close();
    }
  }

  /** The bytes before `offset` are good to copy: whole chunks among them are written now. */
  async confirm(offset: number): Promise<void> {
    this.confirmed = Math.max(this.confirmed, offset);
    while (this.pending.length > 0 && this.pendingOffset + this.pending[0].chunk.length <= this.confirmed) {
      const { chunk, buffer } = this.pending.shift()!;
      this.pendingOffset += chunk.length;
      this.release(buffer, this.write(chunk));
    }
    await this.throttle();
  }

  /** Writes the confirmed bytes still held back (what was read past them is left out) and waits for every write. @throws a failed write's error */
  async end(): Promise<void> {
    await this.confirm(this.confirmed);
    const rest = this.pending.shift()?.chunk;
    if (rest && this.confirmed > this.pendingOffset) void this.write(rest.subarray(0, this.confirmed - this.pendingOffset));
    this.pending.length = 0;
    await Promise.all(this.writes);
    this.throwIfFailed();
  }

  /** Starts writing `chunk`; a failure is kept for the read to stop with. */
  private write(chunk: Buffer): Promise<void> {
    const written = this.writer.write(chunk).catch((error: unknown) => {
      this.failure ??= { error };
    });
    this.writes.push(written);
    void written.then(() => this.writes.splice(this.writes.indexOf(written), 1));
    return written;
  }

  /** Returns `buffer` to the pool once `written` is done. */
  private release(buffer: Buffer, written: Promise<void>): void {
    void written.then(() => this.free.push(buffer));
  }

  /** Waits while too many writes are in flight. */
  private async throttle(): Promise<void> {
    while (this.writes.length >= MAX_WRITES) await this.writes[0];
    this.throwIfFailed();
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }
}
