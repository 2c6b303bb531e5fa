/**
 * `verify`: re-reads every artifact of a backup from the store and re-hashes it against the
 * manifest — an encoded (compressed, encrypted) artifact's stored bytes against its stored form, so
 * no key is needed; a compressed one (not encrypted) is decompressed too, its plain bytes hashed.
 * The result is kept next to the manifest (`verification.json`), so `list` and `prune` know which
 * backups are still good.
 */
import { z } from 'zod';
import { PermanentError, TransientError } from '../errors';
import { formatIssues } from '../config/issues';
import { HashingStream } from '../io/hashing-stream';
import type { BlobStore } from '../store/blob-store';
import { writeJson } from '../store/json';
import { verificationKey } from './layout';
import { contentDigest, type BackupManifest } from './manifest';
import { pipeline } from 'node:stream/promises';
import { openStored, storedBytesOf } from '../driver/artifact-check';
import { keyBoundElsewhere } from '../crypto/artifact-encoding';

const verificationSchema = z.object({
  backupId: z.string(),
  verifiedAt: z.iso.datetime(),
  ok: z.boolean(),
  artifacts: z.array(z.object({
    name: z.string(),
    ok: z.boolean(),
    detail: z.string().optional(),
    /**
     * The artifact is proven damaged (its bytes differ, it is gone, it does not decompress, or the
     * manifest does not list it), not merely unreadable this time (the store unreachable, access
     * refused): a restore of the backup would stop at it. Absent in records written before.
     */
    damaged: z.boolean().optional(),
  })),
  /** {@link contentDigest} of the manifest verified (its {@link manifestDigest} in records written before): a record of an edited manifest no longer counts. */
  manifestSha256: z.string().optional(),
});

export type VerificationRecord = z.infer<typeof verificationSchema>;

export function parseVerification(value: unknown, key: string): VerificationRecord {
  const parsed = verificationSchema.safeParse(value);
  if (!parsed.success) {
    throw new PermanentError(`verification record ${key} is malformed: ${formatIssues(parsed.error)}`, { code: 'INVALID_VERIFICATION' });
  }
  return parsed.data;
}

/** What {@link verifyBackup} reports and checks besides the manifest's artifacts. */
export interface VerifyOptions {
  onProgress?: (bytes: number, total: number) => void;
  /** Artifacts the backup's facts name that its manifest lacks (backup-record.ts `unlistedArtifacts`), each failing the verification. */
  unlisted?: readonly string[];
}

/** Errors of a read that prove the artifact damaged (its bytes differ, it is gone), not the store unreadable this time. */
const DAMAGE_CODES = new Set(['CHECKSUM_MISMATCH', 'NOT_FOUND', 'SEALED_ARTIFACT_DAMAGED']);

/**
 * Why a restore of the backup `record` verified would stop partway, in words (undefined when none
 * of its artifacts is proven damaged: a verify that could not read the store proves nothing).
 */
export function provenDamage(record: VerificationRecord): string | undefined {
  const [first, ...more] = record.artifacts.filter((a) => !a.ok && a.damaged === true);
  if (!first) return undefined;
  const others = more.length > 0 ? ` (and ${more.length} more)` : '';
  return `${first.name} was found damaged at ${record.verifiedAt}: ${first.detail ?? 'no detail'}${others}`;
}

/** Re-hashes every artifact; records and returns the result. Never throws for a bad artifact. */
export async function verifyBackup(store: BlobStore, prefix: string, manifest: BackupManifest, options: VerifyOptions = {}): Promise<VerificationRecord> {
  const { onProgress, unlisted = [] } = options;
  const total = manifest.artifacts.reduce((sum, a) => sum + storedBytesOf(a).size, 0);
  let done = 0;
  const artifacts: VerificationRecord['artifacts'] = [];
  for (const artifact of manifest.artifacts) {
    const before = done;
    done = before + storedBytesOf(artifact).size;
    // A data key copied from another backup: its bytes may hash right, but no key opens them here.
    const elsewhere = keyBoundElsewhere(manifest, artifact);
    if (elsewhere) {
      artifacts.push({ name: artifact.name, ok: false, detail: elsewhere, damaged: true });
      continue;
    }
    // A compressed artifact is decoded too (no key needed), and its plain bytes checked as well as
    // its stored ones (openStored checks those); an encrypted one's plain bytes only a key opens.
    const decoded = artifact.stored !== undefined && artifact.stored.dataKey === undefined;
    const expected = decoded ? artifact : storedBytesOf(artifact);
    try {
      const hasher = new HashingStream();
      const get = { onProgress: (bytes: number) => onProgress?.(before + bytes, total) };
      const body = decoded ? await openStored(store, artifact, undefined, get) : await store.get(artifact.key, get);
      await pipeline(body, hasher, async function drain(source: AsyncIterable<Buffer>) {
        for await (const _chunk of source) { /* hashed in passing */ }
      });
      const sha256 = hasher.digest();
      const ok = sha256 === expected.sha256 && hasher.bytes === expected.size;
      const as = artifact.stored ? (decoded ? ' decompressed' : ' as stored') : '';
      artifacts.push(ok
        ? { name: artifact.name, ok }
        : { name: artifact.name, ok, detail: `expected ${expected.size} bytes sha256 ${expected.sha256}${as}, found ${hasher.bytes} bytes sha256 ${sha256}`, damaged: true });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      // A typed error is the store's (or the stored bytes' check); any other, met while decoding bytes already proven as stored, is the decompressor's.
      const typed = error instanceof PermanentError || error instanceof TransientError ? error : undefined;
      const undecodable = decoded && typed === undefined;
      const damaged = undecodable || (typed !== undefined && DAMAGE_CODES.has(typed.code));
      artifacts.push({ name: artifact.name, ok: false, detail: undecodable ? `its stored bytes do not decompress (${message})` : message, ...(damaged ? { damaged } : {}) });
    }
  }
  for (const name of unlisted) artifacts.push({ name, ok: false, detail: 'the backup\'s facts name it, but its manifest does not list it (the manifest is damaged or was edited)', damaged: true });
  const record: VerificationRecord = {
    backupId: manifest.backupId,
    verifiedAt: new Date().toISOString(),
    ok: artifacts.every((a) => a.ok),
    artifacts,
    manifestSha256: contentDigest(manifest),
  };
  await writeJson(store, verificationKey(prefix), record);
  return record;
}

/**
 * Records what a restore found reading backup `manifest` (at `prefix`): `message`, a
 * `CHECKSUM_MISMATCH` naming one of its artifacts (by name, by its name within its node, or by object key), as a verification that
 * proves that artifact damaged — so `list` shows the backup CORRUPT, `restore latest` passes over it
 * and a restore of it by id is refused, as after a `verify` that found it (which checks every
 * artifact again, and replaces this record). Returns the artifact recorded; undefined when the
 * message names none of the manifest's.
 */
export async function recordFoundDamage(store: BlobStore, prefix: string, manifest: BackupManifest, message: string, foundBy: string): Promise<string | undefined> {
  // A restore may name it under a prefix of its own (`<backup id>/<name>` for a backup of a chain), and a node's driver without
  // the node's prefix a manifest of several nodes gives it: the longest name matched is taken, then the one name within a node.
  const names = (name: string) => message.includes(`artifact ${name} `) || message.includes(`/${name} `);
  const withinNode = (name: string) => name.slice(name.indexOf('/') + 1);
  const named = manifest.artifacts.filter((a) => message.includes(`object ${a.key} `) || names(a.name)).sort((a, b) => b.name.length - a.name.length);
  const relative = manifest.artifacts.filter((a) => names(withinNode(a.name)));
  const artifact = named[0] ?? (relative.length === 1 ? relative[0] : undefined);
  if (!artifact) return undefined;
  const record: VerificationRecord = {
    backupId: manifest.backupId,
    verifiedAt: new Date().toISOString(),
    ok: false,
    artifacts: [{ name: artifact.name, ok: false, detail: `${foundBy} found its bytes changed: ${message}`, damaged: true }],
    manifestSha256: contentDigest(manifest),
  };
  await writeJson(store, verificationKey(prefix), record);
  return artifact.name;
}
