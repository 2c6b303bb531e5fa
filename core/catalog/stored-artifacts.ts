/**
 * Whether a manifest's artifacts are in the store as it records them (present, at their size): what
 * finalize checks before a backup becomes complete, and a restore before it touches a target. A
 * size check only: contents are re-hashed as they are downloaded (and by `verify`).
 *
 * The sizes come from one listing of each backup's own folder (one request per thousand objects
 * on S3, where a `head` per artifact of a 1 000-table backup took a thousand round trips one after
 * the other), and from a `head` of each artifact elsewhere — a pool shared by every backup of the
 * instance, far larger than what one backup uses of it — a few at a time.
 */
import { mapLimited } from '../concurrency';
import { storedBytesOf } from '../driver/artifact-check';
import type { StoredArtifact } from '../driver/types';
import type { BlobStore } from '../store/blob-store';
import { parseBackupKey } from './layout';

/** `head` requests in flight at once for artifacts outside a backup's folder. */
const HEAD_CONCURRENCY = 8;

/** `backups/<engine>/<instance>/<backupId>/`: the folder of the backup `key` belongs to, if any (none: a pooled artifact's). */
export function backupFolder(key: string): string | undefined {
  const parts = parseBackupKey(key);
  return parts && key.slice(0, key.length - parts.rest.length);
}

/** A backup's folder (`backups/<engine>/<instance>/<backupId>/`) as a listing just saw it: each object's size by key. */
export interface FolderListing {
  folder: string;
  sizes: ReadonlyMap<string, number>;
}

/** One listing of `folder` (a backup's: ending in `/`). */
export async function listFolder(store: BlobStore, folder: string): Promise<FolderListing> {
  const sizes = new Map<string, number>();
  for await (const object of store.list(folder)) sizes.set(object.key, object.size);
  return { folder, sizes };
}

/**
 * Listings of the folders that hold pooled artifacts (`pool/<engine>/<instance>/`), each made once
 * and shared: what a caller that may list the pools but not read them (the prune function) passes
 * instead of a `head` per artifact.
 */
export class PoolListings {
  private readonly made = new Map<string, Promise<ReadonlyMap<string, number>>>();

  constructor(private readonly store: BlobStore) {}

  /** The size of the object at `key` as its folder's one listing saw it; undefined when absent. */
  async sizeOf(key: string): Promise<number | undefined> {
    const folder = key.slice(0, key.lastIndexOf('/') + 1);
    let listing = this.made.get(folder);
    if (!listing) this.made.set(folder, listing = listFolder(this.store, folder).then((l) => l.sizes));
    return (await listing).get(key);
  }
}

/** The stored size of every artifact (undefined: not stored), in their order; a folder `known` lists is not listed again, pooled ones are headed unless `pools` lists them. */
async function storedSizes(store: BlobStore, artifacts: readonly StoredArtifact[], known?: FolderListing, pools?: PoolListings): Promise<Array<number | undefined>> {
  const folderOf = artifacts.map((a) => backupFolder(a.key));
  const listed = new Map<string, number>();
  for (const folder of new Set(folderOf)) {
    if (folder === undefined) continue;
    const { sizes } = folder === known?.folder ? known : await listFolder(store, folder);
    for (const [key, size] of sizes) listed.set(key, size);
  }
  return mapLimited(artifacts, HEAD_CONCURRENCY, async (artifact, i) => {
    if (folderOf[i] !== undefined) return listed.get(artifact.key);
    return pools ? pools.sizeOf(artifact.key) : (await store.head(artifact.key))?.size;
  });
}

/** An artifact the store does not hold as recorded: gone (`ARTIFACT_MISSING`), or of another size (`ARTIFACT_SIZE_MISMATCH`: cut short, or written over). */
export interface ArtifactNotStored {
  code: 'ARTIFACT_MISSING' | 'ARTIFACT_SIZE_MISMATCH';
  /** `<key> is missing`, or `<key> is N bytes, expected M`. */
  what: string;
}

/**
 * The first artifact of `artifacts` the store does not hold at its size, or undefined when none.
 * `known`: a listing of the backup's folder just made (the catalog's, as it found the backup),
 * taken as it is; `pools`: listings of the pools to take pooled artifacts' sizes from (else a
 * `head` each).
 */
export async function artifactNotStored(store: BlobStore, artifacts: readonly StoredArtifact[], known?: FolderListing, pools?: PoolListings): Promise<ArtifactNotStored | undefined> {
  const sizes = await storedSizes(store, artifacts, known, pools);
  const storedSize = (artifact: StoredArtifact) => storedBytesOf(artifact).size; // an encoded artifact's stored bytes
  const index = artifacts.findIndex((artifact, i) => sizes[i] !== storedSize(artifact));
  if (index < 0) return undefined;
  const [artifact, size] = [artifacts[index], sizes[index]];
  return size === undefined
    ? { code: 'ARTIFACT_MISSING', what: `${artifact.key} is missing` }
    : { code: 'ARTIFACT_SIZE_MISMATCH', what: `${artifact.key} is ${size} bytes, expected ${storedSize(artifact)}` };
}
