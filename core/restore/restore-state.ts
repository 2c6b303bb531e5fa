/**
 * The small JSON that flows between restore steps. `target` keeps its secret references.
 * This is also the documented console input of the restore state machine.
 */
import { restoreKeysSchema } from '../crypto/encoding-settings';
import { z } from 'zod';
import { secretsByReferenceSchema } from '../config/secret-fields';
import { nodeRefSchema, requestHostSchema } from '../driver/node-ref';
import type { ValidationReport } from '../driver/types';

/**
 * Most hosts one restore may work on (each may hold several members of an ensemble): the
 * restore state machine's history stays a margin below Step Functions' 25 000 events for this many
 * (statemachines/budget: 5 would pass 20 000); more needs child executions, as for backups.
 */
export const MAX_RESTORE_NODES = 4;

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/** A validation, as the state carries it: the report's key, ok, how many checks and how many failed. */
export const validationSummarySchema = z.object({
  key: z.string(),
  ok: z.boolean(),
  checks: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
});

const requestShape = {
  /** A backup id, or `latest` for the newest verified backup of `engine`/`instance`. */
  backupId: z.string().min(1),
  engine: z.string().min(1).optional(),
  instance: z.string().min(1).optional(),
  /** With `latest`: the newest restore-verified backup (one a drill restored and validated). */
  verified: z.boolean().optional(),
  /**
   * Where to restore: the engine's restore target (data dir, endpoint...); secrets as `{ "$secret": ... }`,
   * never inline. A drill without one restores into a scratch target it starts on `host`.
   */
  target: secretsByReferenceSchema.optional(),
  /** Replace a non-empty target. Without it a non-empty target is refused. */
  force: z.boolean().default(false),
  /** Download rate limit in bytes/s; 0 or absent = unlimited. */
  rateLimit: z.number().int().nonnegative().optional(),
  /**
   * The key or passphrase an encrypted backup was made with, by secret reference
   * (core/crypto/encoding-settings.ts); a backup whose data keys KMS wraps needs none (the role
   * needs `kms:Decrypt` on the key).
   */
  keys: restoreKeysSchema.optional(),
  /**
   * Where the host-local restore steps run (an SSM managed instance id of the target host); absent =
   * here. A target whose members name their own hosts (an ensemble across machines) runs each
   * member's steps on its host instead.
   */
  host: requestHostSchema.optional(),
  /**
   * A restore drill (core/drill): the restore proves the backup, into a scratch target started for
   * it (or the empty `target` given), which is torn down afterwards; the outcome is recorded next to
   * the backup's manifest (drill.json), good or bad.
   */
  drill: z.strictObject({
    /** Fields set on the target: what its restore and validation need of the instance (e.g. ZooKeeper's `auth`), secrets by reference. */
    targetSettings: secretsByReferenceSchema.optional(),
    /** Set by the restore, never by its caller: the scratch target started, in words (none: the drill has the target given). */
    scratch: z.string().optional(),
  }).optional(),
};

/**
 * A restore needs a target; only a drill may go without one (it starts a scratch target). The
 * scratch target's description is the drill's own to set: given by the caller, it would pass the
 * target off as one the drill started, which a host does not hold to its restore roots and servers.
 */
function checkTarget(request: { target?: unknown; drill?: { scratch?: unknown }; force?: boolean }, ctx: z.RefinementCtx): void {
  if (request.target === undefined && request.drill === undefined) {
    ctx.addIssue({ code: 'custom', path: ['target'], message: 'is required (only a drill starts a target of its own)' });
  }
  if (request.drill?.scratch !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['drill', 'scratch'], message: 'is set by the drill once it started its scratch target, never by the request' });
  }
  if (request.drill !== undefined && request.force) {
    ctx.addIssue({ code: 'custom', path: ['force'], message: 'a drill restores into an empty target, never over one' });
  }
}

export const restoreRequestSchema = z.strictObject(requestShape).superRefine(checkTarget);
export type RestoreRequest = z.input<typeof restoreRequestSchema>;

/**
 * The state between restore steps: a few KB whatever the backup. What grows with the database
 * (the manifest's artifacts and facts, each node's prepared target and result, the validation
 * report) is in the store: the manifest at `manifestKey`, the rest in the restore's records
 * (restore-records.ts); the state carries keys, counts and the endpoint's scalar fields. The
 * node steps' outputs are discarded: what they did is in their records, which the next steps read.
 * Extra keys (e.g. a state machine's `pending` or `error`) pass through.
 */
export const restoreStateSchema = z.looseObject({
  ...requestShape,
  restoreId: z.string(),
  startedAt: z.iso.datetime(),
  /** When the run's host work must end (core/steps/run-deadline.ts); absent outside a state machine. */
  deadline: z.iso.datetime().optional(),
  /** The backup restored: its identity and size (its artifacts and facts are in its manifest). */
  backup: z.object({
    backupId: z.string(),
    engine: z.string(),
    instance: z.string(),
    artifacts: z.number().int().nonnegative(),
    bytes: z.number().nonnegative(),
    /** For `latest`: the newer backups passed over and why (catalog.ts `PassedOver`), told to the operator with the result. */
    passedOver: z.array(z.object({ backupId: z.string(), why: z.string() })).max(10).optional(),
  }),
  manifestKey: z.string(),
  /**
   * The hosts the restore works on, one node each (RestoreDriver.targetNodes; one node, `default`,
   * on the request's host for a driver without them). Every host step runs on each, at once.
   */
  nodes: z.array(nodeRefSchema).min(1).max(MAX_RESTORE_NODES),
  /** Which of the driver's optional steps the restore runs: the state machine skips the others. */
  phases: z.object({ stage: z.boolean(), start: z.boolean() }),
  /**
   * The later backups the restore reads too (restore-records.ts, `chain`), by the sha256 of the
   * record fetch manifest wrote: a host cannot change the state, so it cannot change the chain.
   */
  chain: z.object({ sha256: z.string() }).optional(),
  /**
   * The backups an incremental backup extends, full first (restore-records.ts, `bases`), by the
   * sha256 of the record fetch manifest wrote; absent for a full backup.
   */
  bases: z.object({ sha256: z.string() }).optional(),
  /** Every node's result merged (node-results.ts), set by the validate step. */
  result: z.object({
    key: z.string(),
    /** The endpoint's scalar fields (host, port, data dir…); the whole endpoint is in the record. */
    endpoint: z.record(z.string(), scalar),
    bytes: z.number(),
    durationMs: z.number(),
  }).optional(),
  validation: validationSummarySchema.optional(),
});
export type RestoreState = z.infer<typeof restoreStateSchema>;

/** What a node's host step gets (the state machine's Map item): the restore, and the node it works on. */
export const restoreNodeInputSchema = z.object({ restore: restoreStateSchema, node: nodeRefSchema });
export type RestoreNodeInput = z.infer<typeof restoreNodeInputSchema>;

/** Which restore of which backup: what the summary, the report and the failure record begin with. */
export function restoreIdentity(state: RestoreState): { restoreId: string; backupId: string; engine: string; instance: string } {
  return { restoreId: state.restoreId, backupId: state.backup.backupId, engine: state.backup.engine, instance: state.backup.instance };
}

/**
 * The engine and instance of a restore state whatever step it reached: its backup's, or the
 * request's when it failed before finding the backup.
 */
export function restoredInstance(event: unknown): { engine?: string; instance?: string } {
  const state = (event ?? {}) as { engine?: unknown; instance?: unknown; backup?: { engine?: unknown; instance?: unknown } };
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  return { engine: text(state.backup?.engine) ?? text(state.engine), instance: text(state.backup?.instance) ?? text(state.instance) };
}

/** What the restore state machine outputs (`report`): small, with the full report's key. */
export interface RestoreSummary {
  restoreId: string;
  backupId: string;
  engine: string;
  instance: string;
  /** Where the restored database is: the endpoint's scalar fields. */
  endpoint: Record<string, string | number | boolean | null>;
  bytes: number;
  /** Download + apply, measured by the restore step. */
  restoreDurationMs: number;
  /** From the first step to the report. */
  totalDurationMs: number;
  validation: { ok: boolean; checks: number; failed: number };
  /** Store key of the full report ({@link RestoreReport}). */
  reportKey: string;
  /** `latest` restored an older backup than the newest: the newer ones passed over, and why. */
  passedOver?: Array<{ backupId: string; why: string }>;
}

/** The full report, kept in the store at `reportKey`: every check, and the endpoint in full. */
export interface RestoreReport extends Omit<RestoreSummary, 'validation' | 'endpoint'> {
  endpoint: Record<string, unknown>;
  validation: ValidationReport;
}
