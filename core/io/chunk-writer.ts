/**
 * Writing a file or object a chunk at a time, without streams, for producers that reuse their
 * buffers (a reader that checks what it copies): each chunk is hashed (sha256) in order, and
 * written while the producer goes on; its promise says when the buffer is free again. A local file
 * is hashed by a hashing thread (hash-threads.ts) and written with positional writes in libuv's
 * threadpool, both beside the producer's thread, to a temporary name renamed into place when it is
 * whole, as the stream writers do.
 */
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { FlushBehind } from './flush-behind';
import { OffThreadSha256 } from './hash-threads';

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

/** How a file written by {@link openFileWriter} reaches the disk. */
export interface FileDurability {
  /** fsynced before it is renamed into place. */
  durable: boolean;
  /**
   * Flushed behind the writes (flush-behind.ts): true for a file that must end up on disk, now
   * (`durable`, the default) or when its store persists it later; false for scratch files.
   */
  flushBehind?: boolean;
}

/**
 * Opens `temp` to write a file that becomes `target` when it ends (fsynced first when `durable`).
 * A failed or aborted write leaves neither.
 */
export async function openFileWriter(target: string, temp: string, options: FileDurability): Promise<ChunkWriter<WrittenBytes>> {
  const handle = await open(temp, 'w');
  return new FileChunkWriter(handle, target, temp, options.durable, options.flushBehind ?? options.durable);
}

class FileChunkWriter implements ChunkWriter<WrittenBytes> {
  private readonly hash = new OffThreadSha256();
  private size = 0;
  private readonly inFlight = new Set<Promise<unknown>>();
  private failed?: unknown;
  private closed = false;
  private readonly behind?: FlushBehind;

  constructor(private readonly handle: FileHandle, private readonly target: string, private readonly temp: string, private readonly durable: boolean, flushBehind: boolean) {
    if (flushBehind) this.behind = new FlushBehind(() => handle.datasync());
  }

  write(chunk: Buffer): Promise<void> {
    this.failed ??= this.behind?.failure;
    if (this.failed !== undefined) return Promise.reject(this.failed);
    if (this.closed) return Promise.reject(new Error(`${this.target} is already ended`));
    const hashed = this.hash.update(chunk);
    const at = this.size;
    this.size += chunk.length;
    const written = Promise.all([this.writeAt(chunk, at), hashed]).then(() => {
      if (!this.closed) this.behind?.wrote(chunk.length);
    });
    this.track(written);
    return written;
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
      await this.behind?.settle();
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
    await this.behind?.settle().catch(() => undefined);
    await this.discard();
  }

  private async discard(): Promise<void> {
    this.hash.discard();
    await this.handle.close().catch(() => undefined);
    await rm(this.temp, { force: true });
  }
}
