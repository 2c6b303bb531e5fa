/**
 * How a content-addressed pool (catalog/layout.ts) stays deduplicated when its objects are
 * compressed or encrypted: every backup of the instance must encode the same bytes to the same
 * object, under the same name, without the name telling anyone the plaintext's sha256.
 *
 * - One data key per pool and wrapping key, made by the first backup that needs it and kept wrapped
 *   in the pool (`pool/<engine>/<instance>/pool-key-<id>.json`, which no sweep touches); later
 *   backups unwrap it (the backing-up role needs `kms:Decrypt` for it, under the pool's encryption
 *   context only). Every pooled object is sealed with it, deterministically (sealed-stream.ts).
 * - An object's name is a keyed hash of its plaintext's sha256 and of how it is encoded: HMAC-SHA256
 *   under a key derived from the pool's data key (or, compressed only, a fixed key: nothing is
 *   secret then), so the same file gives the same name in every backup, a file encoded another way
 *   another name, and the name reveals nothing of the content without the key.
 *
 * A key file replaced behind the same reference no longer unwraps the pool's key, and the record
 * says so (its key's fingerprint is not the new key's): the next backup makes a new pool key and
 * replaces the record (what was sealed under the old one stays, each artifact recording its wrapped
 * key; deduplication starts again). Any other mismatch is an error: a passphrase has no fingerprint
 * (a wrong one and a replaced one look alike: a new passphrase takes a new reference, or `rekey`),
 * a record whose fingerprint is the key's was changed, and a KMS key's rotation keeps old versions.
 *
 * Two backups making a pool's first key at once each write theirs and read the record back: the
 * last written stays, and those reading after it use it. One that read its own before another's
 * overwrote it keeps its own: every artifact records the wrapped key it was sealed with, so both
 * backups restore; only deduplication between them is lost until the next backup.
 */
import { createHash, createHmac, hkdfSync } from 'node:crypto';
import { z } from 'zod';
import { PermanentError } from '../errors';
import type { BlobStore } from '../store/blob-store';
import { readJson, writeJson } from '../store/json';
import { artifactKeySchema, compresses, type ArtifactEncoding } from './artifact-encoding';
import type { DataKeyProvider, KeyContext, WrappedKey } from './data-keys';
import { providerOf, type CompressionSettings, type EncryptionSettings, type KeyServices } from './encoding-settings';

/** A pool's encoding: the node's compression, the pool's own data key, and the key its object names are hashed with. */
export interface PoolEncoding extends ArtifactEncoding {
  nameKey: Buffer;
}

const poolKeyRecordSchema = z.strictObject({ formatVersion: z.literal(1), wrapped: artifactKeySchema });

/** Where the pool at `prefix` keeps its data key for encryption setting `encryption` (one record per setting). */
export function poolKeyRecord(prefix: string, encryption: EncryptionSettings): string {
  return `${prefix}/pool-key-${createHash('sha256').update(JSON.stringify(encryption)).digest('hex').slice(0, 16)}.json`;
}

/** Names objects when nothing is secret (compressed only): a fixed key, so names stay stable. */
const PUBLIC_NAME_KEY = Buffer.from('dbbackup pool object names');

/**
 * The encoding of the pool at `prefix` for `settings` (absent: stored as they are).
 * @throws the key provider's errors (`KEY_UNAVAILABLE` with the permission a role lacks, `KEY_MISMATCH`)
 */
export async function poolEncoding(
  settings: { compression?: CompressionSettings; encryption?: EncryptionSettings },
  store: BlobStore,
  prefix: string,
  context: KeyContext,
  services: KeyServices,
  runKey?: WrappedKey,
): Promise<PoolEncoding | undefined> {
  if (!settings.compression && !settings.encryption) return undefined;
  const compression = settings.compression ? { compression: { level: settings.compression.level, ...(settings.compression.workers !== undefined ? { workers: settings.compression.workers } : {}) } } : {};
  if (!settings.encryption) return { ...compression, nameKey: PUBLIC_NAME_KEY };
  const provider = await providerOf(settings.encryption, services);
  const recordKey = poolKeyRecord(prefix, settings.encryption);
  const makeKey = async () => {
    // The first backup to need it makes it; read back, so nodes making it at once mostly agree on the last one written.
    const made = await provider.generate(context);
    await writeJson(store, recordKey, { formatVersion: 1, wrapped: { ...made.wrapped, context: { ...context } } });
  };
  if (await readJson(store, recordKey) === undefined) await makeKey();
  let key = await openPoolKey(store, recordKey, provider, context);
  if ('anotherKey' in key && await replacedKey(key.wrapped, provider, runKey)) {
    await makeKey();
    key = await openPoolKey(store, recordKey, provider, context);
  }
  if ('anotherKey' in key) throw key.anotherKey;
  return { ...compression, key, nameKey: Buffer.from(hkdfSync('sha256', key.dataKey, Buffer.alloc(0), 'dbbackup pool object names', 32)) };
}

/**
 * Whether the pool record's key `recorded` was wrapped by a key file since replaced behind the same
 * reference: its fingerprint is not the current key's, which also wraps this run's own data key
 * (`runKey`; a key replaced during the run would leave the backup needing two keys). A passphrase
 * has no fingerprint: a wrong one and a replaced one look alike, so neither is taken for the other.
 */
async function replacedKey(recorded: WrappedKey, provider: DataKeyProvider, runKey: WrappedKey | undefined): Promise<boolean> {
  if (recorded.provider !== 'key-file' || !provider.fingerprint) return false;
  const current = await provider.fingerprint();
  if (recorded.keyId === current) return false; // the same key, and still it does not unwrap: a changed record, not a new key
  if (runKey && runKey.keyId !== current) {
    throw new PermanentError(`the key behind this backup's key reference changed during the backup run (its data key is wrapped by ${runKey.keyId}, the key now is ${current}): start a new backup (--no-resume)`, { code: 'KEY_MISMATCH' });
  }
  return true;
}

/** The pool's data key from its record at `recordKey`, or the error saying the record's key (`wrapped`) is not `provider`'s. */
async function openPoolKey(store: BlobStore, recordKey: string, provider: DataKeyProvider, context: KeyContext): Promise<NonNullable<ArtifactEncoding['key']> | { anotherKey: Error; wrapped: WrappedKey }> {
  const record = poolKeyRecordSchema.safeParse(await readJson(store, recordKey));
  if (!record.success) throw new PermanentError(`the pool's key record ${recordKey} is malformed`, { code: 'KEY_MISMATCH' });
  const { context: recorded, ...wrapped } = record.data.wrapped;
  if (recorded.engine !== context.engine || recorded.instance !== context.instance || recorded.use !== 'pool') {
    throw new PermanentError(`the pool's key record ${recordKey} is for ${JSON.stringify(recorded)}, not this pool`, { code: 'KEY_MISMATCH' });
  }
  try {
    return { dataKey: await provider.unwrap(wrapped, recorded), wrapped: record.data.wrapped };
  } catch (error) {
    if ((error as PermanentError).code === 'KEY_MISMATCH') return { anotherKey: error as Error, wrapped };
    throw error;
  }
}

/** The name (64 hex digits, as a pool object's) of the object holding artifact `name`'s plaintext `plainSha256` encoded with `encoding`. */
export function pooledObjectName(encoding: PoolEncoding, name: string, plainSha256: string): string {
  const how = `${compresses(encoding, name) ? `zstd-${encoding.compression!.level}` : 'plain'}${encoding.key ? '+sealed' : ''}`;
  return createHmac('sha256', encoding.nameKey).update(`${how}\0${plainSha256}`).digest('hex');
}
