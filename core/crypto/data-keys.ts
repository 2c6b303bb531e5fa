/**
 * Data keys for sealed artifacts (sealed-stream.ts), by envelope: each backup gets a data key of
 * its own, and only the key wrapped by a key-encryption key is ever stored (in the manifest).
 *
 * - `kms`: AWS KMS. `GenerateDataKey` (the backing-up side's only permission) returns the key and
 *   it wrapped; `Decrypt` (the restoring side's) unwraps it; `ReEncrypt` moves a wrapped key to a
 *   new KMS key without the data key ever leaving KMS (`dbbackup rekey`). A KMS key's rotation
 *   keeps its old versions: a key wrapped before a rotation still unwraps.
 * - `key-file`: a 32-byte key in a local file (base64, hex or raw), for stores outside AWS.
 * - `passphrase`: a key derived from a passphrase with scrypt (N 2^15, r 8, p 1; a salt per wrap).
 *
 * Local wraps are AES-256-GCM over the data key, the context bound as associated data, like KMS's
 * encryption context: a wrapped key copied into another backup's manifest does not unwrap there.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes, scrypt as scryptCallback, type ScryptOptions } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { DecryptCommand, GenerateDataKeyCommand, ReEncryptCommand, type KMSClient } from '@aws-sdk/client-kms';
import { z } from 'zod';
import { PermanentError, TransientError } from '../errors';
import { DATA_KEY_BYTES } from './sealed-stream';

/** A data key as a manifest records it: how it is wrapped, under which key, and the wrapped bytes (base64). */
export const wrappedKeySchema = z.strictObject({
  provider: z.enum(['kms', 'key-file', 'passphrase']),
  /** The KMS key's ARN, the key file's fingerprint (`sha256:<16 hex>`), or `scrypt` for a passphrase. */
  keyId: z.string().min(1),
  wrapped: z.string().min(1),
  /** A passphrase wrap's scrypt salt (base64). */
  salt: z.string().optional(),
});
export type WrappedKey = z.infer<typeof wrappedKeySchema>;

/** What a data key is bound to (KMS encryption context; the associated data of a local wrap): e.g. the backup's id. */
export type KeyContext = Readonly<Record<string, string>>;

export interface DataKeyProvider {
  /** A new data key, and it wrapped for the manifest. */
  generate(context: KeyContext): Promise<{ dataKey: Buffer; wrapped: WrappedKey }>;
  /** The data key `wrapped` holds. @throws PermanentError `KEY_UNAVAILABLE` (not this provider's key, or no access), `KEY_MISMATCH` (wrong key or context). */
  unwrap(wrapped: WrappedKey, context: KeyContext): Promise<Buffer>;
  /** `dataKey` wrapped by this provider (a local key or passphrase; `dbbackup rekey`): absent for KMS, whose keys move by `ReEncrypt` ({@link rewrapWithKms}). */
  wrap?(dataKey: Buffer, context: KeyContext): Promise<WrappedKey>;
  /** A key's fingerprint, as its wraps record it (`keyId`): only a key (file) has one. */
  fingerprint?(): Promise<string>;
}

const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const SCRYPT: ScryptOptions = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

/** The context as associated data: its entries sorted, so the order they were given in does not matter. */
const contextBytes = (context: KeyContext): Buffer => Buffer.from(JSON.stringify(Object.entries(context).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));

function wrapWith(kek: Buffer, dataKey: Buffer, context: KeyContext): string {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', kek, nonce);
  cipher.setAAD(contextBytes(context));
  return Buffer.concat([nonce, cipher.update(dataKey), cipher.final(), cipher.getAuthTag()]).toString('base64');
}

function unwrapWith(kek: Buffer, wrapped: string, context: KeyContext, what: string): Buffer {
  const bytes = Buffer.from(wrapped, 'base64');
  if (bytes.length !== NONCE_BYTES + DATA_KEY_BYTES + TAG_BYTES) throw new PermanentError(`the wrapped data key is ${bytes.length} bytes, not a wrapped key`, { code: 'KEY_MISMATCH' });
  const decipher = createDecipheriv('aes-256-gcm', kek, bytes.subarray(0, NONCE_BYTES));
  decipher.setAAD(contextBytes(context));
  decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(bytes.subarray(NONCE_BYTES, bytes.length - TAG_BYTES)), decipher.final()]);
  } catch {
    throw new PermanentError(`the data key does not unwrap with ${what}, for ${JSON.stringify(context)}: another key, or a wrapped key copied from another backup or changed`, { code: 'KEY_MISMATCH' });
  }
}

/** A key file's 32 bytes: base64 (44 characters), hex (64) or raw; surrounding whitespace ignored. */
export function parseKeyFile(content: Buffer, file: string): Buffer {
  const text = content.toString('latin1').trim();
  const key = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex')
    : /^[A-Za-z0-9+/]{43}=$/.test(text) ? Buffer.from(text, 'base64')
      : content.length === DATA_KEY_BYTES ? content : undefined;
  if (!key) throw new PermanentError(`key file ${file} holds no 32-byte key (base64, 64 hex characters, or 32 raw bytes); make one with: openssl rand -base64 32 > ${file}`, { code: 'INVALID_KEY' });
  return key;
}

/** A key file's fingerprint, recorded as the key id (never the key). */
const fingerprint = (key: Buffer): string => `sha256:${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;

/** Data keys wrapped by the key in `file` (read once, when first needed). */
export function keyFileProvider(file: string): DataKeyProvider {
  return keyLoadedBy(() => readFile(file).then((content) => parseKeyFile(content, file), (error: NodeJS.ErrnoException) => {
    throw new PermanentError(`key file ${file} cannot be read: ${error.code ?? error.message}`, { code: 'KEY_UNAVAILABLE', cause: error });
  }), `key file ${file}`);
}

/**
 * Data keys wrapped by the key `text` holds — a secret's value, so text only: base64 (44
 * characters) or hex (64); `label` names it in errors.
 */
export function keyProvider(text: string, label: string): DataKeyProvider {
  return keyLoadedBy(async () => {
    const trimmed = text.trim();
    if (!/^[0-9a-fA-F]{64}$/.test(trimmed) && !/^[A-Za-z0-9+/]{43}=$/.test(trimmed)) {
      throw new PermanentError(`${label} holds no 32-byte key as text (base64 or 64 hex characters); make one with: openssl rand -base64 32`, { code: 'INVALID_KEY' });
    }
    return parseKeyFile(Buffer.from(trimmed, 'latin1'), label);
  }, label);
}

/** Data keys wrapped by the key `load` gives (called once, when first needed). */
function keyLoadedBy(load: () => Promise<Buffer>, label: string): DataKeyProvider {
  let kek: Promise<Buffer> | undefined;
  const key = () => (kek ??= load());
  const provider: DataKeyProvider = {
    async generate(context) {
      const dataKey = randomBytes(DATA_KEY_BYTES);
      return { dataKey, wrapped: await provider.wrap!(dataKey, context) };
    },
    async fingerprint() {
      return fingerprint(await key());
    },
    async wrap(dataKey, context) {
      const kekBytes = await key();
      return { provider: 'key-file', keyId: fingerprint(kekBytes), wrapped: wrapWith(kekBytes, dataKey, context) };
    },
    async unwrap(wrapped, context) {
      const kekBytes = await key();
      if (wrapped.provider !== 'key-file') throw new PermanentError(`this backup's data key is wrapped by ${wrapped.provider} (${wrapped.keyId}), not by a key`, { code: 'KEY_UNAVAILABLE' });
      if (wrapped.keyId !== fingerprint(kekBytes)) {
        throw new PermanentError(`this backup's data key is wrapped by the key with fingerprint ${wrapped.keyId}; ${label} is ${fingerprint(kekBytes)}`, { code: 'KEY_MISMATCH' });
      }
      return unwrapWith(kekBytes, wrapped.wrapped, context, label);
    },
  };
  return provider;
}

function scrypt(passphrase: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scryptCallback(passphrase, salt, DATA_KEY_BYTES, SCRYPT, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

/** Data keys wrapped by a key scrypt derives from `passphrase` (a new salt for every wrap); `label` names it in errors. */
export function passphraseProvider(passphrase: string, label = 'the passphrase'): DataKeyProvider {
  if (passphrase.length < 12) throw new PermanentError(`${label} is ${passphrase.length} characters: a passphrase of at least 12 characters is needed`, { code: 'INVALID_KEY' });
  const provider: DataKeyProvider = {
    async generate(context) {
      const dataKey = randomBytes(DATA_KEY_BYTES);
      return { dataKey, wrapped: await provider.wrap!(dataKey, context) };
    },
    async wrap(dataKey, context) {
      const salt = randomBytes(16);
      return { provider: 'passphrase', keyId: 'scrypt', salt: salt.toString('base64'), wrapped: wrapWith(await scrypt(passphrase, salt), dataKey, context) };
    },
    async unwrap(wrapped, context) {
      if (wrapped.provider !== 'passphrase' || !wrapped.salt) throw new PermanentError(`this backup's data key is wrapped by ${wrapped.provider} (${wrapped.keyId}), not by a passphrase`, { code: 'KEY_UNAVAILABLE' });
      return unwrapWith(await scrypt(passphrase, Buffer.from(wrapped.salt, 'base64')), wrapped.wrapped, context, 'this passphrase');
    },
  };
  return provider;
}

/** A KMS error as ours: no access or a disabled key is permanent (and says whose permission it is), throttling and 5xx transient. */
function kmsError(error: unknown, doing: string, keyId: string): Error {
  const name = (error as { name?: string }).name ?? '';
  const message = (error as Error).message ?? String(error);
  if (/Throttling|ServiceUnavailable|InternalFailure|KMSInternal|LimitExceeded/.test(name) || (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 500) {
    return new TransientError(`KMS ${doing} (${keyId}): ${message}`, { code: 'KMS_UNAVAILABLE', cause: error });
  }
  if (name === 'InvalidCiphertextException' || name === 'IncorrectKeyException') {
    return new PermanentError(`KMS ${doing} (${keyId}): the wrapped data key is not for this key or context, or it was changed (${message})`, { code: 'KEY_MISMATCH', cause: error });
  }
  if (name === 'AccessDeniedException') {
    return new PermanentError(`KMS ${doing} (${keyId}): access denied — the role needs ${doing === 'GenerateDataKey' ? 'kms:GenerateDataKey' : doing === 'Decrypt' ? 'kms:Decrypt' : 'kms:ReEncryptFrom and kms:ReEncryptTo'} on the key (${message})`, { code: 'KEY_UNAVAILABLE', cause: error });
  }
  return new PermanentError(`KMS ${doing} (${keyId}): ${message}`, { code: 'KEY_UNAVAILABLE', cause: error });
}

/** Data keys from AWS KMS key `keyId` (an ARN, key id or alias). */
export function kmsProvider(client: KMSClient, keyId: string): DataKeyProvider {
  return {
    async generate(context) {
      const out = await client.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256', EncryptionContext: { ...context } }))
        .catch((error: unknown) => { throw kmsError(error, 'GenerateDataKey', keyId); });
      if (!out.Plaintext || !out.CiphertextBlob || !out.KeyId) throw new PermanentError(`KMS GenerateDataKey (${keyId}) answered without a key`, { code: 'KEY_UNAVAILABLE' });
      return { dataKey: Buffer.from(out.Plaintext), wrapped: { provider: 'kms', keyId: out.KeyId, wrapped: Buffer.from(out.CiphertextBlob).toString('base64') } };
    },
    async unwrap(wrapped, context) {
      if (wrapped.provider !== 'kms') throw new PermanentError(`this backup's data key is wrapped by ${wrapped.provider} (${wrapped.keyId}), not by KMS`, { code: 'KEY_UNAVAILABLE' });
      const out = await client.send(new DecryptCommand({ KeyId: wrapped.keyId, CiphertextBlob: Buffer.from(wrapped.wrapped, 'base64'), EncryptionContext: { ...context } }))
        .catch((error: unknown) => { throw kmsError(error, 'Decrypt', wrapped.keyId); });
      if (!out.Plaintext || out.Plaintext.length !== DATA_KEY_BYTES) throw new PermanentError(`KMS Decrypt (${wrapped.keyId}) answered without a 32-byte key`, { code: 'KEY_MISMATCH' });
      return Buffer.from(out.Plaintext);
    },
  };
}

/**
 * `wrapped` (a KMS-wrapped data key) wrapped by `toKeyId` instead, without the data key leaving
 * KMS (`ReEncrypt`): what `dbbackup rekey` does to each backup's manifest. The data is not touched.
 */
export async function rewrapWithKms(client: KMSClient, wrapped: WrappedKey, context: KeyContext, toKeyId: string): Promise<WrappedKey> {
  if (wrapped.provider !== 'kms') throw new PermanentError(`only KMS-wrapped data keys move to another KMS key; this one is wrapped by ${wrapped.provider}`, { code: 'INVALID_INPUT' });
  const out = await client.send(new ReEncryptCommand({
    CiphertextBlob: Buffer.from(wrapped.wrapped, 'base64'),
    SourceKeyId: wrapped.keyId,
    SourceEncryptionContext: { ...context },
    DestinationKeyId: toKeyId,
    DestinationEncryptionContext: { ...context },
  })).catch((error: unknown) => { throw kmsError(error, 'ReEncrypt', `${wrapped.keyId} → ${toKeyId}`); });
  if (!out.CiphertextBlob || !out.KeyId) throw new PermanentError(`KMS ReEncrypt (${wrapped.keyId} → ${toKeyId}) answered without a key`, { code: 'KEY_UNAVAILABLE' });
  return { provider: 'kms', keyId: out.KeyId, wrapped: Buffer.from(out.CiphertextBlob).toString('base64') };
}
