/**
 * Restore-side counterpart of the spool: downloads a backup's artifacts into a local directory,
 * each re-hashed against the manifest on the way.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { resolveInside } from './spool';
import type { StoredArtifact, TransferOptions } from './types';

/** Downloads `artifacts` into `dir`; returns the local path of each, keyed by artifact name. */
export async function downloadArtifacts(
  artifacts: StoredArtifact[],
  dir: string,
  transfer: Pick<TransferOptions, 'store' | 'rateLimit' | 'onProgress'>,
): Promise<{ files: Record<string, string>; bytes: number }> {
  const total = artifacts.reduce((sum, a) => sum + a.size, 0);
  const files: Record<string, string> = {};
  let done = 0;
  for (const artifact of artifacts) {
    const file = resolveInside(dir, artifact.name);
    await mkdir(path.dirname(file), { recursive: true });
    const before = done;
    const got = await transfer.store.getFile(artifact.key, file, {
      expectedSha256: artifact.sha256,
      rateLimit: transfer.rateLimit,
      onProgress: (bytes) => transfer.onProgress?.(before + bytes, total),
    });
    done = before + got.size;
    files[artifact.name] = file;
  }
  return { files, bytes: done };
}
