/**
 * After a failed MySQL/MariaDB restore, on the target host: stops the server this restore started
 * and says what the target holds. The restore's own work is recognised by its markers and never
 * confused with what another restore or the operator put there:
 *
 * - physical: the server is stopped when this restore started it (recorded as its own:
 *   core/host/started-servers.ts); the data dir's state is read from the marker next to it
 *   (physical-restore.ts: this restore's spool, `done` once the whole restore finished); the
 *   staging dir (the extracted backup) is removed;
 * - logical: the marker table in each target database (restore-marker.ts: this restore's token) and
 *   the spool's record of the databases it created — once the restore step has finished (a later
 *   step failed), every target database holds what it loaded; a database that was to be replaced
 *   and is gone was dropped by it. Nothing is started, so nothing is stopped.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { dataDirCleanup, type RestoreCleanup, type RestoreProgress } from '../../core/driver/restore-cleanup';
import type { RestoreContext } from '../../core/driver/types';
import type { MysqlRestoreTarget } from './config';
import { describeServer } from './shared/connection';
import { ownPhysicalMarker, stagingDir } from './physical/physical-restore';
import { createdBySpool, MARKER_TABLE, readMarker } from './logical/restore-marker';
import { restoreServersOf } from './shared/restored-server';
import { classifyTargetError, openSchemaConnection } from './shared/target-connection';
import { holdsObjects, inspectDatabases } from './logical/target-databases';

type Ctx = RestoreContext<MysqlRestoreTarget>;

const list = (names: string[]): string => names.join(', ');
/** `shop holds` / `shop, crm hold`. */
const they = (names: string[], one: string, many: string): string => `${list(names)} ${names.length === 1 ? one : many}`;

/** A physical restore: the data dir, its server and the staging dir. */
export async function cleanupPhysicalRestore(ctx: Ctx, progress: RestoreProgress): Promise<RestoreCleanup> {
  if (!ctx.target.physical) return { target: 'untouched', detail: 'no data dir was given, so none was written to', stopped: [] };
  const datadir = path.resolve(ctx.target.physical.datadir);
  const marker = await ownPhysicalMarker(ctx, datadir);
  const pid = await restoreServersOf(ctx).stopOwn(datadir);
  const stopped = pid === undefined ? [] : [`MariaDB server (pid ${pid}, port ${ctx.target.port})`];
  // makePreparedCopy wipes the staging dir whenever it starts, so it is only ever this restore's.
  await rm(stagingDir(datadir), { recursive: true, force: true });
  const condition = marker?.done || (marker === undefined && progress.result) ? 'restored' : marker ? 'partial' : 'untouched';
  return dataDirCleanup(datadir, condition, { backupId: ctx.backup.backupId, replaced: progress.prepared?.details.replaces === true, stopped, restoredAs: restoredAs(progress) });
}

/** How a restored target holds the backup: as restored, or replayed up to where a point-in-time replay got. */
function restoredAs(progress: RestoreProgress): string {
  const replayed = progress.result?.endpoint.replay as { replayedTo?: { gtid?: string | null; lastEventAt?: string | null } } | undefined;
  if (!replayed) return 'as restored';
  const to = replayed.replayedTo;
  return `restored and replayed up to ${to?.gtid ? `GTID ${to.gtid}` : 'the backup\'s point'}${to?.lastEventAt ? ` (last event at ${to.lastEventAt})` : ''}, which may not be the point asked for: see the failed checks`;
}

/** A logical restore: the target databases, by their markers and the spool's record. */
export async function cleanupLogicalRestore(ctx: Ctx, progress: RestoreProgress): Promise<RestoreCleanup> {
  const details = progress.prepared?.details;
  const token = details?.restoreToken;
  const where = describeServer(ctx.target);
  if (typeof token !== 'string') return { target: 'untouched', detail: `nothing was written to ${where} (the target was never prepared)`, stopped: [] };
  const targets = ((details!.databases ?? []) as Array<{ target: string }>).map((d) => d.target);
  const replaced = new Set((details!.replace ?? []) as string[]);
  const created = await createdBySpool(ctx.spoolDir, token);
  const unfinished: string[] = [];
  /** Target databases a rerun without force would refuse: any holding more than a marker (a rerun's token is its own). */
  const occupied: string[] = [];
  const finished: string[] = [];
  const dropped: string[] = [];
  const connection = await openSchemaConnection(ctx.target);
  try {
    for (const state of await inspectDatabases(connection, targets)) {
      const mine = state.exists && state.marked && (await readMarker(connection, state.name)) === token;
      if (state.exists && holdsObjects(state)) occupied.push(state.name);
      if (mine) unfinished.push(state.name);
      // Created by this restore: its spool says so — or, once the restore step finished (its markers
      // and spool gone with it), every target database is what it loaded.
      else if (state.exists && (created.has(state.name) || progress.result !== undefined)) finished.push(state.name);
      else if (!state.exists && replaced.has(state.name)) dropped.push(state.name);
    }
  } catch (error) {
    throw classifyTargetError(error, `looking at what the failed restore left on ${where}`);
  } finally {
    await connection.end().catch(() => undefined);
  }
  const gone = [...unfinished, ...dropped].filter((name) => replaced.has(name));
  const replay = ctx.target.pointInTime && !progress.result && finished.length > 0;
  if (unfinished.length > 0 || dropped.length > 0 || replay) {
    const parts = [
      unfinished.length > 0 ? `${they(unfinished, 'holds', 'hold')} an unfinished restore (marker table ${MARKER_TABLE})` : '',
      dropped.length > 0 ? `${they(dropped, 'was', 'were')} dropped and not restored` : '',
      replay ? `${they(finished, 'was', 'were')} loaded to the backup's point, but the replay to the requested point did not finish` : '',
      gone.length > 0 ? `the previous contents of ${list(gone)} are gone` : '',
    ].filter(Boolean);
    // A database holding nothing but a marker counts as empty: a plain rerun replaces it; one holding more needs force.
    const again = occupied.length > 0
      ? `restore again with force (on a server the host lists in DBBACKUP_RESTORE_SERVERS: ${list(occupied)} ${occupied.length === 1 ? 'holds' : 'hold'} tables or other objects) or drop them`
      : 'a plain rerun of the restore replaces them (none holds more than the marker)';
    return { target: 'partial', detail: `on ${where}: ${parts.join('; ')}: ${again}`, stopped: [] };
  }
  if (finished.length > 0) {
    return { target: 'restored', detail: `on ${where}: ${they(finished, 'holds', 'hold')} backup ${ctx.backup.backupId} ${restoredAs(progress)}; the failure came after the restore`, stopped: [] };
  }
  return { target: 'untouched', detail: `nothing was written to ${where}${replaced.size > 0 ? `; ${they([...replaced], 'keeps its', 'keep their')} previous contents` : ''}`, stopped: [] };
}
