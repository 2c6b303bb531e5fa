/**
 * The size and sha256 of a local file, read in place: two reused 1 MiB buffers, the read of the
 * next overlapping the hash of the current (the read runs in libuv's threadpool). About three times
 * faster than hashing a read stream, which allocates a fresh buffer per read (page faults, GC of
 * external memory) and goes through the stream machinery; memory stays at the two buffers.
 */
import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';

const BUFFER_SIZE = 1024 * 1024;

/** Hashes an open file from its start to its end (as it is when each read runs); `signal` stops it between reads. */
export async function hashFileHandle(handle: FileHandle, signal?: AbortSignal): Promise<{ size: number; sha256: string }> {
  signal?.throwIfAborted();
  const hash = createHash('sha256');
  const buffers = [Buffer.allocUnsafeSlow(BUFFER_SIZE), Buffer.allocUnsafeSlow(BUFFER_SIZE)];
  let size = 0;
  let current = 0;
  let reading = handle.read(buffers[current], 0, BUFFER_SIZE, 0);
  for (;;) {
    const { bytesRead } = await reading;
    if (bytesRead === 0) break;
    signal?.throwIfAborted();
    const filled = buffers[current];
    size += bytesRead;
    current ^= 1;
    reading = handle.read(buffers[current], 0, BUFFER_SIZE, size);
    hash.update(filled.subarray(0, bytesRead));
  }
  return { size, sha256: hash.digest('hex') };
}

/** Hashes the file at `filePath` (fs errors as thrown: `ENOENT` when it is missing); `signal` stops it between reads. */
export async function hashLocalFile(filePath: string, signal?: AbortSignal): Promise<{ size: number; sha256: string }> {
  const handle = await open(filePath, 'r');
  try {
    return await hashFileHandle(handle, signal);
  } finally {
    await handle.close();
  }
}
