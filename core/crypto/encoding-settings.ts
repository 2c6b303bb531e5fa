/**
 * What an instance asks of its artifacts' encoding (`compression`, `encryption` in the instances
 * file and the backup request), and turning that into the node's {@link ArtifactEncoding} on the
 * backing-up side and a {@link KeyOpener} on the restoring side.
 *
 * The backing-up side makes one data key per node and backup (KMS `GenerateDataKey`, or a local
 * key-encryption key) and keeps it in a file beside the node's spool for the life of the backup
 * run: every step of the node (snapshot, validate, upload, their retries) seals with the same key,
 * so a retried upload produces the same stored bytes and resumes, and validation reads back what
 * the snapshot sealed without ever asking KMS to decrypt (the backing-up role has no `kms:Decrypt`).
 * The file is no more secret than the spool beside it, which holds the plain artifacts, and goes
 * with it (cleanup); only the wrapped key ever leaves the host.
 */
import type { KMSClient } from '@aws-sdk/client-kms';
import { z } from 'zod';
import { PermanentError } from '../errors';
import { anySecretRefSchema } from '../config/secret-fields';
import { readJsonFile, writeFileAtomically } from '../io/json-file';
import { dataKeyFileOf } from '../runs/run-dir';
import { artifactKeySchema, type ArtifactEncoding, type ArtifactKey, type KeyOpener } from './artifact-encoding';
import { keyProvider, kmsProvider, passphraseProvider, type DataKeyProvider, type KeyContext, type WrappedKey } from './data-keys';

/** zstd for every artifact not compressed already; `level` 1 (fastest) … 19, `workers` threads (0: the calling thread; default 2). */
export const compressionSettingsSchema = z.strictObject({
  codec: z.literal('zstd').default('zstd'),
  level: z.number().int().min(1).max(19).default(3),
  workers: z.number().int().min(0).max(16).optional(),
});
export type CompressionSettings = z.infer<typeof compressionSettingsSchema>;

/**
 * Whose key wraps each backup's data keys: a KMS key (id, ARN or alias), or — outside AWS — a
 * 32-byte key or a passphrase, both by secret reference (`{ "$secret": "file:/etc/dbbackup/backup.key" }`).
 */
export const encryptionSettingsSchema = z.union([
  z.strictObject({ kms: z.string().min(1) }),
  z.strictObject({ key: anySecretRefSchema }),
  z.strictObject({ passphrase: anySecretRefSchema }),
], { error: 'encryption must be one of { "kms": "<key id, ARN or alias>" }, { "key": { "$secret": "<ref>" } } or { "passphrase": { "$secret": "<ref>" } }' });
export type EncryptionSettings = z.infer<typeof encryptionSettingsSchema>;

/**
 * The keys a restore may open data keys with besides KMS (which needs none: the wrapped key names
 * its KMS key, the role needs `kms:Decrypt` on it): the key or passphrase the backups were made with.
 */
export const restoreKeysSchema = z.strictObject({ key: anySecretRefSchema.optional(), passphrase: anySecretRefSchema.optional() });
export type RestoreKeys = z.infer<typeof restoreKeysSchema>;

/** What settings resolution needs from the process: secrets, and a KMS client when a key is KMS's. */
export interface KeyServices {
  resolveSecrets: (value: unknown) => Promise<unknown>;
  kms?: () => KMSClient;
}

/** The key provider `settings` names. */
export async function providerOf(settings: EncryptionSettings, services: KeyServices): Promise<DataKeyProvider> {
  if ('kms' in settings) return kmsProvider(kmsClient(services), settings.kms);
  if ('key' in settings) return keyProvider(String(await services.resolveSecrets(settings.key)), `the key ${settings.key.$secret}`);
  return passphraseProvider(String(await services.resolveSecrets(settings.passphrase)), `the passphrase ${settings.passphrase.$secret}`);
}

function kmsClient(services: KeyServices): KMSClient {
  if (!services.kms) throw new PermanentError('this process has no KMS client: encryption with a KMS key needs AWS credentials and a region', { code: 'KEY_UNAVAILABLE' });
  return services.kms();
}

const keptKeySchema = z.strictObject({ dataKey: z.string(), wrapped: artifactKeySchema });
/** The node's own key, and others its run opened (its pool's): what validation may open without a key service. */
const spoolKeySchema = keptKeySchema.extend({ more: z.array(keptKeySchema).default([]) });

/** What to do about a damaged key file: the artifacts sealed so far open with no other key. */
const KEY_FILE_DAMAGED = 'this backup run cannot go on; start a new backup (--no-resume)';

/** Where the node's data key is kept for the backup run: beside its spool (see the file comment). */
const spoolKeyFile = (spoolDir: string): string => dataKeyFileOf(spoolDir);

/**
 * The node's encoding for this backup run, or undefined when its instance asks for none. The data
 * key is made on first use (bound to `context`: the engine, instance and backup) and kept beside
 * the spool, so every step of the run uses the same one.
 */
export async function nodeEncoding(
  settings: { compression?: CompressionSettings; encryption?: EncryptionSettings },
  spoolDir: string,
  context: KeyContext,
  services: KeyServices,
): Promise<ArtifactEncoding | undefined> {
  if (!settings.compression && !settings.encryption) return undefined;
  const encoding: ArtifactEncoding = {};
  if (settings.compression) encoding.compression = { level: settings.compression.level, ...(settings.compression.workers !== undefined ? { workers: settings.compression.workers } : {}) };
  if (settings.encryption) encoding.key = await spoolKey(spoolKeyFile(spoolDir), settings.encryption, context, services);
  return encoding;
}

async function spoolKey(file: string, settings: EncryptionSettings, context: KeyContext, services: KeyServices): Promise<{ dataKey: Buffer; wrapped: ArtifactKey }> {
  const kept = await readJsonFile(file, spoolKeySchema, KEY_FILE_DAMAGED);
  if (kept) {
    // A key replaced behind the same reference since the run began: sealing on with the old one would
    // leave a backup the new key does not open (and a pool key under the new one, a backup needing both).
    const current = kept.wrapped.provider === 'key-file' && 'key' in settings ? await (await providerOf(settings, services)).fingerprint?.() : undefined;
    if (current !== undefined && current !== kept.wrapped.keyId) {
      throw new PermanentError(`the key ${(settings as { key: { $secret: string } }).key.$secret} changed since this backup run began (its data key is wrapped by ${kept.wrapped.keyId}, the key now is ${current}): start a new backup (--no-resume)`, { code: 'KEY_MISMATCH' });
    }
    return { dataKey: Buffer.from(kept.dataKey, 'base64'), wrapped: kept.wrapped };
  }
  const made = await (await providerOf(settings, services)).generate(context);
  const key = { dataKey: made.dataKey, wrapped: { ...made.wrapped, context: { ...context } } };
  await writeKeyFile(file, { dataKey: made.dataKey.toString('base64'), wrapped: key.wrapped, more: [] });
  return key;
}

/** Writes the node's key file whole (owner-only). */
async function writeKeyFile(file: string, content: z.infer<typeof spoolKeySchema>): Promise<void> {
  await writeFileAtomically(file, JSON.stringify(content), { mode: 0o600 });
}

/**
 * The restoring side's key opener: KMS-wrapped keys through KMS `Decrypt`, others with the key or
 * passphrase `keys` names; each wrapped key unwrapped once.
 */
export function keyOpener(keys: RestoreKeys | undefined, services: KeyServices): KeyOpener {
  const opened = new Map<string, Promise<Buffer>>();
  return function openKey(wrapped, context) {
    const id = `${wrapped.provider}\0${wrapped.wrapped}`;
    let key = opened.get(id);
    if (!key) {
      key = (async () => {
        const settings: EncryptionSettings | undefined = wrapped.provider === 'kms' ? { kms: wrapped.keyId }
          : wrapped.provider === 'key-file' ? (keys?.key ? { key: keys.key } : undefined)
            : keys?.passphrase ? { passphrase: keys.passphrase } : undefined;
        if (!settings) {
          const byKey = wrapped.provider === 'key-file';
          const otherGiven = byKey ? keys?.passphrase !== undefined : keys?.key !== undefined;
          throw new PermanentError(
            `this backup is encrypted with a data key wrapped by ${byKey ? `a key (fingerprint ${wrapped.keyId})` : 'a passphrase'}, and no ${byKey ? 'key' : 'passphrase'} was given to open it (${byKey ? '--key <ref>; keys.key in a request' : '--passphrase <ref>; keys.passphrase in a request'})${otherGiven ? `: a ${byKey ? 'passphrase' : 'key'} was given, which does not open it` : ''}`,
            { code: 'KEY_UNAVAILABLE' },
          );
        }
        return (await providerOf(settings, services)).unwrap(wrapped, context);
      })();
      key.catch(() => opened.delete(id));
      opened.set(id, key);
    }
    return key;
  };
}

/**
 * Keeps `key` (another key this run opened: its pool's) beside the node's own, so a later step of
 * the run — validation reading back pooled artifacts — opens it without asking the key service.
 */
export async function keepKey(spoolDir: string, key: { dataKey: Buffer; wrapped: ArtifactKey }): Promise<void> {
  const file = spoolKeyFile(spoolDir);
  const kept = await readJsonFile(file, spoolKeySchema, KEY_FILE_DAMAGED);
  if (!kept || [kept, ...kept.more].some((k) => k.wrapped.wrapped === key.wrapped.wrapped)) return;
  await writeKeyFile(file, { ...kept, more: [...kept.more, { dataKey: key.dataKey.toString('base64'), wrapped: key.wrapped }] });
}

/**
 * The backing-up side's key opener for the node whose spool is `spoolDir`: the keys kept beside
 * it, for artifacts sealed with them (what this backup run wrote); no other.
 */
export function spoolKeyOpener(spoolDir: string): KeyOpener {
  const file = spoolKeyFile(spoolDir);
  // Read once; again when a key is not found (another part of the run may have kept it since).
  let kept: Promise<z.infer<typeof spoolKeySchema> | undefined> | undefined;
  const find = async (wrapped: WrappedKey) => {
    const keys = await kept;
    return keys ? [keys, ...keys.more].find((k) => k.wrapped.wrapped === wrapped.wrapped) : undefined;
  };
  return async function openWithSpoolKey(wrapped) {
    kept ??= readJsonFile(file, spoolKeySchema, KEY_FILE_DAMAGED);
    let found = await find(wrapped);
    if (!found) {
      kept = readJsonFile(file, spoolKeySchema, KEY_FILE_DAMAGED);
      found = await find(wrapped);
    }
    if (!found) {
      throw new PermanentError(`an artifact is encrypted with a data key this backup run did not make or open (${file} ${(await kept) ? 'holds others' : 'is missing'}): the backing-up side opens only its own`, { code: 'KEY_UNAVAILABLE' });
    }
    return Buffer.from(found.dataKey, 'base64');
  };
}
