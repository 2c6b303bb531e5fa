/**
 * `manifest.json`: the one file that makes a backup complete. It is written last, after every
 * artifact is uploaded and its sha256 checked, so a crashed backup is never listed as complete.
 */
import { z } from 'zod';
import { PermanentError } from '../errors';
import { formatIssues } from '../config/issues';
import { jsonSha256 } from '../io/json-digest';
import { storedFormSchema } from '../crypto/artifact-encoding';
import { keyProblem } from '../store/keys';

/**
 * Format 2 is written when an artifact is stored encoded (compressed, encrypted: `stored`), so a
 * dbbackup that predates encoding says to upgrade instead of reading the stored bytes as plain;
 * anything else is still written as format 1.
 */
export const MANIFEST_FORMAT_VERSION = 2;
const FORMAT_VERSIONS: readonly number[] = [1, 2];

/** The format version a manifest of `artifacts` is written with (see {@link MANIFEST_FORMAT_VERSION}). */
export function manifestFormatFor(artifacts: ReadonlyArray<{ stored?: unknown }>): 1 | 2 {
  return artifacts.some((artifact) => artifact.stored !== undefined) ? 2 : 1;
}

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be a lower-case hex sha256');

export const validationReportSchema = z.object({
  ok: z.boolean(),
  checks: z.array(z.object({ name: z.string(), ok: z.boolean(), detail: z.string().optional(), inconclusive: z.boolean().optional() })),
});

/** A relative path that stays where it is put (core/store/keys.ts): an artifact's name (a file in a spool) and its object key. */
const safePath = z.string().min(1).superRefine((value, ctx) => {
  const problem = keyProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: `${JSON.stringify(value)} is not a safe relative path: ${problem}` });
});

export const storedArtifactSchema = z.object({
  name: safePath,
  key: safePath,
  size: z.number().int().nonnegative(),
  sha256,
  /** How it is stored when not as its plain bytes (core/crypto/artifact-encoding.ts); `size` and `sha256` are the plain bytes'. */
  stored: storedFormSchema.optional(),
});

const jsonObject = z.record(z.string(), z.any());

export const manifestSchema = z.object({
  formatVersion: z.union([z.literal(1), z.literal(2)]),
  backupId: z.string().min(1),
  engine: z.string().min(1),
  instance: z.string().min(1),
  driver: z.object({ name: z.string(), version: z.string() }),
  /**
   * The backup this one extends (an incremental backup of a driver with the `incremental`
   * capability: it holds only what changed since). A restore applies that backup's chain first
   * (catalog/backup-chain.ts). Absent for a full backup, and in every manifest written before
   * incremental backups existed: the format version did not change.
   */
  extends: z.string().min(1).optional(),
  startedAt: z.iso.datetime(),
  completedAt: z.iso.datetime(),
  /** The engine's consistency point: etcd revision, binlog file/pos + GTID, zxid, snapshot tag... */
  consistency: jsonObject,
  /** What restore validation compares with: key counts, digests, row counts. */
  facts: jsonObject,
  artifacts: z.array(storedArtifactSchema),
  bytes: z.number().int().nonnegative(),
  validation: validationReportSchema,
});

export type BackupManifest = z.infer<typeof manifestSchema>;

/** Parses a manifest read from the store; a malformed one is a PermanentError naming its key. */
export function parseManifest(value: unknown, key: string): BackupManifest {
  const version = (value as { formatVersion?: unknown } | null)?.formatVersion;
  if (typeof version === 'number' && !FORMAT_VERSIONS.includes(version)) {
    throw new PermanentError(
      `manifest ${key} has format version ${version}; this dbbackup reads format versions ${FORMAT_VERSIONS.join(' and ')}${version > MANIFEST_FORMAT_VERSION ? ' (a newer dbbackup wrote it: upgrade to read it)' : ''}`,
      { code: 'UNSUPPORTED_MANIFEST_VERSION' },
    );
  }
  const parsed = manifestSchema.safeParse(value);
  if (!parsed.success) {
    throw new PermanentError(`manifest ${key} is malformed: ${formatIssues(parsed.error)}`, { code: 'INVALID_MANIFEST' });
  }
  return parsed.data;
}

/** One node's record in a manifest: a one-node backup's consistency and facts as they are, a multi-node one's per node (`nodes.<name>`). */
export interface NodeRecord {
  /** Absent for a one-node backup. */
  node?: string;
  consistency: Record<string, unknown>;
  facts: Record<string, unknown>;
}

/** Every node's record in `manifest` (see {@link NodeRecord}). */
export function nodeRecords(manifest: Pick<BackupManifest, 'consistency' | 'facts'>): NodeRecord[] {
  const consistencies = (manifest.consistency as { nodes?: unknown }).nodes;
  if (!consistencies || typeof consistencies !== 'object') return [{ consistency: manifest.consistency, facts: manifest.facts }];
  const facts = ((manifest.facts as { nodes?: unknown }).nodes ?? {}) as Record<string, Record<string, unknown>>;
  return Object.entries(consistencies as Record<string, Record<string, unknown>>).map(([node, consistency]) => ({ node, consistency, facts: facts[node] ?? {} }));
}

/** A digest of a manifest's content, so a record made for one manifest is not taken for another's. */
export function manifestDigest(manifest: BackupManifest): string {
  return jsonSha256(manifest);
}

/**
 * A digest of what a manifest says of its backup's data, its data keys' wraps left out: what a
 * verification or drill record made for it proved of the stored bytes still holds after `rekey`,
 * which changes wraps only — so such a record is bound to this digest, and no crash between a
 * rekeyed manifest and its records can part them.
 */
export function contentDigest(manifest: BackupManifest): string {
  return jsonSha256({
    ...manifest,
    artifacts: manifest.artifacts.map(({ stored, ...artifact }) => {
      if (!stored?.dataKey) return stored ? { ...artifact, stored } : artifact;
      const { dataKey: _wrap, ...rest } = stored;
      return { ...artifact, stored: rest };
    }),
  });
}

/**
 * Whether a verification or drill record that names `recorded` was made for `manifest`: its
 * {@link contentDigest}, or — a record written before records were bound so — its {@link manifestDigest}.
 */
export function recordIsFor(recorded: string, manifest: BackupManifest): boolean {
  return recorded === contentDigest(manifest) || recorded === manifestDigest(manifest);
}
