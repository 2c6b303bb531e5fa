/**
 * What a restore that writes its target over the network (tables, databases: no data dir of its
 * own to mark) tells its cleanup: a marker in the restore's own spool on this host, written just
 * before its first write to the target and marked done once it has written all it writes here. A
 * restore that failed before (a download, a corrupt chunk, a refusal) left the target untouched;
 * after, the target holds part of the backup — or all of it, once done or once the node's result
 * is recorded.
 */
import path from 'node:path';
import { markRestoreDone, ownRestoreMarker, writeRestoreMarker, type RestoreIdentity } from '../host/restore-marker';
import type { RestoreCleanup, RestoreProgress, TargetCondition } from './restore-cleanup';
import type { RestoreContext } from './types';

type Ctx = Pick<RestoreContext<unknown>, 'spoolDir' | 'backup'>;

const markerOf = (ctx: Ctx): string => path.join(ctx.spoolDir, 'target-writes');
/** The marker's name before it served every such restore: an earlier attempt by an older host agent (Schemaless, Docstore) left it so. */
const olderMarkerOf = (ctx: Ctx): string => path.join(ctx.spoolDir, 'target-shards');
const identityOf = (ctx: Ctx): RestoreIdentity => ({ backupId: ctx.backup.backupId, spoolDir: ctx.spoolDir });

/** This restore's marker on this host, under either name. */
async function ownMarker(ctx: Ctx): ReturnType<typeof ownRestoreMarker> {
  return (await ownRestoreMarker(markerOf(ctx), identityOf(ctx))) ?? ownRestoreMarker(olderMarkerOf(ctx), identityOf(ctx));
}

/** Notes that the restore is about to write to its target. */
export function beginWritingTarget(ctx: Ctx): Promise<void> {
  return writeRestoreMarker(markerOf(ctx), identityOf(ctx));
}

/** Whether this restore (an earlier attempt of this step, say) has begun writing its target from this host. */
export async function hasBegunWritingTarget(ctx: Ctx): Promise<boolean> {
  return (await ownMarker(ctx)) !== undefined;
}

/** Notes that the restore wrote all it writes from this host. */
export function doneWritingTarget(ctx: Ctx): Promise<void> {
  return markRestoreDone(markerOf(ctx), identityOf(ctx));
}

/** After a failed restore: how far it got with the target from this host (by its marker and the node's recorded result), in the driver's words for each. */
export async function targetWritesAfterFailure(ctx: Ctx, progress: RestoreProgress, details: Record<Exclude<TargetCondition, 'unknown'>, string>): Promise<RestoreCleanup> {
  const marker = await ownMarker(ctx);
  const condition = progress.result || marker?.done ? 'restored' : marker ? 'partial' : 'untouched';
  return { target: condition, detail: details[condition], stopped: [] };
}
