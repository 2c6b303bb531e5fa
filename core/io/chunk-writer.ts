/**
 * Writing a file or object a chunk at a time, without streams, for producers that reuse their
 * buffers (a reader that checks what it copies): each chunk is hashed (sha256) in order, and
 * written while the producer goes on; its promise says when the buffer is free again. A local file
 * is hashed by a hashing thread (hash-threads.ts) and written with positional writes in libuv's
 * threadpool, both beside the producer's thread, to a temporary name renamed into place when it is
 * whole, as the stream writers do.
 */
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { OffThreadSha256 } from './hash-threads';

/** Bytes a durable file is written between two background flushes (fdatasync beside the writes). */
export const FLUSH_EVERY = 16 * 1024 * 1024;

/** A file or object written a chunk at a time; what {@link ChunkWriter.end} returns is `R`. */
export interface ChunkWriter<R> {
  /**
   * Appends `chunk`. Resolves once the writer no longer needs the chunk's buffer (the caller may
   * then reuse it) and has hashed it; rejects when the write failed. Several writes may be in flight.
   */
  write(chunk: Buffer): Promise<void>;
  /** Waits for every write and makes the result whole (and durable, where the writer promises it). */
  end(): Promise<R>;
  /** Discards what was written: nothing stays under the name. Waits for writes in flight first. */
  abort(): Promise<void>;
}

/** What a hashing writer wrote. */
export interface WrittenBytes {
  size: number;
  sha256: string;
}

/**
 * Opens `temp` to write a file that becomes `target` when it ends (fsynced first when `durable`).
 * A failed or aborted write leaves neither.
 */
export async function openFileWriter(target: string, temp: string, options: { durable: boolean }): Promise<ChunkWriter<WrittenBytes>> {
  const handle = await open(temp, 'w');
  return new FileChunkWriter(handle, target, temp, options.durable);
}

class FileChunkWriter implements ChunkWriter<WrittenBytes> {
  private readonly hash = new OffThreadSha256();
  private size = 0;
  private readonly inFlight = new Set<Promise<unknown>>();
  private failed?: unknown;
  private closed = false;
  /** Bytes written since the last background flush started; the flush running, if one is. */
  private unflushed = 0;
  private flushing?: Promise<void>;

  constructor(private readonly handle: FileHandle, private readonly target: string, private readonly temp: string, private readonly durable: boolean) {}

  write(chunk: Buffer): Promise<void> {
    if (this.failed !== undefined) return Promise.reject(this.failed);
    if (this.closed) return Promise.reject(new Error(`${this.target} is already ended`));
    const hashed = this.hash.update(chunk);
    const at = this.size;
    this.size += chunk.length;
    const written = Promise.all([this.writeAt(chunk, at), hashed]).then(() => {
      this.unflushed += chunk.length;
      this.flushInBackground();
    });
    this.track(written);
    return written;
  }

  /**
   * A durable file's bytes start going to disk while the producer goes on: every FLUSH_EVERY bytes
   * written, an fdatasync runs in the threadpool (one at a time), so that the sync at the end waits
   * only for the last few, not for the whole file's writeback after the whole file's read.
   */
  private flushInBackground(): void {
    if (!this.durable || this.flushing || this.closed || this.unflushed < FLUSH_EVERY) return;
    this.unflushed = 0;
    this.flushing = this.handle.datasync().finally(() => {
      this.flushing = undefined;
    });
    this.track(this.flushing);
  }

  /** Keeps `work` for end() and abort() to wait for; its failure fails the file. */
  private track(work: Promise<void>): void {
    const tracked = work.then(() => undefined, (error: unknown) => {
      this.failed ??= error;
    }).finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }

  /** Writes all of `chunk` at `position` (a short write goes on where it stopped). */
  private async writeAt(chunk: Buffer, position: number): Promise<void> {
    for (let done = 0; done < chunk.length;) {
      const { bytesWritten } = await this.handle.write(chunk, done, chunk.length - done, position + done);
      done += bytesWritten;
    }
  }

  async end(): Promise<WrittenBytes> {
    this.closed = true;
    try {
      while (this.inFlight.size > 0) await Promise.all(this.inFlight);
      if (this.failed !== undefined) throw this.failed;
      const [sha256] = await Promise.all([this.hash.digest(), this.durable ? this.handle.sync() : undefined]);
      await this.handle.close();
      await rename(this.temp, this.target);
      return { size: this.size, sha256 };
    } catch (error) {
      await this.discard();
      throw error;
    }
  }

  async abort(): Promise<void> {
    this.closed = true;
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
    await this.discard();
  }

  private async discard(): Promise<void> {
    this.hash.discard();
    await this.handle.close().catch(() => undefined);
    await rm(this.temp, { force: true });
  }
}
