/**
 * Whether a manifest's artifacts are in the store as it records them (present, at their size): what
 * finalize checks before a backup becomes complete, and a restore before it touches a target. A
 * size check by `head` only: contents are re-hashed as they are downloaded (and by `verify`).
 */
import type { StoredArtifact } from '../driver/types';
import type { BlobStore } from '../store/blob-store';

/** What is wrong with the first artifact of `artifacts` the store does not hold at its size (`<key> is missing`), or undefined when none. */
export async function missingArtifact(store: BlobStore, artifacts: readonly StoredArtifact[]): Promise<string | undefined> {
  for (const artifact of artifacts) {
    const info = await store.head(artifact.key);
    if (!info || info.size !== artifact.size) return `${artifact.key} is ${info ? `${info.size} bytes, expected ${artifact.size}` : 'missing'}`;
  }
  return undefined;
}
