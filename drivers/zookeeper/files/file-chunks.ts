/**
 * A file's bytes in 1 MB chunks, for the readers of ZooKeeper's files: few reads, and each chunk
 * small enough to stay in the CPU's cache while it is checksummed, parsed and hashed (a record
 * spanning two chunks is joined once: jute-stream.ts). Each chunk is a buffer of its own, never
 * reused, so a reader may keep a slice of it or hand it on to a writer.
 */
import { open } from 'node:fs/promises';

/** Bytes per read. */
export const CHUNK_SIZE = 1024 * 1024;

/**
 * Reads `file` from its start to its end as it is when each read runs (a file being appended to
 * yields what was written before the last read).
 */
export async function* fileChunks(file: string, chunkSize = CHUNK_SIZE): AsyncGenerator<Buffer> {
  const handle = await open(file, 'r');
  try {
    for (;;) {
      const chunk = Buffer.allocUnsafeSlow(chunkSize);
      const { bytesRead } = await handle.read(chunk, 0, chunkSize, null);
      if (bytesRead === 0) return;
      yield bytesRead === chunkSize ? chunk : chunk.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}
