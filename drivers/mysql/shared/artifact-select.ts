/**
 * Which of a backup's stored artifacts a restore downloads. The download itself, several at a time
 * and keeping what an earlier attempt left intact in the spool, is core `downloadArtifacts`.
 */
import type { StoredArtifact } from '../../../core/driver/types';
import { PermanentError } from '../../../core/errors';
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
