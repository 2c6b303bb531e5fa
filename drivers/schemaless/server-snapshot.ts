/**
 * The snapshot of one Schemaless server (a node of the backup): every shard it holds, read in one
 * read view (server-shards.ts: each shard's watermark, and its count while the dump runs), and dumped in that same view by
 * the MySQL driver's dump planner, on all of the view's connections at once; each shard's cell
 * summary is digested from the cells as they are dumped (cell-summary.ts).
 *
 * A full backup dumps each shard's cell table, index tables and buffered-writes table. An
 * incremental one dumps the cells since the shard's previous record (above its maximum, and those
 * that appeared in its gaps: watermark.ts) and the buffered-writes table whole (its rows are
 * removed once drained, so only the newest copy is true); index tables are derived from cells and
 * are rebuilt by a restore of a chain (restore-plan.ts).
 */
import type { Connection } from 'mysql2/promise';
import { refusingUnfinishedRestores } from '../mysql/sharded/shard-restore-marker';
import type { ArtifactSink } from '../../core/driver/artifact-sink';
import type { BackupContext, BackupRecord, JsonObject, SnapshotTaken } from '../../core/driver/types';
import { nodeRecords } from '../../core/catalog/manifest';
import { PermanentError, TransientError } from '../../core/errors';
import { assertPlacement } from '../mysql/sharded/placement-check';
import { dumpShardTables } from '../mysql/sharded/shard-dump';
import { VALUE_ENCODING } from '../mysql/shared/column-codec';
import { describeServer, openTextConnection } from '../mysql/shared/connection';
import { toMysqlError } from '../mysql/shared/errors';
import { DIGEST_ALGORITHM } from '../mysql/shared/table-digest';
import type { SchemalessConfig } from './config';
import { ENGINE, recordedConsistency, recordedFacts, type SchemalessConsistency, type SchemalessFacts, type ShardFacts, type TableRole } from './records';
import { extendSummary, SUMMARY_PROJECTION, type CellSummary } from './cell-summary';
import { readServerShards } from './server-shards';
import { cellsAfter, type ShardWatermark } from './watermark';

type Server = SchemalessConfig['servers'][number];

/** The server of the config a node is. */
export function serverOf(config: SchemalessConfig, node: string): Server {
  const server = config.servers.find((s) => s.name === node);
  if (!server) throw new PermanentError(`node ${node} is not a server of this Schemaless instance (${config.servers.map((s) => s.name).join(', ')})`, { code: 'INVALID_INPUT', engine: ENGINE });
  return server;
}

/**
 * Each shard's watermark in the backup an incremental extends, whichever node recorded it (a shard
 * may have moved to another server since). Refuses a previous backup of another shard count, tables or indexes.
 */
export function previousWatermarks(previous: BackupRecord, config: SchemalessConfig): Map<number, { watermark: ShardWatermark; summary: CellSummary }> {
  const watermarks = new Map<number, { watermark: ShardWatermark; summary: CellSummary }>();
  for (const record of nodeRecords(previous)) {
    const facts = recordedFacts(record);
    const indexes = (list: ReadonlyArray<{ table: string; column: string; field: string }>) => list.map((i) => `${i.table}(${i.column} ${i.field})`).sort().join(', ') || 'none';
    const changed = facts.shardCount !== config.shards.length ? `it has ${facts.shardCount} shards, the instance now ${config.shards.length}`
      : facts.cellTable !== config.cellTable ? `its cell table is ${facts.cellTable}, the instance's now ${config.cellTable}`
        // An incremental carries no index tables: a restore of its chain rebuilds the indexes the chain's full backup holds.
        : indexes(facts.indexes) !== indexes(config.indexes) ? `its indexes are ${indexes(facts.indexes)}, the instance's now ${indexes(config.indexes)}`
          : (facts.bufferedWritesTable ?? '') !== (config.bufferedWritesTable ?? '') ? `its buffered-writes table is ${facts.bufferedWritesTable ?? 'none'}, the instance's now ${config.bufferedWritesTable ?? 'none'}`
            : undefined;
    if (changed) {
      throw new PermanentError(`an incremental backup cannot extend backup ${previous.backupId}: ${changed}`, { code: 'SCHEMALESS_SHARD_MAP_CHANGED', engine: ENGINE });
    }
    for (const shard of recordedConsistency(record).shards) {
      watermarks.set(shard.shard, { watermark: shard.watermark, summary: facts.shards.find((f) => f.shard === shard.shard)!.summary });
    }
  }
  return watermarks;
}

/**
 * The previous backup's watermarks, or undefined when this backup cannot extend it (another shard
 * count, cell table, index list or buffered-writes table): then every shard is taken whole, said in
 * the log, and a restore of the chain starts each shard from this backup (restore-plan.ts) — a
 * scheduled incremental keeps working after the instance's layout changed.
 */
function extendable(previous: BackupRecord, config: SchemalessConfig, logger: BackupContext['logger']): ReturnType<typeof previousWatermarks> | undefined {
  try {
    return previousWatermarks(previous, config);
  } catch (error) {
    if ((error as { code?: string }).code !== 'SCHEMALESS_SHARD_MAP_CHANGED') throw error;
    logger.warn('schemaless backup: taking every shard whole', { reason: (error as Error).message });
    return undefined;
  }
}

/** Takes the snapshot of the server `ctx.node` names into `sink` (emptied by the caller). */
export async function takeServerSnapshot(ctx: BackupContext<SchemalessConfig>, sink: ArtifactSink): Promise<SnapshotTaken> {
  const { config, logger } = ctx;
  const server = serverOf(config, ctx.node.name);
  const previous = ctx.previous ? extendable(ctx.previous, config, logger) : undefined;
  const shards = config.shards.filter((s) => s.server === server.name).map((s) => {
    const before = previous?.get(s.shard);
    return { shard: s.shard, database: s.database, ...(before ? { previous: before.watermark, previousSummary: before.summary } : {}) };
  });
  let control: Connection;
  try {
    control = await openTextConnection(server);
  } catch (error) {
    throw toMysqlError(error, `connecting to ${server.name} (${describeServer(server)})`, 'MYSQL_CONNECT_FAILED');
  }
  try {
    await assertPlacement(control, shards.flatMap((s) => [
      { shard: s.shard, database: s.database, table: config.cellTable, key: 'row_key' },
      ...config.indexes.map((i) => ({ shard: s.shard, database: s.database, table: i.table, key: 'index_key' })),
    ]), config.shards.length, { shard: 'shard', engine: ENGINE }, logger);
    // Shard databases a restore into did not finish are refused where no restore can finish meanwhile.
    const whileLocked = refusingUnfinishedRestores(ENGINE, server.name, shards.map((s) => s.database));
    const view = await readServerShards(server, shards, config.cellTable, logger, config.parallelism, whileLocked);
    try {
      const dumped = await dumpShardTables<TableRole>(control, view.connections, view.shards.map((reading) => {
        const from = shards.find((s) => s.shard === reading.shard)!;
        return {
          number: reading.shard,
          database: reading.database,
          tables: [
            from.previous
              ? { table: config.cellTable, role: 'cells' as const, where: cellsAfter(from.previous), estimatedRows: reading.newIds + reading.lateIds.length, projection: SUMMARY_PROJECTION }
              : { table: config.cellTable, role: 'cells' as const, projection: SUMMARY_PROJECTION },
            ...(from.previous ? [] : config.indexes.map((i) => ({ table: i.table, role: 'index' as const }))),
            ...(config.bufferedWritesTable ? [{ table: config.bufferedWritesTable, role: 'buffered-writes' as const }] : []),
          ],
        };
      }), { sink, chunkRows: config.chunkRows, logger, signal: ctx.signal, engine: ENGINE, server: server.name });
      const wholeTables = await view.wholeTables();
      const facts: ShardFacts[] = view.shards.map((reading) => {
        const from = shards.find((s) => s.shard === reading.shard)!;
        const whole = wholeTables.get(reading.shard)!;
        const tables = dumped.shards.get(reading.shard)!;
        const { projected, ...cells } = tables.find((t) => t.role === 'cells')!;
        const expected = from.previous ? reading.newIds + reading.lateIds.length : whole.cells;
        if (cells.rows !== expected) {
          throw new TransientError(`shard ${reading.shard}: the dump read ${cells.rows} cells where its read view counted ${expected}; retry the backup`, { code: 'SCHEMALESS_DUMP_MISMATCH', engine: ENGINE });
        }
        const dumpedSummary = { cells: cells.rows, digest: projected! };
        const table = { database: reading.database, table: config.cellTable };
        return {
          shard: reading.shard,
          database: reading.database,
          kind: from.previous ? 'incremental' : 'full',
          summary: from.previousSummary ? extendSummary(table, from.previousSummary, dumpedSummary, whole) : { ...dumpedSummary, maxAddedId: whole.maxAddedId },
          newCells: from.previous ? reading.newIds : whole.cells,
          lateCells: reading.lateIds.length,
          tables: tables.map(({ projected: _summarised, ...t }) => t),
        };
      });
      const consistency: SchemalessConsistency = {
        ...view.consistency,
        readAt: view.readAt,
        shards: view.shards.map((r) => ({ shard: r.shard, database: r.database, watermark: r.watermark })),
      };
      const schemalessFacts: SchemalessFacts = {
        shardCount: config.shards.length,
        cellTable: config.cellTable,
        indexes: config.indexes,
        ...(config.bufferedWritesTable ? { bufferedWritesTable: config.bufferedWritesTable } : {}),
        shards: facts,
        digestAlgorithm: DIGEST_ALGORITHM,
        valueEncoding: VALUE_ENCODING,
      };
      logger.info('schemaless backup: server done', {
        server: server.name, shards: facts.length, kind: previous ? 'incremental' : 'full',
        cells: facts.reduce((n, f) => n + f.newCells + f.lateCells, 0), late: facts.reduce((n, f) => n + f.lateCells, 0),
      });
      return {
        artifacts: dumped.artifacts,
        consistency: consistency as unknown as JsonObject,
        facts: schemalessFacts as unknown as JsonObject,
      };
    } finally {
      await view.end();
    }
  } catch (error) {
    throw toMysqlError(error, `backing up Schemaless server ${server.name}`, 'SCHEMALESS_BACKUP_FAILED');
  } finally {
    await control.end().catch(() => undefined);
  }
}
