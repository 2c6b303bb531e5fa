/** Cleaning up after a write stream that failed (the spool's and the stores' atomic writes). */
import { once } from 'node:events';
import type { WriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';

/**
 * Removes the file a failed write stream was writing. The file is opened asynchronously, so this
 * first waits until the stream has closed — removing it earlier could leave it to appear afterwards.
 */
export async function removeWrittenFile(writer: WriteStream, file: string): Promise<void> {
  if (!writer.closed) await once(writer, 'close').catch(() => undefined);
  await rm(file, { force: true });
}
