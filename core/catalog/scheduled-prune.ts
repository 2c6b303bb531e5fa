/**
 * The prune a schedule runs for one instance (the stack's prune function, one EventBridge rule per
 * instance): the same retention rules as `dbbackup prune` (prune.ts), with deletion on. Its input
 * is the instance's `retention` from the instances file:
 *
 *     { "engine": "etcd", "instance": "main", "keepLast": 7, "maxAgeDays": 30 }
 *
 * The output is small whatever the number of backups: counts, and the ids deleted (a schedule
 * deletes only what expired since its last run). The instance's pool is swept after (pool-sweep.ts):
 * the output counts what was kept, swept and kept as too young, or says why it was not swept.
 */
import { z } from 'zod';
import type { BlobStore } from '../store/blob-store';
import type { DriverRegistry } from '../driver/registry';
import { parseInput } from '../steps/step-deps';
import { Catalog } from './catalog';
import { sweepPools, type PoolSweepReport } from './pool-sweep';
import { prune } from './prune';

const DAY_MS = 86_400_000;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export const scheduledPruneSchema = z.strictObject({
  engine: z.string().regex(NAME),
  instance: z.string().regex(NAME),
  keepLast: z.number().int().min(1).optional(),
  maxAgeDays: z.number().positive().optional(),
}).refine((p) => p.keepLast !== undefined || p.maxAgeDays !== undefined, { message: 'give keepLast and/or maxAgeDays' });

export type ScheduledPrune = z.input<typeof scheduledPruneSchema>;

export interface ScheduledPruneResult {
  engine: string;
  instance: string;
  kept: number;
  /** Backup ids removed, complete ones past their retention and incomplete or damaged leftovers. */
  deleted: string[];
  /** The sweep of the instance's pool; absent when it has none. */
  pool?: Pick<PoolSweepReport, 'kept' | 'swept' | 'young' | 'skipped'>;
}

/**
 * Applies the instance's retention to its backups in `store`, deleting what it does not keep.
 * @throws PermanentError `INVALID_INPUT` for an input that is not a retention of one instance.
 *
 * @example
 * ```ts
 * const result = await runScheduledPrune({ engine: 'etcd', instance: 'main', keepLast: 7 }, store, registry);
 * ```
 */
export async function runScheduledPrune(input: unknown, store: BlobStore, registry?: DriverRegistry, now: Date = new Date()): Promise<ScheduledPruneResult> {
  const request = parseInput(scheduledPruneSchema, input, 'prune request');
  const catalog = new Catalog(store);
  const policy = {
    engine: request.engine,
    instance: request.instance,
    keepLast: request.keepLast,
    maxAgeMs: request.maxAgeDays === undefined ? undefined : request.maxAgeDays * DAY_MS,
    apply: true,
    now,
  };
  const decisions = await prune(catalog, store, policy, registry);
  const [swept] = await sweepPools(catalog, store, { ...policy, pruned: decisions });
  const deleted = decisions.filter((d) => d.action === 'delete').map((d) => d.entry.backupId);
  const pool = swept && { kept: swept.kept, swept: swept.swept, young: swept.young, ...(swept.skipped ? { skipped: swept.skipped } : {}) };
  return { engine: request.engine, instance: request.instance, kept: decisions.length - deleted.length, deleted, ...(pool ? { pool } : {}) };
}
