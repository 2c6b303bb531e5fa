/**
 * What a sharded restore (Schemaless shards, Docstore partitions) tells its cleanup: a marker in
 * its own spool, written before its first write to any target server and marked done once the
 * restore finished. A restore that failed before it (a download, a corrupt chunk) left the target
 * untouched; after it, the shard databases hold part of the backup.
 */
import path from 'node:path';
import type { RestoreCleanup, RestoreProgress } from '../../../core/driver/restore-cleanup';
import type { RestoreContext } from '../../../core/driver/types';
import { markRestoreDone, ownRestoreMarker, writeRestoreMarker, type RestoreIdentity } from '../../../core/host/restore-marker';
import { emptyUnlessForced, type ShardMap, type ShardWords } from './target-shards';

type Ctx = Pick<RestoreContext<unknown>, 'spoolDir' | 'backup'>;

const markerOf = (ctx: Ctx): string => path.join(ctx.spoolDir, 'target-shards');
const identityOf = (ctx: Ctx): RestoreIdentity => ({ backupId: ctx.backup.backupId, spoolDir: ctx.spoolDir });

/** Notes that the restore is about to write to its target's servers. */
function beginWritingShards(ctx: Ctx): Promise<void> {
  return writeRestoreMarker(markerOf(ctx), identityOf(ctx));
}

/**
 * Just before a restore's first write: the target must still be empty, unless forced — rows
 * written there since it was prepared would be replaced — or hold what an earlier attempt of this
 * same restore wrote (a retried step: its marker is in the spool). Then notes the writing begins.
 * @throws PermanentError `TARGET_NOT_EMPTY` (target-shards.ts {@link emptyUnlessForced})
 */
export async function beginWritingIfEmpty(ctx: Ctx & { force?: boolean }, target: ShardMap, tables: readonly string[], words: ShardWords): Promise<void> {
  if (!(await ownRestoreMarker(markerOf(ctx), identityOf(ctx)))) await emptyUnlessForced(target, tables, ctx.force === true, words);
  await beginWritingShards(ctx);
}

/** Notes that the restore wrote the whole backup. */
export function doneWritingShards(ctx: Ctx): Promise<void> {
  return markRestoreDone(markerOf(ctx), identityOf(ctx));
}

/** After a failed restore: how far it got with the target's shard databases, by its marker. */
export async function shardsAfterFailure(ctx: Ctx, progress: RestoreProgress, target: string): Promise<RestoreCleanup> {
  const marker = await ownRestoreMarker(markerOf(ctx), identityOf(ctx));
  const condition = progress.result || marker?.done ? 'restored' : marker ? 'partial' : 'untouched';
  const detail = {
    restored: `${target} hold backup ${ctx.backup.backupId} as restored; the failure came after the restore`,
    partial: `${target} hold part of backup ${ctx.backup.backupId}: restore it again with force, or drop what it wrote`,
    untouched: `${target} were not written to`,
  }[condition];
  return { target: condition, detail, stopped: [] };
}
