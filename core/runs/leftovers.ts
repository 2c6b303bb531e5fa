/**
 * Leftovers of dead runs on this host: the run directories (spool of snapshots, partial downloads
 * of restores, scratch copies, client option files) of backups and restores whose attempt died
 * without cleaning up — a `kill -9`, a reboot, an execution stopped in the console.
 *
 * Every run directory under the spool root gets a decision: kept while its attempt is alive (or
 * cannot be judged from here), kept while a dead attempt's completed snapshot can still be resumed,
 * removed otherwise. A directory without an owner record (an older version's, or one being created
 * this instant) is removed once nothing in it changed for {@link MAX_RUN_MS}. Before a dead run's
 * directory goes, the processes it left running on it (a detached server on a scratch copy) are
 * stopped: nothing else names a dead run's private directory on its command line.
 *
 * Host steps reclaim at their start (`reclaimLeftovers`); `prune` reports and removes them.
 */
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, rename, rm, rmdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../logger';
import { processesNaming } from '../host/processes-naming';
import { stopProcess } from '../host/processes';
import { MAX_RUN_MS, judgeHolder } from './run-holder';
import { DATA_KEY_SUFFIX, dataKeyFileOf, OWNER_SUFFIX, readOwner, takeOver, type OwnerOnDisk } from './run-dir';
import { BACKUP_RUNS, DRILL_RUNS, RESTORE_RUNS, TRASH } from './spool-layout';
import { backupIdTime } from '../catalog/layout';
import { TEMPORARY_SUFFIX } from '../io/json-file';

/** One run directory and what becomes of it. */
export interface Leftover {
  /** The run directory (or, for a record whose directory is gone, the record). */
  path: string;
  kind: 'backup' | 'restore' | 'drill' | 'trash' | 'record';
  /** Backup or restore id (from the path). */
  id: string;
  node?: string;
  engine?: string;
  instance?: string;
  bytes: number;
  action: 'remove' | 'keep';
  /** Why: whose it is and whether that attempt is alive. */
  reason: string;
  /** Processes the dead run left running on it, stopped before it is removed. */
  orphans?: { pid: number; program: string }[];
}

export interface LeftoverOptions {
  now?: Date;
  logger?: Logger;
  /** How long a kill takes at most, per orphan (default 5 s). */
  stopTimeoutMs?: number;
  /**
   * Whether a dead backup attempt's backup has no run record in the store any more (discarded: a
   * later run could not resume it; or finished), so its directory, though within its resume window,
   * has nothing left to resume (core/backup/run-records.ts `runRecordGone`).
   * Without it (or when it fails), the window decides.
   */
  backupGone?: (backup: { engine: string; instance: string; backupId: string }) => Promise<boolean>;
}

/** A decision and the owner record it was made on (a removal takes exactly that record over). */
interface Judged {
  leftover: Leftover;
  record?: OwnerOnDisk;
}

/** Every run directory under `spoolRoot` with its decision; removes nothing. */
export async function findLeftovers(spoolRoot: string, options: LeftoverOptions = {}): Promise<Leftover[]> {
  return (await judgeAll(spoolRoot, options)).map((j) => j.leftover);
}

async function judgeAll(spoolRoot: string, options: LeftoverOptions): Promise<Judged[]> {
  const now = options.now ?? new Date();
  const found: Judged[] = [];
  for (const [kind, root] of [['backup', BACKUP_RUNS], ['restore', RESTORE_RUNS]] as const) {
    for (const id of (await entries(path.join(spoolRoot, root))).dirs) {
      const listed = await entries(path.join(spoolRoot, root, id));
      for (const node of listed.dirs) found.push(await judgeRunDir(path.join(spoolRoot, root, id, node), { kind, id, node }, now, options.backupGone));
      for (const node of listed.strayRecords) found.push(await judgeStrayRecord(path.join(spoolRoot, root, id, node), { id, node }, now));
      for (const name of listed.strayKeys) {
        found.push({ leftover: { path: path.join(spoolRoot, root, id, name), kind: 'trash', id, bytes: 0, action: 'remove', reason: 'a data key its run left behind (its directory and record are gone)' } });
      }
    }
  }
  const drills = await entries(path.join(spoolRoot, DRILL_RUNS));
  for (const id of drills.dirs) found.push(await judgeDrillDir(path.join(spoolRoot, DRILL_RUNS, id), id, now));
  for (const id of drills.strayRecords) found.push(await judgeStrayRecord(path.join(spoolRoot, DRILL_RUNS, id), { id }, now));
  for (const name of (await entries(path.join(spoolRoot, TRASH))).dirs) {
    const dir = path.join(spoolRoot, TRASH, name);
    found.push({ leftover: { path: dir, kind: 'trash', id: name, bytes: (await treeStats(dir)).bytes, action: 'remove', reason: 'left half-removed by an earlier reclaim' } });
  }
  return found;
}

/**
 * Removes the leftovers of dead runs under `spoolRoot` (stopping the processes they left running)
 * and returns every decision, kept directories included. A directory another process reclaims or
 * adopts at the same moment is left to it. Never throws for one directory: its failure is logged
 * and reported as kept.
 */
export async function reclaimLeftovers(spoolRoot: string, options: LeftoverOptions = {}): Promise<Leftover[]> {
  const judged = await judgeAll(spoolRoot, options);
  for (const { leftover, record } of judged) {
    if (leftover.action !== 'remove') continue;
    try {
      if (await removeLeftover(spoolRoot, leftover, record, options)) {
        options.logger?.info('reclaimed the leftover of a dead run', { path: leftover.path, bytes: leftover.bytes, reason: leftover.reason });
      } else {
        Object.assign(leftover, { action: 'keep', reason: 'taken by another process meanwhile' });
      }
    } catch (error) {
      options.logger?.warn('could not reclaim the leftover of a dead run', { path: leftover.path, error: (error as Error).message });
      Object.assign(leftover, { action: 'keep', reason: `removal failed: ${(error as Error).message}` });
    }
  }
  return judged.map((j) => j.leftover);
}

async function judgeRunDir(dir: string, where: Pick<Leftover, 'kind' | 'id' | 'node'>, now: Date, backupGone?: LeftoverOptions['backupGone']): Promise<Judged> {
  const record = await readOwner(dir);
  return { leftover: await decide(dir, where, record, now, backupGone), record };
}

/**
 * A drill's scratch target (core/drill/scratch-target.ts) has no owner record: its restore id says
 * when it began, and a drill runs within one execution, so one older than {@link MAX_RUN_MS} is dead —
 * its teardown never came (the drill host went away mid-drill) — and what it left running goes with it.
 */
async function judgeDrillDir(dir: string, id: string, now: Date): Promise<Judged> {
  const record = await readOwner(dir);
  const began = backupIdTime(id);
  const base = { path: dir, kind: 'drill' as const, id, bytes: (await treeStats(dir)).bytes };
  const ageMs = began ? now.getTime() - began.getTime() : Number.POSITIVE_INFINITY;
  // Its holder (the drill's orchestrator and start step, when recorded) says whether it still runs; else its age.
  const verdict = record?.owner ? judgeHolder(record.owner.holder, now) : undefined;
  if (verdict?.state === 'live' || (verdict?.state !== 'dead' && ageMs <= MAX_RUN_MS)) {
    return { leftover: { ...base, action: 'keep', reason: `a drill's scratch target, begun ${Math.round(ageMs / 60_000)} min ago: ${verdict?.state === 'live' ? verdict.reason : 'its drill may still run'}` } };
  }
  const orphans = (await processesNaming(dir)).map((p) => ({ pid: p.pid, program: path.basename(p.argv[0] ?? '?') }));
  const why = verdict?.state === 'dead' ? `its drill is over (${verdict.reason})` : began ? `begun ${began.toISOString()}` : 'not a restore id';
  return {
    leftover: {
      ...base, action: 'remove',
      reason: `a drill's scratch target that was never torn down (${why})${orphans.length ? `; it left ${orphans.map((o) => `${o.program} (pid ${o.pid})`).join(', ')} running` : ''}`,
      ...(orphans.length ? { orphans } : {}),
    },
    record,
  };
}

/** A record whose run directory is gone (a release or reclaim interrupted between the two): removed once its run is dead. */
async function judgeStrayRecord(dir: string, where: Pick<Leftover, 'id' | 'node'>, now: Date): Promise<Judged> {
  const record = await readOwner(dir);
  const owner = record?.owner;
  const verdict = owner ? judgeHolder(owner.holder, now) : { state: 'dead' as const, reason: 'it is unreadable' };
  const leftover: Leftover = {
    path: `${dir}${OWNER_SUFFIX}`, kind: 'record', ...where, bytes: record?.text.length ?? 0,
    action: verdict.state === 'dead' ? 'remove' : 'keep',
    reason: `the owner record of a run directory that is gone; ${verdict.reason}`,
  };
  return { leftover, record };
}

async function decide(dir: string, where: Pick<Leftover, 'kind' | 'id' | 'node'>, current: OwnerOnDisk | undefined, now: Date, backupGone?: LeftoverOptions['backupGone']): Promise<Leftover> {
  const owner = current?.owner;
  const stats = await treeStats(dir);
  const base = { path: dir, ...where, bytes: stats.bytes, ...(owner ? { engine: owner.engine, instance: owner.instance } : {}) };
  if (!owner) {
    const idleMs = now.getTime() - stats.newestMtimeMs;
    const idle = `${Math.round(idleMs / 60_000)} min`;
    return idleMs > MAX_RUN_MS
      ? { ...base, action: 'remove', reason: `no owner record (an older version's, or a crashed start) and untouched for ${idle}` }
      : { ...base, action: 'keep', reason: `no owner record yet; touched ${idle} ago (being created, or an older version's)` };
  }
  const verdict = judgeHolder(owner.holder, now);
  const attempt = `attempt ${owner.runId}`;
  if (verdict.state === 'live') return { ...base, action: 'keep', reason: `${attempt} is alive: ${verdict.reason}` };
  if (verdict.state === 'unknown') return { ...base, action: 'keep', reason: verdict.reason };
  const discarded = owner.resumableUntil && where.kind === 'backup'
    ? await backupGone?.({ engine: owner.engine, instance: owner.instance, backupId: where.id }).catch(() => false)
    : false;
  if (owner.resumableUntil && Date.parse(owner.resumableUntil) > now.getTime() && !discarded) {
    return { ...base, action: 'keep', reason: `${attempt} is dead (${verdict.reason}); its completed snapshot is kept for a resume until ${owner.resumableUntil}` };
  }
  const why = discarded ? `${attempt} is dead (${verdict.reason}) and its backup's run record is gone from the store (discarded, or finished): nothing left to resume` : `${attempt} is dead: ${verdict.reason}`;
  const orphans = (await processesNaming(dir)).map((p) => ({ pid: p.pid, program: path.basename(p.argv[0] ?? '?') }));
  return {
    ...base,
    action: 'remove',
    reason: `${why}${orphans.length ? `; it left ${orphans.map((o) => `${o.program} (pid ${o.pid})`).join(', ')} running` : ''}`,
    ...(orphans.length ? { orphans } : {}),
  };
}

/** Removes one leftover (see {@link reclaimLeftovers}); false when another process got it first. */
async function removeLeftover(spoolRoot: string, leftover: Leftover, judgedOn: OwnerOnDisk | undefined, options: LeftoverOptions): Promise<boolean> {
  switch (leftover.kind) {
    case 'trash':
      await rm(leftover.path, { recursive: true, force: true });
      return true;
    case 'record':
      if (!judgedOn || !(await takeOver(leftover.path.slice(0, -OWNER_SUFFIX.length), judgedOn))) return false;
      await rm(dataKeyFileOf(leftover.path.slice(0, -OWNER_SUFFIX.length)), { force: true }); // a release that died before its record went
      if (leftover.node) await rmdir(path.dirname(leftover.path)).catch(() => undefined); // the backup's (or restore's) directory, once empty
      return true;
    default:
      return removeRunDir(spoolRoot, leftover, judgedOn, options);
  }
}

/**
 * Takes the dead run's record (exactly the one judged; none when there was none), stops the
 * processes it left running, then moves its directory to the trash and deletes it.
 */
async function removeRunDir(spoolRoot: string, leftover: Leftover, judgedOn: OwnerOnDisk | undefined, options: LeftoverOptions): Promise<boolean> {
  const taken = judgedOn ? await takeOver(leftover.path, judgedOn) : (await readOwner(leftover.path)) === undefined;
  if (!taken) return false;
  for (const orphan of leftover.orphans ?? []) await stopProcess(orphan.pid, options.stopTimeoutMs ?? 5_000);
  const trash = path.join(spoolRoot, TRASH);
  await mkdir(trash, { recursive: true, mode: 0o700 });
  const moved = path.join(trash, `${leftover.kind}-${leftover.id}${leftover.node ? `-${leftover.node}` : ''}-${randomBytes(4).toString('hex')}`);
  try {
    await rename(leftover.path, moved);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  await rm(moved, { recursive: true, force: true });
  await rm(dataKeyFileOf(leftover.path), { force: true });
  await rmdir(path.dirname(leftover.path)).catch(() => undefined); // the backup's (or restore's) directory, once empty
  return true;
}

/** Whether `name` is a node's data key file (run-dir.ts `dataKeyFileOf`), or a crashed write's temporary copy of it (io/json-file.ts). */
const isDataKeyFile = (name: string): boolean => name.replace(TEMPORARY_SUFFIX, '').endsWith(DATA_KEY_SUFFIX);

/**
 * What `dir` holds (nothing when it does not exist): its subdirectories, and the names of the run
 * directories whose owner record is there without them.
 */
async function entries(dir: string): Promise<{ dirs: string[]; strayRecords: string[]; strayKeys: string[] }> {
  const listed = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const dirs = listed.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  const records = listed.filter((e) => e.isFile() && e.name.endsWith(OWNER_SUFFIX)).map((e) => e.name.slice(0, -OWNER_SUFFIX.length));
  const strayRecords = records.filter((name) => !dirs.includes(name));
  // A node's data key (and a crashed write's temporary copy of it) whose run directory and record are both gone.
  const strayKeys = listed
    .filter((e) => e.isFile() && isDataKeyFile(e.name))
    .map((e) => e.name)
    .filter((name) => {
      const run = name.slice(0, name.indexOf(DATA_KEY_SUFFIX));
      return !dirs.includes(run) && !records.includes(run);
    });
  return { dirs, strayRecords, strayKeys };
}

/** Bytes of the files under `dir` and the newest modification time in it (links are not followed). */
async function treeStats(dir: string): Promise<{ bytes: number; newestMtimeMs: number }> {
  let bytes = 0;
  let newestMtimeMs = 0;
  const walk = async (current: string): Promise<void> => {
    const info = await lstat(current).catch(() => undefined);
    if (!info) return;
    newestMtimeMs = Math.max(newestMtimeMs, info.mtimeMs);
    if (!info.isDirectory()) {
      bytes += info.size;
      return;
    }
    for (const entry of await readdir(current).catch(() => [] as string[])) await walk(path.join(current, entry));
  };
  await walk(dir);
  return { bytes, newestMtimeMs };
}
