/**
 * A file's bytes in 1 MB chunks, for the readers of ZooKeeper's files: few reads, and each chunk
 * small enough to stay in the CPU's cache while it is checksummed, parsed and hashed (a record
 * spanning two chunks is joined once: jute-stream.ts). Each chunk is a buffer of its own, never
 * reused, so a reader may keep a slice of it or hand it on to a writer, unless `reuse` is asked for.
 */
import { open } from 'node:fs/promises';

/** Bytes per read. */
export const CHUNK_SIZE = 1024 * 1024;

/**
 * Reads `file` from its start to its end as it is when each read runs (a file being appended to
 * yields what was written before the last read). With `reuse`, two buffers take turns (the next
 * read runs while the caller works on a chunk): a chunk is valid only until the next is pulled.
 */
export async function* fileChunks(file: string, options: { reuse?: boolean } = {}): AsyncGenerator<Buffer> {
  const handle = await open(file, 'r');
  let reading: Promise<{ bytesRead: number }> | undefined;
  try {
    if (!options.reuse) {
      for (;;) {
        const chunk = Buffer.allocUnsafeSlow(CHUNK_SIZE);
        const { bytesRead } = await handle.read(chunk, 0, CHUNK_SIZE, null);
        if (bytesRead === 0) return;
        yield bytesRead === CHUNK_SIZE ? chunk : chunk.subarray(0, bytesRead);
      }
    }
    const buffers = [Buffer.allocUnsafeSlow(CHUNK_SIZE), Buffer.allocUnsafeSlow(CHUNK_SIZE)];
    let turn = 0;
    reading = handle.read(buffers[turn], 0, CHUNK_SIZE, null);
    for (;;) {
      const { bytesRead } = await reading;
      reading = undefined;
      if (bytesRead === 0) return;
      const chunk = buffers[turn].subarray(0, bytesRead);
      turn ^= 1;
      reading = handle.read(buffers[turn], 0, CHUNK_SIZE, null);
      yield chunk;
    }
  } finally {
    await reading?.catch(() => undefined);
    await handle.close();
  }
}
