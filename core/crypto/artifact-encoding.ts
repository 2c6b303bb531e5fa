/**
 * How an artifact is kept in the store: as its plain bytes, or compressed (zstd) and sealed
 * (sealed-stream.ts) on the client. The encoding is a property of the artifact path — the store
 * sink, the upload, the download and the readers apply it (core/driver) — so no driver writes it.
 *
 * An encoded artifact keeps two identities: its plain size and sha256 (what drivers see, what a
 * restore proves) and its stored form ({@link StoredForm}: the stored bytes' size and sha256, which
 * `verify` checks without any key, the codec, and the data key it is sealed with, wrapped).
 *
 * Artifacts whose names say they are compressed already (`.zst`, `.gz`, …: MySQL's dump chunks)
 * are sealed but not compressed again.
 */
import { Transform } from 'node:stream';
import { z } from 'zod';
import { PermanentError } from '../errors';
import { zstd } from '../io/zstd';
import { wrappedKeySchema, type KeyContext, type WrappedKey } from './data-keys';
import { openStream, SEALED_MAGIC, sealStream, sealingParameters, type SealingParameters } from './sealed-stream';
import { randomBytes } from 'node:crypto';

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be a lower-case hex sha256');

/** A data key as an artifact records it: wrapped, with the context it was wrapped for. */
export const artifactKeySchema = wrappedKeySchema.extend({ context: z.record(z.string(), z.string()) });
export type ArtifactKey = z.infer<typeof artifactKeySchema>;

/** How an encoded artifact is stored (absent on an artifact stored as its plain bytes). */
export const storedFormSchema = z.strictObject({
  /** The stored bytes' size and sha256. */
  size: z.number().int().nonnegative(),
  sha256,
  compression: z.literal('zstd').optional(),
  /** The data key it is sealed with, wrapped; absent when it is not encrypted. */
  dataKey: artifactKeySchema.optional(),
}).refine((form) => form.compression !== undefined || form.dataKey !== undefined, {
  message: 'a stored form is compressed, sealed or both: this one records neither (a sealed artifact whose data key was lost?)',
});
export type StoredForm = z.infer<typeof storedFormSchema>;

/** What the backing-up side encodes new artifacts with. */
export interface ArtifactEncoding {
  compression?: { level: number; workers?: number };
  /** The node's data key, and it wrapped for the records. */
  key?: { dataKey: Buffer; wrapped: ArtifactKey };
}

/**
 * zstd's compression threads when the settings name none: 1.4× the speed of compressing in the
 * calling thread on two cores (the bench's codec row), and the output is the same for any number
 * of threads from one up (a retried upload on another host still encodes the same bytes).
 */
const COMPRESSION_WORKERS = 2;

/** Names of artifacts compressed already: sealed, not compressed again. */
const COMPRESSED_NAME = /\.(zst|gz|tgz|xz|bz2|lz4|zip|br)$/i;

/** Whether `encoding` changes the stored bytes of artifact `name` at all. */
export function encodes(encoding: ArtifactEncoding | undefined, name: string): encoding is ArtifactEncoding {
  return encoding !== undefined && (encoding.key !== undefined || compresses(encoding, name));
}

/** Whether `encoding` compresses artifact `name` (not one compressed already). */
export function compresses(encoding: ArtifactEncoding, name: string): boolean {
  return encoding.compression !== undefined && !COMPRESSED_NAME.test(name);
}

/** The stages turning artifact `name`'s plain bytes into what is stored under `objectKey`, sealed with a salt drawn at random. */
export function encodingStages(encoding: ArtifactEncoding, name: string, objectKey: string): Transform[] {
  const compressing = compressionStage(encoding, name);
  const sealing = sealingStage(encoding, objectKey);
  return [...(compressing ? [compressing] : []), ...(sealing ? [sealing] : [])];
}

/** zstd for artifact `name` when `encoding` compresses it. */
export function compressionStage(encoding: ArtifactEncoding, name: string): Transform | undefined {
  if (!compresses(encoding, name)) return undefined;
  const { level, workers = COMPRESSION_WORKERS } = encoding.compression!;
  return new (zstd('compressing artifacts').CompressStream)({ compressionLevel: level, checksumFlag: true, nbWorkers: workers });
}

/**
 * The sealing of the object `objectKey` when `encoding` encrypts. Given the sha256 of the very bytes
 * it seals (after compression), its salt and nonce prefix are derived from them (sealed-stream.ts):
 * the same bytes seal to the same stored bytes (an interrupted upload resumes, a pool deduplicates),
 * and other bytes — whatever compressed them — never share a key and nonce. Without it, drawn at random.
 */
export function sealingStage(encoding: ArtifactEncoding, objectKey: string, sealedSha256?: string): Transform | undefined {
  if (!encoding.key) return undefined;
  const parameters: SealingParameters = sealedSha256 !== undefined ? sealingParameters(encoding.key.dataKey, objectKey, sealedSha256) : { salt: randomBytes(32), prefix: randomBytes(7) };
  return sealStream(encoding.key.dataKey, objectKey, parameters);
}

/** The stored form of artifact `name` encoded with `encoding` into bytes of `stored` size and sha256. */
export function storedFormOf(encoding: ArtifactEncoding, name: string, stored: { size: number; sha256: string }): StoredForm {
  return {
    size: stored.size,
    sha256: stored.sha256,
    ...(compresses(encoding, name) ? { compression: 'zstd' as const } : {}),
    ...(encoding.key ? { dataKey: encoding.key.wrapped } : {}),
  };
}

/** Unwraps an artifact's data key (the restoring side's provider; data-key-settings.ts). */
export type KeyOpener = (key: WrappedKey, context: KeyContext) => Promise<Buffer>;

/**
 * The stages turning the stored bytes of the artifact under `objectKey` back into its plain bytes.
 * @throws PermanentError `KEY_UNAVAILABLE` when it is sealed and no key opener was given
 */
export async function decodingStages(form: StoredForm, objectKey: string, openKey: KeyOpener | undefined): Promise<Transform[]> {
  const stages: Transform[] = [];
  if (!form.dataKey) stages.push(notSealed(objectKey));
  if (form.dataKey) {
    if (!openKey) {
      throw new PermanentError(
        `artifact ${objectKey} is encrypted (data key wrapped by ${form.dataKey.provider} ${form.dataKey.keyId}) and no key was given to open it: give the key file or passphrase it was made with (or, for KMS, a role with kms:Decrypt on the key)`,
        { code: 'KEY_UNAVAILABLE' },
      );
    }
    const { context, ...wrapped } = form.dataKey;
    stages.push(openStream(await openKey(wrapped, context), objectKey));
  }
  if (form.compression === 'zstd') stages.push(new (zstd('decompressing artifacts').DecompressStream)());
  return stages;
}

/**
 * A pass-through that refuses stored bytes starting as a sealed artifact: its manifest records no
 * data key for it (a damaged manifest), which would otherwise read as an undecodable zstd frame.
 */
function notSealed(objectKey: string): Transform {
  let head = Buffer.alloc(0);
  let checked = false;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (!checked) {
        head = Buffer.concat([head, chunk]).subarray(0, SEALED_MAGIC.length);
        if (head.length === SEALED_MAGIC.length) {
          checked = true;
          if (head.equals(SEALED_MAGIC)) {
            callback(new PermanentError(`artifact ${objectKey} is sealed, but the manifest records no data key for it: the manifest is damaged`, { code: 'BACKUP_DAMAGED' }));
            return;
          }
        }
      }
      callback(null, chunk);
    },
  });
}

/** A backup as {@link openDataKeys} checks it: its identity and artifacts. */
export interface KeyedBackup {
  backupId: string;
  engine: string;
  instance: string;
  artifacts: ReadonlyArray<{ name: string; stored?: StoredForm }>;
}

/**
 * Why the data key `artifact` records is not one of `backup`'s: its recorded context names another
 * engine, instance or backup (not its instance's pool). Undefined when it is one, or unsealed.
 * Read without any key: a wrapped key copied into another manifest says so in its context (and
 * were the context edited too, the wrap would not open: its context is bound to it).
 */
export function keyBoundElsewhere(backup: Omit<KeyedBackup, 'artifacts'>, artifact: KeyedBackup['artifacts'][number]): string | undefined {
  const key = artifact.stored?.dataKey;
  if (!key) return undefined;
  const { engine, instance, backup: backupId, use } = key.context;
  if (engine === backup.engine && instance === backup.instance && (backupId === backup.backupId || use === 'pool')) return undefined;
  return `artifact ${artifact.name} of backup ${backup.backupId} (${backup.engine}/${backup.instance}) is sealed with a data key bound to ${JSON.stringify(key.context)}: not this backup's nor its pool's`;
}

/**
 * Opens the data key of every encrypted artifact of `backups` (each distinct key once): a restore
 * does so before it touches its target, so a missing or wrong key fails it there. Each key must be
 * bound to its backup's engine and instance, and to that backup or its instance's pool: a wrapped
 * key copied from elsewhere into a manifest is refused, whatever its recorded context says.
 * @throws PermanentError `KEY_MISMATCH` for a key bound elsewhere; the first key's error (`KEY_UNAVAILABLE`, `KEY_MISMATCH`, `KMS_UNAVAILABLE`)
 */
export async function openDataKeys(backups: readonly KeyedBackup[], openKey: KeyOpener): Promise<number> {
  const keys = new Map<string, ArtifactKey>();
  for (const backup of backups) {
    for (const artifact of backup.artifacts) {
      const { stored } = artifact;
      if (!stored?.dataKey) continue;
      const elsewhere = keyBoundElsewhere(backup, artifact);
      if (elsewhere) throw new PermanentError(elsewhere, { code: 'KEY_MISMATCH' });
      keys.set(`${stored.dataKey.provider}\0${stored.dataKey.wrapped}`, stored.dataKey);
    }
  }
  for (const { context, ...wrapped } of keys.values()) await openKey(wrapped, context);
  return keys.size;
}
