/**
 * The small JSON that flows between backup steps (and through the state machine). Never data,
 * never resolved secrets: `config` keeps its `{ "$secret": ref }` references.
 *
 * A backup has one or more nodes; the per-node steps (snapshot, validate, upload, cleanup) take a
 * {@link NodeState}, which the state machine's Map builds from `nodes`.
 */
import { z } from 'zod';
import { nodeRefSchema, requestHostSchema } from '../driver/node-ref';
import { secretsByReferenceSchema } from '../config/secret-fields';
import { storedFormSchema } from '../crypto/artifact-encoding';
import { compressionSettingsSchema, encryptionSettingsSchema } from '../crypto/encoding-settings';

const jsonObject = z.record(z.string(), z.any());

const requestShape = {
  engine: z.string().min(1),
  instance: z.string().min(1),
  /** Instance connection config for the driver; secrets as `{ "$secret": "ssm:/..." }`, never inline. */
  config: secretsByReferenceSchema,
  /** Upload rate limit in bytes/s; 0 or absent = unlimited. */
  rateLimit: z.number().int().nonnegative().optional(),
  /** Where host-local steps run (an SSM managed instance id); absent = wherever the step runs. */
  host: requestHostSchema.optional(),
  /**
   * Take only what changed since the instance's newest verified backup (drivers with the
   * `incremental` capability; refused for others). Without a verified backup to extend, a full
   * backup is taken and the summary says why (`incremental`).
   */
  incremental: z.boolean().optional(),
  /** zstd for every artifact not compressed already (core/crypto/encoding-settings.ts); absent: stored as written. */
  compression: compressionSettingsSchema.optional(),
  /** Client-side encryption of every artifact: whose key wraps the data keys (a KMS key; a key or passphrase by secret reference). */
  encryption: encryptionSettingsSchema.optional(),
};

/**
 * Whether to continue the incomplete backup of this instance a killed run left (resume-plan.ts):
 * `auto` (default) when it is younger than 6 hours, `always` whatever its age, `never`.
 */
export const resumeModeSchema = z.enum(['auto', 'always', 'never']);
export type ResumeMode = z.infer<typeof resumeModeSchema>;

export const backupRequestSchema = z.strictObject({ ...requestShape, resume: resumeModeSchema.optional() });
export type BackupRequest = z.infer<typeof backupRequestSchema>;

/**
 * Most nodes one backup may have: the backup state machine's history stays a margin below Step
 * Functions' 25 000 events for this many (statemachines/budget); more needs child executions.
 */
export const MAX_BACKUP_NODES = 4;

export { nodeRefSchema };

export const snapshotRefSchema = z.object({
  backupId: z.string(),
  engine: z.string(),
  instance: z.string(),
  spoolDir: z.string(),
  artifacts: z.array(z.object({ name: z.string(), size: z.number(), sha256: z.string(), key: z.string().optional(), storeChecksum: z.string().optional(), stored: storedFormSchema.optional() })),
  consistency: jsonObject,
  facts: jsonObject,
  pooledSentBytes: z.number().nonnegative().optional(),
  createdAt: z.string(),
});

/** One attempt at a backup (one execution): a resumed backup keeps its id and gets a new attempt. */
export const runSchema = z.object({
  id: z.string().min(1),
  startedAt: z.iso.datetime(),
  /** The dead attempt this one continues: its host directories and completed snapshots are taken over. */
  resumes: z.string().optional(),
});
export type BackupRun = z.infer<typeof runSchema>;

/** What prepare decided about the incomplete backup a killed run left, said in the summary. */
export const resumeOutcomeSchema = z.object({
  resumed: z.boolean(),
  /** The incomplete backup considered. */
  candidate: z.string().optional(),
  reason: z.string(),
  /** Whether the candidate was discarded (dead for sure, and not resumable). */
  discarded: z.boolean().optional(),
});
export type ResumeOutcome = z.infer<typeof resumeOutcomeSchema>;

/**
 * The backup an incremental one extends, by id and by the `manifestDigest` of its manifest
 * (catalog/manifest.ts): the snapshot step reads it from the store and refuses another
 * (`BASE_CHANGED`), so a host cannot change what the state refers to.
 */
export const baseRefSchema = z.object({
  backupId: z.string().min(1),
  manifestSha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be a lower-case hex sha256'),
});
export type BaseRef = z.infer<typeof baseRefSchema>;

/** What prepare decided about an incremental request, said in the summary: the base it extends, or why it is a full backup. */
export const incrementalOutcomeSchema = z.object({
  requested: z.boolean(),
  /** The backup extended; absent when the backup is a full one. */
  base: z.string().optional(),
  reason: z.string(),
});
export type IncrementalOutcome = z.infer<typeof incrementalOutcomeSchema>;

/** The backup as a whole: what prepare returns and finalize/cleanup receive. Extra keys pass through. */
export const backupStateSchema = z.looseObject({
  ...requestShape,
  backupId: z.string(),
  prefix: z.string(),
  startedAt: z.iso.datetime(),
  nodes: z.array(nodeRefSchema).min(1),
  /** This attempt (absent in states of older versions: then the backup id and start stand for it). */
  run: runSchema.optional(),
  /** When the run's host work must end (core/steps/run-deadline.ts); absent outside a state machine. */
  deadline: z.iso.datetime().optional(),
  resumeOutcome: resumeOutcomeSchema.optional(),
  /** The backup this one extends (an incremental backup); absent for a full one. */
  base: baseRefSchema.optional(),
  incrementalOutcome: incrementalOutcomeSchema.optional(),
});
export type BackupState = z.infer<typeof backupStateSchema>;

/**
 * A node's completed snapshot, as the state carries it: where its record is (the snapshot with its
 * artifacts, consistency point and facts: run-records.ts) and counts. Never the lists themselves.
 */
export const snapshotSummarySchema = z.object({
  key: z.string(),
  artifacts: z.number().int().nonnegative(),
  bytes: z.number().nonnegative(),
  /** Of `bytes`, what the snapshot wrote straight to the store (streamed artifacts; pooled ones, perhaps an earlier backup's, are not counted). */
  streamedBytes: z.number().nonnegative(),
});
export type SnapshotSummary = z.infer<typeof snapshotSummarySchema>;

/** A node's validation, as the state carries it: the report's key in the store, ok, how many checks. */
export const validationSummarySchema = z.object({
  key: z.string(),
  ok: z.boolean(),
  checks: z.number().int().nonnegative(),
});
export type ValidationSummary = z.infer<typeof validationSummarySchema>;

/** A node's upload, as the state carries it: the stored artifact list's key in the store, and counts. */
export const uploadSummarySchema = z.object({
  key: z.string(),
  artifacts: z.number().int().nonnegative(),
  bytes: z.number().nonnegative(),
  /** The artifacts' bytes as stored (compressed, encrypted); absent in a state an older version wrote. */
  storedBytes: z.number().nonnegative().optional(),
  durationMs: z.number(),
  /** Bytes this upload sent (less than `bytes` when the store had some already), when the driver says. */
  sentBytes: z.number().nonnegative().optional(),
});
export type UploadSummary = z.infer<typeof uploadSummarySchema>;

/**
 * One node's share of the backup, as it moves through snapshot → validate → upload. Small whatever
 * the database: each step's result is in the store (step-results.ts), the state holds its key.
 * `nodes` (the list of every node) is left out of the Map's items, so the Map's output grows with
 * the node count, not with its square.
 */
export const nodeStateSchema = backupStateSchema.extend({
  nodes: z.array(nodeRefSchema).optional(),
  node: nodeRefSchema,
  /** Set by the first node step on the node's host (from that host's spool root). */
  spoolDir: z.string().optional(),
  snapshot: snapshotSummarySchema.optional(),
  validation: validationSummarySchema.optional(),
  upload: uploadSummarySchema.optional(),
});
export type NodeState = z.infer<typeof nodeStateSchema>;

/** Finalize's input: the backup plus every node's result (the Map's output). */
export const finalizeInputSchema = backupStateSchema.extend({
  nodeResults: z.array(nodeStateSchema).min(1),
});
export type FinalizeInput = z.infer<typeof finalizeInputSchema>;

export interface BackupSummary {
  backupId: string;
  engine: string;
  instance: string;
  manifestKey: string;
  bytes: number;
  durationMs: number;
  consistency: Record<string, unknown>;
  validation: { ok: boolean; checks: number };
  /** Bytes this attempt sent to the store (a resumed backup sends only what the store lacked). */
  sentBytes: number;
  /** What became of the incomplete backup a killed run left, when there was one. */
  resume?: ResumeOutcome;
  /** The backup this one extends, as its manifest says: present exactly for an incremental backup. */
  extends?: string;
  /** What became of an incremental request (or of the resumed backup's base): extended, or full and why. */
  incremental?: IncrementalOutcome;
  /** How its artifacts are stored, when compressed or encrypted on the client: the bytes stored, the codec, the keys wrapping the data keys. */
  stored?: StoredSummary;
}

export interface StoredSummary {
  bytes: number;
  compression?: string;
  /** Each wrapping key, as `<provider> <key id>` (a KMS key's ARN, a key file's fingerprint, `passphrase scrypt`). */
  encryptedWith?: string[];
}
