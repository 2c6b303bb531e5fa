/**
 * Retention. Per engine/instance, a backup is kept when any rule keeps it: it is among the
 * `keepLast` newest complete backups, or younger than `maxAgeMs`. The newest verified backup, the
 * one `restore latest` takes (no drill failed to restore it, its chain holds, the store holds every
 * artifact it needs at its size: missing-artifacts.ts), and the newest
 * restore-verified one (the newest a drill restored and validated: drill-record.ts) are always
 * kept, whatever the rules say. Incomplete backups (no manifest) older than
 * `incompleteGraceMs` are leftovers of crashed runs and are removed too; so are backups whose
 * manifest is damaged (unreadable), by the same rule: they cannot be restored either. A backup whose
 * only damage is its verification record is complete and follows the rules of complete ones, but
 * is never the newest verified (its last verify result is unknown). A backup whose manifest another
 * dbbackup wrote, in a format this one does not read, is listed as such and always kept. A backup
 * that a kept backup extends (an incremental's base: manifest `extends`), directly or through
 * others, is kept too, whatever the rules say: the newest verified backup keeps its whole chain.
 * Dry run unless `apply` is true.
 */
import { PermanentError } from '../errors';
import { deletePrefix, type BlobStore } from '../store/blob-store';
import type { DriverRegistry } from '../driver/registry';
import { type Catalog, type CatalogEntry, isRestoreVerified, isVerified } from './catalog';
import { manifestKey } from './layout';
import { latestRestorable, missingArtifacts } from './missing-artifacts';

export interface PrunePolicy {
  keepLast?: number;
  maxAgeMs?: number;
  /** Default 48 h: long enough that a running backup is never taken for a crashed one. */
  incompleteGraceMs?: number;
  engine?: string;
  instance?: string;
  apply?: boolean;
  now?: Date;
}

export interface PruneDecision {
  entry: CatalogEntry;
  action: 'keep' | 'delete';
  reason: string;
}

/** How old an incomplete backup (or an unlisted pool object: pool-sweep.ts) must be to be removed. */
export const DEFAULT_INCOMPLETE_GRACE_MS = 48 * 3600_000;

/**
 * Decides, and with `apply` deletes. Returns every decision, kept ones included. `registry`: the
 * drivers that read each backup's facts, for the artifacts they name (without it, what `restore
 * latest` takes is judged by the stored sizes of the artifacts the manifests list). The sizes are
 * those the listings of each backup's folder and of the pools show (the prune function may list the
 * pools, never read them).
 */
export async function prune(catalog: Catalog, store: BlobStore, policy: PrunePolicy, registry?: DriverRegistry): Promise<PruneDecision[]> {
  if (policy.keepLast === undefined && policy.maxAgeMs === undefined) {
    throw new PermanentError('prune needs --keep-last and/or --max-age', { code: 'INVALID_POLICY' });
  }
  if (policy.keepLast !== undefined && (!Number.isInteger(policy.keepLast) || policy.keepLast < 1)) {
    throw new PermanentError(`--keep-last must be a whole number ≥ 1, got ${policy.keepLast}`, { code: 'INVALID_POLICY' });
  }
  const now = policy.now ?? new Date();
  const entries = await catalog.list({ engine: policy.engine, instance: policy.instance, includeIncomplete: true });
  const groups = new Map<string, CatalogEntry[]>();
  for (const entry of entries) {
    const id = `${entry.engine}/${entry.instance}`;
    groups.set(id, [...(groups.get(id) ?? []), entry]);
  }

  const decisions: PruneDecision[] = [];
  const missing = missingArtifacts(store, registry, { pools: 'list' });
  for (const group of groups.values()) {
    const complete = group.filter((e) => e.complete); // newest first
    const taken = await latestRestorable(catalog, group[0].engine, group[0].instance, missing);
    const restorable = taken && complete.find((e) => e.backupId === taken.backupId);
    const newest = { verified: complete.find(isVerified), restorable, restoreVerified: complete.find(isRestoreVerified) };
    decisions.push(...keepChains(group.map((entry) => decide(entry, complete.indexOf(entry), newest, policy, now))));
  }

  if (policy.apply) {
    for (const decision of decisions.filter((d) => d.action === 'delete')) {
      await deleteBackup(store, decision.entry);
    }
  }
  return decisions;
}

/**
 * Why the newest backup that passed its validation (catalog.ts `isVerified`: `list` shows it
 * `complete`, or `verified` once `verify` passed it again) is kept whatever the rules say.
 */
const NEWEST_VALID = 'newest complete backup that passed its validation';

interface Newest {
  verified?: CatalogEntry;
  /** What `restore latest` takes: a newer verified backup a drill failed to restore, or one lacking an artifact, does not count. */
  restorable?: CatalogEntry;
  restoreVerified?: CatalogEntry;
}

function decide(entry: CatalogEntry, rank: number, newest: Newest, policy: PrunePolicy, now: Date): PruneDecision {
  const age = now.getTime() - entry.createdAt.getTime();
  if (entry.damage?.code === 'UNSUPPORTED_MANIFEST_VERSION') {
    return { entry, action: 'keep', reason: 'written by a dbbackup of another manifest format: never removed by this one' };
  }
  if (!entry.complete) {
    const grace = policy.incompleteGraceMs ?? DEFAULT_INCOMPLETE_GRACE_MS;
    const what = entry.damage ? `damaged (${entry.damage.file} unreadable: ${entry.damage.code})` : 'incomplete (no manifest)';
    return age > grace
      ? { entry, action: 'delete', reason: `${what} and older than the grace period` }
      : { entry, action: 'keep', reason: entry.damage ? `${what} but younger than the grace period` : `${what} but recent: may still be running` };
  }
  if (entry === newest.verified) return { entry, action: 'keep', reason: NEWEST_VALID };
  if (entry === newest.restorable) return { entry, action: 'keep', reason: 'the backup restore latest takes (each newer one failed its drill or lacks an artifact)' };
  if (entry === newest.restoreVerified) return { entry, action: 'keep', reason: 'newest restore-verified backup (a drill restored it)' };
  if (policy.keepLast !== undefined && rank < policy.keepLast) {
    return { entry, action: 'keep', reason: `among the ${policy.keepLast} newest` };
  }
  if (policy.maxAgeMs !== undefined && age <= policy.maxAgeMs) {
    return { entry, action: 'keep', reason: 'younger than max age' };
  }
  const reasons = [
    policy.keepLast !== undefined ? `beyond the ${policy.keepLast} newest` : undefined,
    policy.maxAgeMs !== undefined ? 'older than max age' : undefined,
  ].filter(Boolean);
  return { entry, action: 'delete', reason: reasons.join(' and ') };
}

/**
 * Keeps every backup a kept one extends, directly or through others: deleting it would leave the
 * kept incremental backups above it unrestorable. `decisions` are one instance's, newest first; a
 * base is older than what extends it, so one pass carries a keep down a whole chain (a manifest
 * naming a later backup, or one not in the store, keeps nothing: backup-chain.ts refuses its chain).
 */
function keepChains(decisions: PruneDecision[]): PruneDecision[] {
  const kept = [...decisions];
  const index = new Map(kept.map((decision, i) => [decision.entry.backupId, i]));
  kept.forEach(function keepBase({ entry, action }, i) {
    const base = index.get(entry.manifest?.extends ?? '');
    if (action !== 'keep' || base === undefined || base <= i || kept[base].action === 'keep') return;
    kept[base] = { entry: kept[base].entry, action: 'keep', reason: `extended by ${entry.backupId}, which is kept` };
  });
  return kept;
}

/** Deletes the manifest first, so a half-deleted backup is never listed as complete (or damaged). */
async function deleteBackup(store: BlobStore, entry: CatalogEntry): Promise<void> {
  if (entry.complete || entry.damage?.file === 'manifest.json') await store.delete([manifestKey(entry.prefix)]);
  await deletePrefix(store, `${entry.prefix}/`);
}
