/**
 * Writing a file or object a chunk at a time, without streams, for producers that reuse their
 * buffers (a reader that checks what it copies): each chunk is hashed (sha256) when it is given,
 * in order, and written while the producer goes on; its promise says when the buffer is free
 * again. A local file is written with positional writes in libuv's threadpool (the second core),
 * to a temporary name renamed into place when it is whole, as the stream writers do.
 */
import { createHash } from 'node:crypto';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';

/** A file or object written a chunk at a time; what {@link ChunkWriter.end} returns is `R`. */
export interface ChunkWriter<R> {
  /**
   * Appends `chunk`, hashed now. Resolves once the writer no longer needs the chunk's buffer (the
   * caller may then reuse it); rejects when the write failed. Several writes may be in flight.
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
  private readonly hash = createHash('sha256');
  private size = 0;
  private readonly inFlight = new Set<Promise<unknown>>();
  private failed?: unknown;
  private closed = false;

  constructor(private readonly handle: FileHandle, private readonly target: string, private readonly temp: string, private readonly durable: boolean) {}

  write(chunk: Buffer): Promise<void> {
    if (this.failed !== undefined) return Promise.reject(this.failed);
    if (this.closed) return Promise.reject(new Error(`${this.target} is already ended`));
    this.hash.update(chunk);
    const at = this.size;
    this.size += chunk.length;
    const written = this.writeAt(chunk, at);
    const tracked = written.then(() => undefined, (error: unknown) => {
      this.failed ??= error;
    }).finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
    return written;
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
      if (this.durable) await this.handle.sync();
      await this.handle.close();
      await rename(this.temp, this.target);
    } catch (error) {
      await this.discard();
      throw error;
    }
    return { size: this.size, sha256: this.hash.digest('hex') };
  }

  async abort(): Promise<void> {
    this.closed = true;
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
    await this.discard();
  }

  private async discard(): Promise<void> {
    await this.handle.close().catch(() => undefined);
    await rm(this.temp, { force: true });
  }
}
