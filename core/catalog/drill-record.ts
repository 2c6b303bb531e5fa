/**
 * A restore drill's result, kept next to the backup's manifest (`drill.json`): the backup was
 * restored into a scratch target, the driver's restore validation ran there, and the target was
 * torn down. `ok` makes the backup restore-verified; a failed drill records why and changes
 * nothing else of the backup. The newest drill of a backup replaces the one before.
 */
import { z } from 'zod';
import { PermanentError } from '../errors';
import { formatIssues } from '../config/issues';
import type { BlobStore } from '../store/blob-store';
import { writeJson } from '../store/json';
import { drillKey } from './layout';

const drillSchema = z.object({
  backupId: z.string(),
  /** When the drill started. */
  drilledAt: z.iso.datetime(),
  ok: z.boolean(),
  /** The restore's id (its report stays in the store), when the restore got that far. */
  restoreId: z.string().optional(),
  /** Download and apply, as the restore measured it (RTO). */
  restoreDurationMs: z.number().nonnegative(),
  /** The whole drill: scratch target up, restore, validation, teardown. */
  drillDurationMs: z.number().nonnegative(),
  bytes: z.number().nonnegative(),
  bytesPerSecond: z.number().nonnegative(),
  /** The restore validation's checks (none when the restore failed before validating). */
  checks: z.array(z.object({ name: z.string(), ok: z.boolean(), detail: z.string().optional() })),
  /** Why the drill failed: the error's code and message, or the failed checks. */
  reason: z.string().optional(),
  /** What it was restored into, in words (`scratch MariaDB on this host`, or the configured target). */
  target: z.string(),
  /** The manifest drilled, by its content digest (manifest.ts `recordIsFor`): a record of another manifest does not count. */
  manifestSha256: z.string(),
});

export type DrillRecord = z.infer<typeof drillSchema>;

/** @throws PermanentError `INVALID_DRILL` naming the key when `value` is not a drill record. */
export function parseDrill(value: unknown, key: string): DrillRecord {
  const parsed = drillSchema.safeParse(value);
  if (!parsed.success) {
    throw new PermanentError(`drill record ${key} is malformed: ${formatIssues(parsed.error)}`, { code: 'INVALID_DRILL' });
  }
  return parsed.data;
}

/** Records `drill` next to the manifest of the backup under `prefix`. */
export async function writeDrill(store: BlobStore, prefix: string, drill: DrillRecord): Promise<void> {
  await writeJson(store, drillKey(prefix), drillSchema.parse(drill));
}
