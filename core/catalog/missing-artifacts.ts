/**
 * What a restore of a backup would lack, found without reading its bytes: an artifact its facts
 * name that its manifest does not list (backup-record.ts `unlistedArtifacts`), or one the store
 * does not hold whole (stored-artifacts.ts). `restore latest` passes over such a backup, a restore
 * of it by id is refused, and `prune` does not count it as the backup `restore latest` takes.
 */
import type { DriverRegistry } from '../driver/registry';
import type { BlobStore } from '../store/blob-store';
import { unlistedArtifacts, unlistedText } from './backup-record';
import type { Catalog, CatalogEntry, LatestFilter } from './catalog';
import type { BackupManifest } from './manifest';
import { artifactNotStored, PoolListings, type FolderListing } from './stored-artifacts';

/** An artifact a backup's restore needs and the store does not hold whole, or its manifest does not list. */
export interface MissingArtifact {
  code: 'ARTIFACT_MISSING' | 'ARTIFACT_SIZE_MISMATCH';
  what: string;
}

/** Looks at a backup (`listed`: the listing of its folder the catalog made) once; asked again, answers from memory. */
export type MissingArtifacts = (manifest: BackupManifest, listed?: FolderListing) => Promise<MissingArtifact | undefined>;

/**
 * A {@link MissingArtifacts} over `store`, the facts read by `registry`'s drivers (without one, the
 * stored sizes only). Pooled artifacts are headed one by one, or with `pools: 'list'` found in one
 * listing of each pool (the prune function may list and delete pool objects, never read them; and
 * a backup of many pooled artifacts costs a request per thousand of them, not one each).
 */
export function missingArtifacts(store: BlobStore, registry: DriverRegistry | undefined, { pools = 'head' }: { pools?: 'head' | 'list' } = {}): MissingArtifacts {
  const found = new Map<string, MissingArtifact | undefined>();
  const listings = pools === 'list' ? new PoolListings(store) : undefined;
  return async (manifest, listed) => {
    const id = `${manifest.engine}/${manifest.instance}/${manifest.backupId}`;
    if (!found.has(id)) {
      const unlisted = registry ? unlistedArtifacts(registry, manifest) : [];
      found.set(id, unlisted.length > 0 ? { code: 'ARTIFACT_MISSING', what: unlistedText(unlisted) } : await artifactNotStored(store, manifest.artifacts, listed, listings));
    }
    return found.get(id);
  };
}

/** For `latest`: a backup a restore of which would lack an artifact is passed over, saying so. */
export function servesWhole(missing: MissingArtifacts): NonNullable<LatestFilter['serves']> {
  return async (entry, listed) => {
    const lacks = await missing(entry.manifest, listed);
    return lacks ? `is damaged: ${lacks.what}` : undefined;
  };
}

/**
 * The backup `restore latest` of `engine`/`instance` takes, whatever the target (a driver may pass
 * over more for a given target): the newest verified one no drill failed to restore, whose chain
 * holds and that lacks no artifact. Undefined when there is none.
 */
export async function latestRestorable(catalog: Catalog, engine: string, instance: string, missing: MissingArtifacts): Promise<CatalogEntry | undefined> {
  return catalog.find('latest', { engine, instance, restorable: true, serves: servesWhole(missing) }).catch((error: unknown) => {
    if ((error as { code?: unknown }).code === 'BACKUP_NOT_FOUND') return undefined;
    throw error;
  });
}
