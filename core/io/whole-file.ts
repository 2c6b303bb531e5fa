/** Bytes already whole (a small object, one frame): hashed and written in one call each, no stream. */
import { createHash } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';

/** The sha256 of `data`, hex. */
export const sha256Hex = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

/**
 * Writes `data` to `temp` (fsynced before it closes with `flush`) and renames it to `target`, so
 * readers see the old file or the whole new one; on failure `temp` is removed and the error thrown.
 */
export async function writeWholeFile(target: string, temp: string, data: Uint8Array, options: { flush?: boolean } = {}): Promise<void> {
  try {
    await writeFile(temp, data, { flush: options.flush === true });
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
