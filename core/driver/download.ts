/**
 * Restore-side counterpart of the spool: downloads a backup's artifacts into a local directory,
 * each re-hashed against the manifest on the way; an encoded artifact (compressed, encrypted) has
 * its stored bytes checked and is decoded on the way, so the file holds its plain bytes.
 *
 * Several downloads may run at once; they share ONE token bucket, so the node's rate limit caps
 * them together and the last, largest download still gets the whole of it once the others are
 * done. A file already in the directory from an earlier attempt is kept when it hashes as the
 * manifest records, so a retried restore fetches only what it lacks. A caller that only reads the
 * files may take a local directory store's own files, verified where they are (`inPlace`).
 */
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { mapLimited } from '../concurrency';
import { PermanentError, stopIfAborted } from '../errors';
import { createRateLimiter } from '../store/rate-limiter';
import { resolveInside } from '../io/resolve-inside';
import { hashFile } from './spool';
import { openStored } from './artifact-check';
import { checksumMismatch, streamToFile } from '../store/transfer';
import type { StoredArtifact, TransferOptions } from './types';

export interface DownloadOptions extends Pick<TransferOptions, 'store' | 'rateLimit' | 'onProgress' | 'openKey'> {
  /** Downloads in flight at once (default 1). */
  concurrency?: number;
  /** Called as each artifact is in `dir` and verified (the order is `artifacts`' for those in flight at once): a consumer may start on it (core/concurrency.ts `Arrivals`). */
  onFile?: (name: string, file: string) => void;
  /** Once aborted, no further download starts (those running finish); the call fails with the reason. */
  signal?: AbortSignal;
  /**
   * Where the store keeps an artifact as a local file of its plain bytes (`localFile`: a local
   * directory), verify that file where it is and hand out its path instead of copying it. For a
   * caller that only reads the files, and that loses nothing should one vanish or change before it
   * is read (the store's file is not held: a restore into databases it created, which it drops
   * when it fails, and which proves what it loaded). Not with a rate limit: the caller's own reads
   * of the store would not be limited.
   */
  inPlace?: boolean;
}

/**
 * Downloads `artifacts` into `dir` (see the file comment); returns the local path of each, keyed by
 * artifact name, and the bytes of them all. Progress counts kept files as transferred.
 * @throws PermanentError `CHECKSUM_MISMATCH` when a stored artifact does not hash as recorded (the
 * first failure, once the downloads already running have finished; no new one starts after it).
 */
export async function downloadArtifacts(
  artifacts: StoredArtifact[],
  dir: string,
  options: DownloadOptions,
): Promise<{ files: Record<string, string>; bytes: number }> {
  const total = artifacts.reduce((sum, a) => sum + a.size, 0);
  const bucket = createRateLimiter(options.rateLimit);
  const progress = progressCounter(artifacts.length, total, options.onProgress);
  const files: Record<string, string> = {};
  const folders = new Map<string, Promise<unknown>>();
  /** Each folder made once (a database's chunks share one): before the object is opened, so a folder that cannot be made opens nothing. */
  const makeFolder = (folder: string) => {
    let made = folders.get(folder);
    if (!made) folders.set(folder, made = mkdir(folder, { recursive: true }));
    return made;
  };
  await mapLimited(artifacts, options.concurrency ?? 1, async function downloadOne(artifact, index) {
    stopIfAborted(options.signal, 'download');
    const own = options.inPlace && !bucket && !artifact.stored && options.store.hashObject ? options.store.localFile?.(artifact.key) : undefined;
    const file = own ?? resolveInside(dir, artifact.name);
    if (own !== undefined) {
      await verifyInPlace(options.store, artifact).catch((error: unknown) => { throw namingArtifact(error, artifact); });
    } else if (!(await isIntactCopy(file, artifact))) {
      await makeFolder(path.dirname(file));
      const fetched = artifact.stored
        ? openStored(options.store, artifact, options.openKey, { rateLimit: bucket }).then((plain) => streamToFile(plain, file, {
          key: artifact.key, expectedSha256: artifact.sha256, onProgress: (bytes) => progress(index, bytes),
        }))
        : options.store.getFile(artifact.key, file, { expectedSha256: artifact.sha256, rateLimit: bucket, onProgress: (bytes) => progress(index, bytes) });
      await fetched.catch((error: unknown) => { throw namingArtifact(error, artifact); });
    }
    progress(index, artifact.size);
    files[artifact.name] = file;
    options.onFile?.(artifact.name, file);
  });
  return { files, bytes: total };
}

/**
 * A store error about a shared object (a pool object, named by its content) that also names the
 * artifact it was fetched for; other errors as they are (their key already names the artifact).
 */
function namingArtifact(error: unknown, artifact: StoredArtifact): unknown {
  if (!(error instanceof PermanentError) || artifact.key.endsWith(`/${artifact.name}`)) return error;
  return new PermanentError(`artifact ${artifact.name}: ${error.message}`, { code: error.code, cause: error });
}

/** Checks that the store's own file of `artifact` holds the size and sha256 its manifest records. */
async function verifyInPlace(store: DownloadOptions['store'], artifact: StoredArtifact): Promise<void> {
  const { size, sha256 } = await store.hashObject!(artifact.key);
  if (sha256 !== artifact.sha256 || size !== artifact.size) throw checksumMismatch(`object ${artifact.key}`, artifact.sha256, sha256);
}

/** True when `file` exists with the artifact's recorded size and sha256. */
async function isIntactCopy(file: string, artifact: StoredArtifact): Promise<boolean> {
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile() || info.size !== artifact.size) return false;
  return (await hashFile(file)).sha256 === artifact.sha256;
}

/** Sums per-download progress into one running total for `onProgress`. */
function progressCounter(count: number, total: number, onProgress: TransferOptions['onProgress']): (index: number, bytes: number) => void {
  const done = new Array<number>(count).fill(0);
  let sum = 0;
  return function report(index, bytes) {
    sum += bytes - done[index];
    done[index] = bytes;
    onProgress?.(sum, total);
  };
}
