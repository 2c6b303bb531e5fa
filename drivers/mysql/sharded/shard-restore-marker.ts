/**
 * How far a sharded restore (Schemaless shards, Docstore partitions) got, told twice:
 * - to its cleanup, by the marker of core/driver/target-writes.ts in its spool: written before its
 *   first write to any target server (once the target is found still empty), marked done once the
 *   restore finished;
 * - to whoever reads the target, by the logical restore's marker table (logical/restore-marker.ts)
 *   in each shard database, from its creation until the restore wrote all it writes: a restore that
 *   died part way (killed, its host rebooted) leaves databases that say so, and a backup of the
 *   store refuses them (target-shards.ts `unfinishedRestoresOn`) instead of taking part of a store for all of it.
 */
import type { Connection } from 'mysql2/promise';
import type { RestoreCleanup, RestoreProgress } from '../../../core/driver/restore-cleanup';
import type { RestoreContext } from '../../../core/driver/types';
import { beginWritingTarget, doneWritingTarget, hasBegunWritingTarget, targetWritesAfterFailure } from '../../../core/driver/target-writes';
import { MARKER_TABLE, removeMarker, unfinishedRestoreRefused, writeMarker } from '../logical/restore-marker';
import { classifyTargetError, openSchemaConnection } from '../shared/target-connection';
import { connectShards, emptyUnlessForced, markedBy, shardOnServer, unfinishedRestoresOn, type ShardMap, type ShardWords } from './target-shards';
import { nameSome } from '../../../core/name-some';

type Ctx = Pick<RestoreContext<unknown>, 'spoolDir' | 'backup'>;

/** How long a failed restore's cleanup waits for a lock on a database's marker table, in seconds: it reports, it does not wait out another restore's DDL. */
const MARK_READ_LOCK_WAIT_SECONDS = 10;

/** Marks `database`, about to be written, as holding an unfinished restore (a marker an earlier attempt left becomes this one's). */
export async function markShardDatabase(connection: Connection, database: string, restoreId: string, backupId: string): Promise<void> {
  await writeMarker(connection, database, restoreId, backupId, { replacing: true });
}

/**
 * Once the restore wrote all it writes: the marker table dropped from every shard database of
 * `target`, then the spool's marker marked done.
 */
export async function doneWritingShards(ctx: Ctx, target: ShardMap): Promise<void> {
  const connected = await connectShards(target, openSchemaConnection);
  try {
    for (const shard of connected.shards) {
      await removeMarker(shard.connection, shard.database).catch((error: unknown) => {
        throw classifyTargetError(error, `dropping ${shard.database}.${MARKER_TABLE}, the mark of the restore`);
      });
    }
  } finally {
    await connected.close();
  }
  await doneWritingTarget(ctx);
}

/**
 * Refuses a backup of shard databases that hold a restore's marker ({@link unfinishedRestoresOn}):
 * they hold part of a store, which the backup would take for all of it.
 * @throws PermanentError `<ENGINE>_UNFINISHED_RESTORE` naming them
 */
export function refuseUnfinishedRestores(engine: string, marked: readonly string[]): void {
  if (marked.length === 0) return;
  throw unfinishedRestoreRefused(engine, marked, 'a store');
}

/**
 * A snapshot's `whileLocked` (consistency.ts): refuses the shard databases of `databases` on
 * `server` that hold a restore's marker, while no restore can finish or begin.
 */
export function refusingUnfinishedRestores(engine: string, server: string, databases: readonly string[]): (control: Connection) => Promise<void> {
  return async (control) => refuseUnfinishedRestores(engine, await unfinishedRestoresOn(control, server, databases));
}

/**
 * Just before a restore's first write: the target must still be empty, unless forced — rows
 * written there since it was prepared would be replaced — or hold what an earlier attempt of this
 * same restore wrote (a retried step: its marker is in the spool, or, the spool gone with its
 * host, in each database holding rows). Then notes the writing begins.
 * @throws PermanentError `TARGET_NOT_EMPTY` (target-shards.ts {@link emptyUnlessForced})
 */
export async function beginWritingIfEmpty(ctx: Ctx & { force?: boolean; restoreId: string }, target: ShardMap, tables: readonly string[], words: ShardWords): Promise<void> {
  if (!(await hasBegunWritingTarget(ctx))) await emptyUnlessForced(target, tables, ctx.force === true, words, ctx.restoreId);
  await beginWritingTarget(ctx);
}

/**
 * After a failed restore: how far it got with the shard databases of `target` (`described` so), by
 * the marker in its spool — and, when that says nothing was written, by the databases' own marks:
 * the spool may have gone with its host after an attempt that wrote (a host replaced between
 * attempts), and a database holding this restore's mark was written by it.
 */
export async function shardsAfterFailure(ctx: Ctx & { restoreId: string }, progress: RestoreProgress, target: ShardMap, described: string): Promise<RestoreCleanup> {
  const partial = `${described} hold part of backup ${ctx.backup.backupId} (each database written holds table ${MARKER_TABLE} until a restore into it finishes): restore it again with force, or drop what it wrote`;
  const bySpool = await targetWritesAfterFailure(ctx, progress, {
    restored: `${described} hold backup ${ctx.backup.backupId} as restored; the failure came after the restore`,
    partial,
    untouched: `${described} were not written to`,
  });
  if (bySpool.target !== 'untouched') return bySpool;
  try {
    const written = await databasesMarkedBy(target, ctx.restoreId);
    return written.length === 0 ? bySpool : { target: 'partial', detail: `${partial}; it wrote ${nameSome(written, { most: 5 })}`, stopped: [] };
  } catch (error) {
    return { ...bySpool, detail: `by this host's spool, ${bySpool.detail} (their own marks, which would show an attempt whose spool was lost, could not be read: ${error instanceof Error ? error.message : String(error)})` };
  }
}

/**
 * The shard databases of `target` that hold the mark of restore `restoreId`, as `<database> on
 * <server>`. A read waits at most {@link MARK_READ_LOCK_WAIT_SECONDS} for a lock on a marker table.
 */
async function databasesMarkedBy(target: ShardMap, restoreId: string): Promise<string[]> {
  const connected = await connectShards(target);
  try {
    for (const connection of new Set(connected.shards.map((s) => s.connection))) await connection.query(`SET SESSION lock_wait_timeout = ${MARK_READ_LOCK_WAIT_SECONDS}`);
    return (await markedBy(connected.shards, restoreId)).map((shard) => shardOnServer(target, shard));
  } finally {
    await connected.close();
  }
}
