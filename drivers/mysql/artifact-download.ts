/**
 * Downloads the artifacts a restore needs into its spool, several at a time, each re-hashed
 * against the manifest on the way (core `downloadArtifacts`). A file already in the spool from an
 * earlier attempt is re-hashed locally and kept when it matches, so a retried restore does not
 * fetch it again.
 */
import { stat } from 'node:fs/promises';
import { downloadArtifacts } from '../../core/driver/download';
import { hashFile, resolveInside } from '../../core/driver/spool';
import type { StoredArtifact, TransferOptions } from '../../core/driver/types';
import { PermanentError } from '../../core/errors';
import { ENGINE } from './layout';

/**
 * Picks the stored artifacts called `names` from a backup's artifact list. A name may carry a
 * node prefix in multi-node manifests (`default/schema/shop.sql`).
 * @throws PermanentError `ARTIFACT_MISSING` naming what the manifest lacks.
 */
export function selectArtifacts(artifacts: StoredArtifact[], names: string[]): StoredArtifact[] {
  const byName = new Map(artifacts.map((a) => [a.name, a]));
  const missing: string[] = [];
  const selected = names.map((name) => {
    const exact = byName.get(name);
    if (exact) return exact;
    const prefixed = artifacts.filter((a) => a.name.endsWith(`/${name}`));
    if (prefixed.length === 1) return prefixed[0];
    missing.push(name);
    return undefined;
  });
  if (missing.length > 0) {
    throw new PermanentError(
      `the backup's manifest does not list ${missing.length} artifact(s) its facts need: ${missing.slice(0, 5).join(', ')}`,
      { code: 'ARTIFACT_MISSING', engine: ENGINE },
    );
  }
  return selected as StoredArtifact[];
}

async function alreadyThere(dir: string, artifact: StoredArtifact): Promise<boolean> {
  const file = resolveInside(dir, artifact.name);
  const info = await stat(file).catch(() => undefined);
  if (!info || info.size !== artifact.size) return false;
  return (await hashFile(file)).sha256 === artifact.sha256;
}

/**
 * Downloads `artifacts` into `dir`, `concurrency` at a time (the rate limit is shared between them).
 * Returns the local path of each artifact, keyed by artifact name, and the bytes in the spool.
 * @throws PermanentError `CHECKSUM_MISMATCH` when a stored artifact does not hash as recorded.
 */
export async function downloadAll(
  artifacts: StoredArtifact[],
  dir: string,
  transfer: Pick<TransferOptions, 'store' | 'rateLimit' | 'onProgress'>,
  concurrency: number,
): Promise<{ files: Record<string, string>; bytes: number }> {
  const total = artifacts.reduce((sum, a) => sum + a.size, 0);
  const progress = new Map<string, number>();
  const report = () => transfer.onProgress?.([...progress.values()].reduce((a, b) => a + b, 0), total);
  const workers = Math.max(1, Math.min(concurrency, artifacts.length));
  const rateLimit = transfer.rateLimit ? Math.max(1, Math.floor(transfer.rateLimit / workers)) : undefined;
  const files: Record<string, string> = {};
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < artifacts.length) {
      const artifact = artifacts[next++];
      if (!(await alreadyThere(dir, artifact))) {
        await downloadArtifacts([artifact], dir, {
          store: transfer.store,
          rateLimit,
          onProgress: (done) => { progress.set(artifact.name, done); report(); },
        });
      }
      progress.set(artifact.name, artifact.size);
      report();
      files[artifact.name] = resolveInside(dir, artifact.name);
    }
  };
  const outcomes = await Promise.allSettled(Array.from({ length: workers }, () => worker().catch((error: unknown) => {
    failed = true;
    throw error;
  })));
  const rejected = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (rejected) throw rejected.reason;
  return { files, bytes: total };
}
