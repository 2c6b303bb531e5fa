/**
 * The pool's retention, run by `prune` after it removed backups: per engine/instance in scope,
 * every object of the pool (`pool/<engine>/<instance>/`, catalog/layout.ts) that no remaining
 * complete manifest of that instance lists, and that is older than the grace period, is deleted —
 * in batches (one S3 DeleteObjects call per 1 000 keys: S3Store.delete). Dry run unless `apply`.
 *
 * - Isolation: an object belongs to the pool its key parses into, exactly; listing a single pool
 *   uses the trailing slash, so the prune of instance `a` never sees instance `ab`'s objects.
 * - A pool whose instance has a manifest that cannot be read (damaged, or of a format this dbbackup
 *   does not read) is not swept: what that manifest lists is unknown. The report says why.
 * - The grace period (default: prune's 48 h for incomplete backups) protects what a running backup
 *   uploaded but no manifest lists yet. An object without a modification time is kept.
 *
 * The race that remains: a running backup may find an orphan older than the grace period in the
 * pool and list it instead of uploading it (putPooled's head), while a sweep deletes it. If the
 * backup's finalize runs after the deletion, it heads every artifact before it writes the manifest
 * and fails (`ARTIFACT_MISSING`): the backup is not complete, a rerun uploads the object again. If
 * it finalized before, its manifest lists the object: the sweep reads the instance's manifests again
 * right before it deletes (not only when prune started), so the window left is the one between that
 * re-read and the delete call itself — seconds, against the hours a sweep and a backup take. A
 * backup caught in it would fail `verify` (the object missing), which `latest` then skips.
 */
import type { BlobStore, ObjectInfo } from '../store/blob-store';
import { type Catalog, type CatalogEntry } from './catalog';
import { POOL_ROOT, assertName, parsePoolKey, poolPrefix } from './layout';
import { DEFAULT_INCOMPLETE_GRACE_MS, type PruneDecision, type PrunePolicy } from './prune';

/** Keys per delete call: S3's DeleteObjects limit. */
const DELETE_BATCH = 1000;

export interface PoolSweepPolicy extends Pick<PrunePolicy, 'engine' | 'instance' | 'apply' | 'now' | 'incompleteGraceMs'> {
  /** How old an unlisted pool object must be to be swept. Default: `incompleteGraceMs`, itself 48 h by default. */
  poolGraceMs?: number;
  /**
   * The backup decisions of the prune this sweep follows: backups it deletes (or would, in a dry
   * run) count as gone, so a dry run reports what `--apply` would sweep.
   */
  pruned?: readonly PruneDecision[];
}

/** How many objects and bytes. */
export interface PoolTally {
  objects: number;
  bytes: number;
}

/** What the sweep did, or would do, to one instance's pool. */
export interface PoolSweepReport {
  engine: string;
  instance: string;
  /** Listed by a remaining manifest (or every object, when the pool was skipped): kept. */
  kept: PoolTally;
  /** Listed by no manifest and older than the grace period: deleted (a dry run: would be). */
  swept: PoolTally;
  /** Listed by no manifest but younger than the grace period (perhaps a running backup's): kept. */
  young: PoolTally;
  /** Why the pool was not swept (nothing deleted); absent when it was. */
  skipped?: string;
  /** True when `swept` was really deleted. */
  applied: boolean;
}

/** One pool while its listing is read. */
interface PoolScan extends PoolSweepReport {
  /** Unlisted objects older than the grace period, deleted once the listing is read. */
  candidates: ObjectInfo[];
}

/**
 * Sweeps the pools in scope (see the file comment); returns one report per pool that holds objects,
 * in key order.
 *
 * @example
 * ```ts
 * const decisions = await prune(catalog, store, policy);
 * const pools = await sweepPools(catalog, store, { ...policy, pruned: decisions });
 * ```
 */
export async function sweepPools(catalog: Catalog, store: BlobStore, policy: PoolSweepPolicy): Promise<PoolSweepReport[]> {
  const now = (policy.now ?? new Date()).getTime();
  const grace = policy.poolGraceMs ?? policy.incompleteGraceMs ?? DEFAULT_INCOMPLETE_GRACE_MS;
  const gone = new Set((policy.pruned ?? []).filter((d) => d.action === 'delete').map((d) => d.entry.prefix));
  const references = groupReferences(await catalog.list({ engine: policy.engine, instance: policy.instance, includeIncomplete: true }), gone);
  const scans = new Map<string, PoolScan>();
  for await (const object of store.list(scopePrefix(policy))) {
    const parts = parsePoolKey(object.key);
    if (!parts || (policy.engine && parts.engine !== policy.engine) || (policy.instance && parts.instance !== policy.instance)) continue;
    const id = `${parts.engine}/${parts.instance}`;
    const scan = scans.get(id) ?? newScan(parts.engine, parts.instance, references.get(id), policy.apply === true);
    scans.set(id, scan);
    const refs = references.get(id);
    if (scan.skipped || refs?.keys.has(object.key)) add(scan.kept, object);
    else if (object.lastModified === undefined || now - object.lastModified.getTime() <= grace) add(scan.young, object);
    else scan.candidates.push(object);
  }
  const reports: PoolSweepReport[] = [];
  for (const scan of [...scans.values()].sort((a, b) => `${a.engine}/${a.instance}`.localeCompare(`${b.engine}/${b.instance}`))) {
    reports.push(await finishScan(catalog, store, scan, gone));
  }
  return reports;
}

/** What the sweep lists: one pool (with its trailing slash), one engine's pools, or all of them. */
function scopePrefix(policy: PoolSweepPolicy): string {
  if (policy.engine && policy.instance) return `${poolPrefix(policy.engine, policy.instance)}/`;
  if (policy.engine) {
    assertName('engine', policy.engine);
    return `${POOL_ROOT}/${policy.engine}/`;
  }
  if (policy.instance) assertName('instance', policy.instance);
  return `${POOL_ROOT}/`;
}

/** The keys one instance's manifests list, or why they cannot be known. */
interface References {
  keys: Set<string>;
  unknown?: string;
}

/** The references of each engine/instance, from its backups that remain (those not in `gone`). */
function groupReferences(entries: readonly CatalogEntry[], gone: ReadonlySet<string>): Map<string, References> {
  const byPool = new Map<string, References>();
  for (const entry of entries) {
    if (gone.has(entry.prefix)) continue;
    const id = `${entry.engine}/${entry.instance}`;
    const refs = byPool.get(id) ?? { keys: new Set<string>() };
    byPool.set(id, refs);
    if (entry.damage?.file === 'manifest.json') {
      refs.unknown ??= `the manifest of backup ${entry.backupId} cannot be read (${entry.damage.code}), so what it lists is unknown`;
    }
    for (const artifact of entry.manifest?.artifacts ?? []) refs.keys.add(artifact.key);
  }
  return byPool;
}

function newScan(engine: string, instance: string, refs: References | undefined, applied: boolean): PoolScan {
  const tally = () => ({ objects: 0, bytes: 0 });
  return { engine, instance, kept: tally(), swept: tally(), young: tally(), applied, candidates: [], ...(refs?.unknown ? { skipped: refs.unknown } : {}) };
}

function add(tally: PoolTally, object: ObjectInfo): void {
  tally.objects += 1;
  tally.bytes += object.size;
}

/**
 * Reads the instance's manifests again (a backup may have completed since prune listed them),
 * keeps what they now list, and deletes the rest of the candidates in batches.
 */
async function finishScan(catalog: Catalog, store: BlobStore, scan: PoolScan, gone: ReadonlySet<string>): Promise<PoolSweepReport> {
  const { candidates, ...report } = scan;
  if (candidates.length === 0) return report;
  const now = groupReferences(await catalog.list({ engine: scan.engine, instance: scan.instance, includeIncomplete: true }), gone)
    .get(`${scan.engine}/${scan.instance}`);
  if (now?.unknown) {
    for (const object of candidates) add(report.kept, object);
    return { ...report, skipped: now.unknown };
  }
  const doomed: string[] = [];
  for (const object of candidates) {
    if (now?.keys.has(object.key)) add(report.kept, object);
    else {
      add(report.swept, object);
      doomed.push(object.key);
    }
  }
  if (report.applied) {
    for (let start = 0; start < doomed.length; start += DELETE_BATCH) await store.delete(doomed.slice(start, start + DELETE_BATCH));
  }
  return report;
}
