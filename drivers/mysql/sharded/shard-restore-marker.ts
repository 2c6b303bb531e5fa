/**
 * What a sharded restore (Schemaless shards, Docstore partitions) tells its cleanup, by the marker
 * of core/driver/target-writes.ts: written before its first write to any target server (once the
 * target is found still empty), marked done once the restore finished.
 */
import type { RestoreCleanup, RestoreProgress } from '../../../core/driver/restore-cleanup';
import type { RestoreContext } from '../../../core/driver/types';
import { beginWritingTarget, hasBegunWritingTarget, targetWritesAfterFailure } from '../../../core/driver/target-writes';
import { emptyUnlessForced, type ShardMap, type ShardWords } from './target-shards';

type Ctx = Pick<RestoreContext<unknown>, 'spoolDir' | 'backup'>;

/**
 * Just before a restore's first write: the target must still be empty, unless forced — rows
 * written there since it was prepared would be replaced — or hold what an earlier attempt of this
 * same restore wrote (a retried step: its marker is in the spool). Then notes the writing begins.
 * @throws PermanentError `TARGET_NOT_EMPTY` (target-shards.ts {@link emptyUnlessForced})
 */
export async function beginWritingIfEmpty(ctx: Ctx & { force?: boolean }, target: ShardMap, tables: readonly string[], words: ShardWords): Promise<void> {
  if (!(await hasBegunWritingTarget(ctx))) await emptyUnlessForced(target, tables, ctx.force === true, words);
  await beginWritingTarget(ctx);
}

/** After a failed restore: how far it got with the target's shard databases, by its marker. */
export function shardsAfterFailure(ctx: Ctx, progress: RestoreProgress, target: string): Promise<RestoreCleanup> {
  return targetWritesAfterFailure(ctx, progress, {
    restored: `${target} hold backup ${ctx.backup.backupId} as restored; the failure came after the restore`,
    partial: `${target} hold part of backup ${ctx.backup.backupId}: restore it again with force, or drop what it wrote`,
    untouched: `${target} were not written to`,
  });
}
