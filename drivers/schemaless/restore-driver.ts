/**
 * Restore side of the Schemaless driver: a backup and the chain it extends (the full backup and the
 * incrementals up to it) into the shard databases of a target of any number of servers (its shard
 * map), over the network from the step's host: one node.
 *
 *     prepareTarget: the target has the backup's number of shards, and none of its tables holds rows (unless forced)
 *     restore:       every chunk of the chain downloaded and verified, then loaded (shard-load.ts);
 *                    a point in time drops the cells created after it; every index then checked
 *                    against the cells across shards, and repaired where it fails (entries of cells
 *                    on other servers, read at other moments, may dangle or be missing: they are
 *                    counted), or built from the cells when not loaded
 *     validate:      restore-validation.ts
 */
import { format } from 'mysql2/promise';
import { downloadArtifacts } from '../../core/driver/download';
import type { PreparedTarget, RestoreContext, RestoreDriver, RestoreResult, TransferOptions, ValidationReport } from '../../core/driver/types';
import { PermanentError } from '../../core/errors';
import { mysqlEndpoint } from '../mysql/shared/connection-config';
import { openDataConnection, quoteId } from '../mysql/shared/connection';
import type { SchemalessRestoreTarget } from './config';
import { summariseCells } from './cell-summary';
import { cellIndex } from './index-check';
import { ENGINE, recordedConsistency } from './records';
import { nodeRecords } from '../../core/catalog/manifest';
import { planRestore, utcDatetime, type RestorePlan } from './restore-plan';
import { validateShards } from './restore-validation';
import { loadShards } from '../mysql/sharded/shard-load';
import { beginWritingIfEmpty, doneWritingShards, shardsAfterFailure } from '../mysql/sharded/shard-restore-marker';
import type { RestoreCleanup, RestoreProgress } from '../../core/driver/restore-cleanup';
import { indexRecords, makeIndexesWhole, type IndexRecord } from '../mysql/sharded/restored-indexes';
import { connectShards, preparedShardTarget } from '../mysql/sharded/target-shards';
import { schemalessScratch } from './scratch';

type Ctx = RestoreContext<SchemalessRestoreTarget>;

/** The plan of this restore (pure: every step computes the same one). */
export function planOf(ctx: Ctx): RestorePlan {
  return planRestore(ctx.bases ?? [], ctx.backup, ctx.target);
}

const WORDS = { shard: 'shard', engine: ENGINE };

/** Every table the restore writes in a shard database. */
const tablesOf = (plan: RestorePlan) => [...new Set(plan.shards.flatMap((s) => s.tables.map((t) => t.table)))];

export class SchemalessRestoreDriver implements RestoreDriver<SchemalessRestoreTarget> {
  /** The empty target on this host a restore drill restores into. */
  readonly scratch = schemalessScratch;

  endpoint(target: SchemalessRestoreTarget): string {
    return target.servers.map((s) => mysqlEndpoint(s)).join(',');
  }

  /** A restore sends data to servers over the network: no host path is replaced. */
  replacedPaths(): string[] {
    return [];
  }

  /** A forced restore replaces tables on every target server that holds a shard. */
  replacedServers(target: SchemalessRestoreTarget): string[] {
    return target.servers.filter((s) => target.shards.some((shard) => shard.server === s.name)).map((s) => mysqlEndpoint(s));
  }

  async prepareTarget(ctx: Ctx): Promise<PreparedTarget> {
    const plan = planOf(ctx);
    if (ctx.target.shards.length !== plan.facts.shardCount) {
      throw new PermanentError(`backup ${ctx.backup.backupId} holds ${plan.facts.shardCount} shards; the target maps ${ctx.target.shards.length}: a restore puts every shard somewhere (cells are placed by CRC32(row_key) % shards)`,
        { code: 'SCHEMALESS_SHARD_COUNT', engine: ENGINE });
    }
    const pointInTime = ctx.target.pointInTime;
    const readAt = nodeRecords(ctx.backup).map((node) => recordedConsistency(node).readAt).filter((t): t is string => t !== undefined).sort()[0];
    if (pointInTime !== undefined && readAt !== undefined && Date.parse(pointInTime) > Date.parse(readAt)) {
      throw new PermanentError(`backup ${ctx.backup.backupId} was read at ${readAt}; the store at ${pointInTime} is beyond it (cells created since are in no backup of this chain): restore a later backup, or an earlier time`,
        { code: 'SCHEMALESS_POINT_IN_TIME_BEYOND', engine: ENGINE });
    }
    const occupied = await preparedShardTarget(ctx.target, tablesOf(plan), ctx.force === true, WORDS);
    return { details: { shards: plan.facts.shardCount, replaced: occupied.length } };
  }

  async restore(ctx: Ctx, _prepared: PreparedTarget, transfer: TransferOptions): Promise<RestoreResult> {
    const started = Date.now();
    const plan = planOf(ctx);
    const downloaded = await downloadArtifacts(plan.downloads.map((a) => ({ ...a, name: a.local })), ctx.spoolDir, { ...transfer, concurrency: 4 });
    const files = new Map(plan.downloads.map((a) => [a.key, downloaded.files[a.local]]));
    await beginWritingIfEmpty(ctx, ctx.target, tablesOf(plan), WORDS);
    const { rows } = await loadShards({ target: ctx.target, shards: plan.shards, valueEncoding: plan.facts.valueEncoding, files, logger: ctx.logger, signal: ctx.signal, engine: ENGINE, restore: { restoreId: ctx.restoreId, backupId: ctx.backup.backupId } });
    const beforeTrim = ctx.target.pointInTime ? await trimAfter(ctx, plan, ctx.target.pointInTime) : undefined;
    ctx.logger.info('schemaless restore: shards loaded', { shards: plan.shards.length, rows });
    const repaired = plan.facts.indexes.length > 0 ? await repairAll(ctx, plan) : undefined;
    ctx.logger.info('schemaless restore: loaded', { shards: plan.shards.length, rows, chain: (ctx.bases ?? []).length + 1, repaired });
    await doneWritingShards(ctx, ctx.target);
    return {
      endpoint: {
        servers: ctx.target.servers.map((s) => s.name),
        shards: plan.shards.length,
        chain: [...(ctx.bases ?? []), ctx.backup].map((b) => b.backupId),
        ...(repaired ? { restoredIndexes: repaired } : {}),
        ...(beforeTrim ? { pointInTime: ctx.target.pointInTime!, beforeTrim } : {}),
      },
      bytes: downloaded.bytes,
      durationMs: Date.now() - started,
    };
  }

  /** After a failed restore: whether it had begun writing the target's servers, and finished. */
  cleanup(ctx: Ctx, progress: RestoreProgress): Promise<RestoreCleanup> {
    return shardsAfterFailure(ctx, progress, ctx.target, `the shard databases of ${ctx.target.servers.map((s) => s.name).join(', ')}`);
  }

  async validateRestore(ctx: Ctx, result: RestoreResult): Promise<ValidationReport> {
    const checks = await validateShards(ctx, planOf(ctx), result);
    return { ok: checks.every((c) => c.ok), checks };
  }
}

/**
 * A point-in-time restore: first the whole chain's cells are proven as restored (each shard's
 * summary, recorded for validation), then the cells and buffered writes created after `time` are
 * deleted. Cells are never updated, so what stays is exactly the store at `time`.
 */
async function trimAfter(ctx: Ctx, plan: RestorePlan, time: string): Promise<Array<{ shard: number; cells: number; maxAddedId: string; digest: string; trimmed: number }>> {
  const connected = await connectShards(ctx.target, openDataConnection);
  try {
    const recorded = [];
    const limit = utcDatetime(time);
    for (const shard of connected.shards) {
      const summary = await summariseCells(shard.connection, { database: shard.database, table: plan.facts.cellTable });
      const [deleted] = await shard.connection.query(format(`DELETE FROM ${quoteId(shard.database)}.${quoteId(plan.facts.cellTable)} WHERE created_at > ?`, [limit])) as [{ affectedRows: number }, unknown];
      if (plan.facts.bufferedWritesTable) {
        await shard.connection.query(format(`DELETE FROM ${quoteId(shard.database)}.${quoteId(plan.facts.bufferedWritesTable)} WHERE created_at > ?`, [limit]));
      }
      recorded.push({ shard: shard.shard, ...summary, trimmed: deleted.affectedRows });
    }
    return recorded;
  } finally {
    await connected.close();
  }
}

/**
 * Makes every index hold exactly what the restored cells call for (the shared makeIndexesWhole:
 * entries loaded from the backup are checked and only the shards that fail are repaired; indexes
 * not loaded are built); per index, the entries it holds and how many were removed and added.
 */
async function repairAll(ctx: Ctx, plan: RestorePlan): Promise<Record<string, IndexRecord>> {
  const indexes = plan.facts.indexes.map((index) => cellIndex(index, plan.facts.cellTable));
  const made = await makeIndexesWhole(ctx.target, indexes, { loaded: plan.loadIndexes, perServer: ctx.target.parallelism });
  ctx.logger.info('schemaless restore: indexes made whole', { repairedShards: Object.fromEntries(made.map((m) => [m.index, m.repairedShards])) });
  return indexRecords(made);
}
