/**
 * `dbbackup rekey`: an encrypted backup's data keys wrapped by another key, its data untouched
 * (core/crypto/artifact-encoding.ts). A KMS-wrapped key moves to another KMS key by `ReEncrypt`
 * (the data key never leaves KMS); a key or passphrase wrap is opened with the old one and wrapped
 * with the new. The manifest is rewritten with the new wraps; its verification and drill records
 * are bound to its content without the wraps (manifest.ts `contentDigest`), so they hold for it
 * still (only wraps changed: what they proved of the stored bytes holds). The
 * instance's pool keys (core/crypto/pool-key.ts) are rewrapped too, under the record the new
 * setting reads, so later backups with the new key keep deduplicating against the pool; once every
 * backup is rewrapped, the records the old key opens go ({@link retireOldPoolKeys}).
 */
import { randomBytes } from 'node:crypto';
import type { KMSClient } from '@aws-sdk/client-kms';
import { PermanentError } from '../errors';
import { artifactKeySchema, type ArtifactKey } from '../crypto/artifact-encoding';
import { rewrapWithKms } from '../crypto/data-keys';
import { poolKeyRecord } from '../crypto/pool-key';
import { keyOpener, providerOf, type EncryptionSettings, type KeyServices, type RestoreKeys } from '../crypto/encoding-settings';
import type { BlobStore } from '../store/blob-store';
import { readJson, writeJson } from '../store/json';
import { writeDrill } from './drill-record';
import { readDrill, readVerification } from './entry-files';
import { drillKey, manifestKey, poolPrefix, verificationKey } from './layout';
import { contentDigest, manifestDigest, parseManifest, type BackupManifest } from './manifest';

/** A wrapped data key wrapped by the new key instead. */
export type Rewrap = (key: ArtifactKey) => Promise<ArtifactKey>;

/**
 * Rewraps under `to`: KMS to KMS by `ReEncrypt`; anything to a key or passphrase by opening the
 * old wrap (`from`: the old key or passphrase; KMS needs none) and wrapping again.
 * @throws PermanentError `INVALID_INPUT` for a key or passphrase wrap moving to KMS (that would need `kms:Encrypt`)
 */
export function rewrapTo(to: EncryptionSettings, from: RestoreKeys | undefined, services: KeyServices): Rewrap {
  const open = keyOpener(from, services);
  return async function rewrap(key) {
    const { context, ...wrapped } = key;
    if (await wrappedBy(to, key, services)) return key; // done by an earlier run of the same rekey
    if ('kms' in to) {
      if (wrapped.provider !== 'kms') {
        throw new PermanentError(`a data key wrapped by ${wrapped.provider} (${wrapped.keyId}) moves only to another key or passphrase; to KMS keys only KMS-wrapped ones move (ReEncrypt)`, { code: 'INVALID_INPUT' });
      }
      return { ...(await rewrapWithKms(kmsOf(services), wrapped, context, to.kms)), context };
    }
    const provider = await providerOf(to, services);
    return { ...(await provider.wrap!(await open(wrapped, context), context)), context };
  };
}

/**
 * Checks that `to` can wrap keys before any backup is touched: a key or passphrase is read and
 * tried (a KMS key is checked by its first `ReEncrypt`).
 * @throws the provider's errors (`INVALID_KEY`, `SECRET_*`, `KEY_UNAVAILABLE`)
 */
export async function assertCanWrap(to: EncryptionSettings, services: KeyServices): Promise<void> {
  if ('kms' in to) return;
  await (await providerOf(to, services)).wrap!(randomBytes(32), { check: 'rekey' });
}

/** Whether `key` is wrapped by `to` already (a KMS key by its ARN; a key or passphrase: it opens the wrap). */
async function wrappedBy(to: EncryptionSettings, { context, ...wrapped }: ArtifactKey, services: KeyServices): Promise<boolean> {
  if ('kms' in to) return wrapped.provider === 'kms' && wrapped.keyId === to.kms;
  if (wrapped.provider !== ('key' in to ? 'key-file' : 'passphrase')) return false;
  return (await providerOf(to, services)).unwrap(wrapped, context).then(() => true, () => false);
}

function kmsOf(services: KeyServices): KMSClient {
  if (!services.kms) throw new PermanentError('this process has no KMS client', { code: 'KEY_UNAVAILABLE' });
  return services.kms();
}

const identity = (key: ArtifactKey): string => `${key.provider}\0${key.wrapped}`;

/** What {@link rekeyBackup} did: data keys rewrapped (each once, however many artifacts share it), and those the new key wrapped already. */
export interface RekeyResult {
  backupId: string;
  keys: number;
  artifacts: number;
  /** Data keys the new key wrapped already (an earlier run of the same rekey): left as they are. */
  alreadyWrapped: number;
  /** The backup was deleted (pruned) while its keys were rewrapped: nothing was written for it. */
  gone?: true;
}

/**
 * Whether the backup under `prefix` still has the manifest `manifest` it was read with. A rewrap
 * can take seconds (a passphrase's scrypt), and a prune deletes a backup's manifest first: written
 * after that, the manifest would bring a deleted backup back as complete, its data gone.
 * @throws PermanentError `REKEY_CONFLICT` when another manifest is there (another rekey ran).
 */
async function stillThere(store: BlobStore, prefix: string, manifest: BackupManifest): Promise<boolean> {
  const key = manifestKey(prefix);
  const now = await readJson(store, key);
  if (now === undefined) return false;
  if (manifestDigest(parseManifest(now, key)) !== manifestDigest(manifest)) {
    throw new PermanentError(`backup ${manifest.backupId}: its manifest changed while its keys were rewrapped (another rekey running?); nothing was written for it: run rekey again`, { code: 'REKEY_CONFLICT' });
  }
  return true;
}

/**
 * Rewraps every data key of the backup stored under `prefix` (see the file comment); a backup with
 * none is left as it is.
 */
export async function rekeyBackup(store: BlobStore, prefix: string, manifest: BackupManifest, rewrap: Rewrap): Promise<RekeyResult> {
  const moved = new Map<string, Promise<ArtifactKey>>();
  const artifacts = await Promise.all(manifest.artifacts.map(async (artifact) => {
    const key = artifact.stored?.dataKey;
    if (!key) return artifact;
    if (!moved.has(identity(key))) moved.set(identity(key), rewrap(key));
    return { ...artifact, stored: { ...artifact.stored!, dataKey: await moved.get(identity(key))! } };
  }));
  const unchanged = (await Promise.all([...moved].map(async ([id, key]) => identity(await key) === id))).filter(Boolean).length;
  if (moved.size === unchanged) return { backupId: manifest.backupId, keys: 0, artifacts: 0, alreadyWrapped: unchanged };
  const rekeyed: BackupManifest = { ...manifest, artifacts };
  parseManifest(JSON.parse(JSON.stringify(rekeyed)), manifestKey(prefix)); // a manifest that would not parse is never written
  const gone: RekeyResult = { backupId: manifest.backupId, keys: 0, artifacts: 0, alreadyWrapped: 0, gone: true };
  if (!await stillThere(store, prefix, manifest)) return gone;
  // Records bound to the whole manifest (an older version's) are bound to its content first, which
  // the rewrap does not change: a rekey stopped at any point leaves them with the manifest they proved.
  const [verification, drill] = [await readVerification(store, prefix), await readDrill(store, prefix)];
  const before = manifestDigest(manifest);
  const content = contentDigest(manifest);
  const rebound: string[] = [];
  if (verification && 'value' in verification && verification.value.manifestSha256 === before) {
    await writeJson(store, verificationKey(prefix), { ...verification.value, manifestSha256: content });
    rebound.push(verificationKey(prefix));
  }
  if (drill && 'value' in drill && drill.value.manifestSha256 === before) {
    await writeDrill(store, prefix, { ...drill.value, manifestSha256: content });
    rebound.push(drillKey(prefix));
  }
  if (!await stillThere(store, prefix, manifest)) {
    // A prune that began after the first look: the records just written would leave the deleted
    // backup's folder behind (listed as an incomplete backup), so they go too; the manifest is never written.
    if (rebound.length > 0) await store.delete(rebound);
    return gone;
  }
  await writeJson(store, manifestKey(prefix), rekeyed);
  return { backupId: manifest.backupId, keys: moved.size - unchanged, artifacts: artifacts.filter((a) => a.stored?.dataKey).length, alreadyWrapped: unchanged };
}

/** The pool's key records under `prefix` that hold a wrapped key (others are passed over), with their object keys. */
async function* poolKeyRecords(store: BlobStore, prefix: string): AsyncGenerator<{ key: string; wrapped: ArtifactKey }> {
  for await (const object of store.list(`${prefix}/pool-key-`)) {
    const record = artifactKeySchema.safeParse((await readJson<{ wrapped?: unknown }>(store, object.key))?.wrapped);
    if (record.success) yield { key: object.key, wrapped: record.data };
  }
}

/**
 * Rewraps the pool key of `engine`/`instance` (the first record the old key opens) under the record
 * that setting `to` reads (core/crypto/pool-key.ts), unless one is there already; returns how many it
 * wrote. The record is named by the setting (its key ARN or secret reference), not the key behind
 * it: a new key behind the same reference needs a new reference.
 */
export async function rekeyPool(store: BlobStore, engine: string, instance: string, to: EncryptionSettings, rewrap: Rewrap): Promise<number> {
  const prefix = poolPrefix(engine, instance);
  const target = poolKeyRecord(prefix, to);
  if ((await readJson(store, target)) !== undefined) return 0;
  for await (const record of poolKeyRecords(store, prefix)) {
    const rewrapped = await rewrap(record.wrapped).catch(() => undefined); // a record of another setting the old key does not open
    if (!rewrapped) continue;
    await writeJson(store, target, { formatVersion: 1, wrapped: rewrapped });
    return 1;
  }
  return 0;
}

/**
 * Once every backup of `engine`/`instance` is rewrapped by `to`: removes the pool's key records the
 * old key opens (`from`; KMS-wrapped ones by the role's own access), but the one setting `to`
 * reads, which must be there — so the retired key opens nothing in the store any more. A backup
 * still set to the old key then makes a new pool key (deduplication starts again; pool-key.ts).
 * The pool's data key itself stays: whoever unwrapped it before still holds it (README). Returns
 * how many records went.
 */
export async function retireOldPoolKeys(
  store: BlobStore, engine: string, instance: string, to: EncryptionSettings, from: RestoreKeys | undefined, services: KeyServices,
): Promise<number> {
  const prefix = poolPrefix(engine, instance);
  const kept = poolKeyRecord(prefix, to);
  if ((await readJson(store, kept)) === undefined) return 0; // nothing would open the pool's key then
  const open = keyOpener(from, services);
  const retired: string[] = [];
  for await (const record of poolKeyRecords(store, prefix)) {
    if (record.key === kept) continue;
    const { context, ...wrapped } = record.wrapped;
    if (await open(wrapped, context).then(() => true, () => false)) retired.push(record.key);
  }
  if (retired.length > 0) await store.delete(retired);
  return retired.length;
}
