/**
 * Reads the small files that describe a stored backup, `manifest.json`, `verification.json` and
 * `drill.json`, so that one unreadable file damages one backup and nothing else: content
 * that is not JSON or does not match its schema becomes a
 * {@link BackupDamage} the catalog lists, instead of an error that stops `list` for the whole store.
 *
 * Only content problems count as damage. A store that cannot be read right now (throttling, a
 * network error, missing permissions) still throws: taking a good backup for a damaged one would
 * let `prune` delete it.
 */
import { PermanentError } from '../errors';
import type { BlobStore } from '../store/blob-store';
import { readJson } from '../store/json';
import { backupPrefix, drillKey, isOwnPoolObject, manifestKey, parsePoolKey, verificationKey } from './layout';
import { parseDrill, type DrillRecord } from './drill-record';
import { parseManifest, type BackupManifest } from './manifest';
import { parseVerification, type VerificationRecord } from './verification';

/** Why a backup's manifest or verification record cannot be used. */
export interface BackupDamage {
  /** The unreadable file, relative to the backup's prefix. */
  file: 'manifest.json' | 'verification.json' | 'drill.json';
  /** `INVALID_JSON`, `INVALID_MANIFEST`, `UNSUPPORTED_MANIFEST_VERSION` (another dbbackup wrote it), `INVALID_VERIFICATION` or `INVALID_DRILL`. */
  code: string;
  /** What is wrong with it, naming the object. */
  reason: string;
}

/** What reading one of the files gave: its content, damage, or nothing (the file went away). */
export type FileRead<T> = { value: T } | { damage: BackupDamage } | undefined;

/** Codes of content that cannot be used; anything else is a store problem and is rethrown. */
const CONTENT_CODES = new Set(['INVALID_JSON', 'INVALID_MANIFEST', 'UNSUPPORTED_MANIFEST_VERSION', 'INVALID_VERIFICATION', 'INVALID_DRILL']);

async function readEntryFile<T>(
  file: BackupDamage['file'], read: () => Promise<T | undefined>,
): Promise<FileRead<T>> {
  try {
    const value = await read();
    return value === undefined ? undefined : { value };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (!(error instanceof PermanentError) || typeof code !== 'string' || !CONTENT_CODES.has(code)) throw error;
    return { damage: { file, code, reason: error.message } };
  }
}

/**
 * The manifest of the backup stored under `prefix`. A manifest that names another backup (copied
 * in from elsewhere) or lists an artifact outside its own prefix (another backup's object, which
 * that backup's pruning would delete) is damage too: it does not describe what is stored here.
 * The one exception is its instance's pool: an artifact may be the pool object named by its own
 * sha256 (`pool/<engine>/<instance>/<sha256>`), which prune keeps while any manifest lists it.
 */
export function readManifest(store: BlobStore, prefix: string): Promise<FileRead<BackupManifest>> {
  const key = manifestKey(prefix);
  return readEntryFile('manifest.json', async () => {
    const raw = await readJson(store, key);
    if (raw === undefined) return undefined;
    const manifest = parseManifest(raw, key);
    assertInPlace(manifest, prefix, key);
    return manifest;
  });
}

function assertInPlace(manifest: BackupManifest, prefix: string, key: string): void {
  const own = backupPrefix(manifest.engine, manifest.instance, manifest.backupId);
  const stray = manifest.artifacts.find((a) => !a.key.startsWith(`${prefix}/`) && !isOwnPoolObject(a, manifest.engine, manifest.instance));
  const pooled = stray && parsePoolKey(stray.key);
  const problem = own !== prefix ? `it describes backup ${own}, not the one stored here`
    : pooled && pooled.engine === manifest.engine && pooled.instance === manifest.instance
      ? `its artifact ${stray.name} records sha256 ${stray.sha256}, but names the pool object of sha256 ${pooled.sha256} (${stray.key})`
      : stray ? `its artifact ${stray.name} lies outside the backup and its instance's pool (${stray.key})` : undefined;
  if (problem) throw new PermanentError(`manifest ${key} does not belong here: ${problem}`, { code: 'INVALID_MANIFEST' });
}

/** The latest verification record of the backup stored under `prefix`. */
export function readVerification(store: BlobStore, prefix: string): Promise<FileRead<VerificationRecord>> {
  const key = verificationKey(prefix);
  return readEntryFile('verification.json', async () => {
    const raw = await readJson(store, key);
    return raw === undefined ? undefined : parseVerification(raw, key);
  });
}

/** The newest restore drill of the backup stored under `prefix`. */
export function readDrill(store: BlobStore, prefix: string): Promise<FileRead<DrillRecord>> {
  const key = drillKey(prefix);
  return readEntryFile('drill.json', async () => {
    const raw = await readJson(store, key);
    return raw === undefined ? undefined : parseDrill(raw, key);
  });
}
