/**
 * The small JSON that flows between restore steps. `target` keeps its secret references.
 * This is also the documented console input of the restore state machine.
 */
import { z } from 'zod';
import { storedArtifactSchema, validationReportSchema } from '../catalog/manifest';
import { secretsByReferenceSchema } from '../config/secret-fields';

const jsonObject = z.record(z.string(), z.any());

const requestShape = {
  /** A backup id, or `latest` for the newest verified backup of `engine`/`instance`. */
  backupId: z.string().min(1),
  engine: z.string().min(1).optional(),
  instance: z.string().min(1).optional(),
  /** Where to restore: the engine's restore target (data dir, endpoint...); secrets as `{ "$secret": ... }`, never inline. */
  target: secretsByReferenceSchema,
  /** Replace a non-empty target. Without it a non-empty target is refused. */
  force: z.boolean().default(false),
  /** Download rate limit in bytes/s; 0 or absent = unlimited. */
  rateLimit: z.number().int().nonnegative().optional(),
  /** Where the host-local restore steps run (an SSM managed instance id of the target host); absent = here. */
  host: z.string().min(1).optional(),
};

export const restoreRequestSchema = z.strictObject(requestShape);
export type RestoreRequest = z.input<typeof restoreRequestSchema>;

/** Extra keys (e.g. a state machine's `pending` or `error`) pass through. */
export const restoreStateSchema = z.looseObject({
  ...requestShape,
  restoreId: z.string(),
  startedAt: z.iso.datetime(),
  backup: z.object({
    backupId: z.string(),
    engine: z.string(),
    instance: z.string(),
    consistency: jsonObject,
    facts: jsonObject,
    artifacts: z.array(storedArtifactSchema),
  }),
  manifestKey: z.string(),
  prepared: z.object({ details: jsonObject }).optional(),
  result: z.object({ endpoint: jsonObject, bytes: z.number(), durationMs: z.number() }).optional(),
  validation: validationReportSchema.optional(),
});
export type RestoreState = z.infer<typeof restoreStateSchema>;

export interface RestoreSummary {
  restoreId: string;
  backupId: string;
  engine: string;
  instance: string;
  endpoint: Record<string, unknown>;
  bytes: number;
  /** Download + apply, measured by the restore step. */
  restoreDurationMs: number;
  /** From the first step to the report. */
  totalDurationMs: number;
  validation: { ok: boolean; checks: { name: string; ok: boolean; detail?: string }[] };
}
