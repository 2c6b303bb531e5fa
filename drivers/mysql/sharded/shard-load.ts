/**
 * Loading dumped shards into a target's shard databases (Schemaless shards, Docstore partitions):
 * per server, each of its shards' tables created from the source's DDL, then every table's chunks
 * — in the order given, e.g. a chain's — loaded by the MySQL driver's loader (chunk-load.ts: one
 * LOAD DATA per table on MariaDB ≥ 10.6, byte-exact or it fails), the servers at once; a table
 * given what it should read back as is read back as soon as it is in (chunk-load.ts ReadBack).
 * Each database holds the restore's marker table from its creation on, until the restore drops it
 * (shard-restore-marker.ts).
 */
import type { Connection } from 'mysql2/promise';
import { allTogether } from '../../../core/concurrency';
import { stopIfAborted } from '../../../core/errors';
import type { Logger } from '../../../core/logger';
import { columnsOfLoads, loadTables, mergeReadBacks, type ExpectedRows, type ReadBack, type TableLoad } from '../logical/chunk-load';
import type { ValueEncoding } from '../shared/column-codec';
import { quoteId } from '../shared/connection';
import type { ColumnInfo } from '../shared/column-codec';
import { classifyTargetError, openSchemaConnection } from '../shared/target-connection';
import { markShardDatabase } from './shard-restore-marker';
import type { ShardMap, TargetServer } from './target-shards';

/** One table of a shard to create and load. */
export interface ShardTableLoad {
  table: string;
  engine: string;
  ddl: string;
  /** Rows the chunks hold together (the loader checks it). */
  rows: number;
  /** Its chunks, in load order (their local files are in {@link LoadContext.files}). */
  chunks: ReadonlyArray<{ key: string }>;
  /** What it reads back as once loaded (its dump's digest): given, it is read back as soon as it is in. */
  expected?: ExpectedRows;
}

/** What a load did: the rows loaded, and what was read back when tables were given {@link ShardTableLoad.expected}. */
export interface ShardsLoaded {
  rows: number;
  readBack?: ReadBack;
}

export interface LoadContext {
  target: ShardMap & { parallelism: number };
  shards: ReadonlyArray<{ shard: number; tables: readonly ShardTableLoad[] }>;
  /** How the chunk files encode values (the backup's facts). */
  valueEncoding: ValueEncoding;
  /** The local file of each downloaded artifact, by object key. */
  files: ReadonlyMap<string, string>;
  logger: Logger;
  signal?: AbortSignal;
  /** The engine restoring (an aborted load names it). */
  engine: string;
  /** The restore, for the marker table each shard database holds until it finishes (shard-restore-marker.ts). */
  restore: { restoreId: string; backupId: string };
}

/** Creates and loads every shard of `server`. */
async function loadServer(server: TargetServer, ctx: LoadContext): Promise<ShardsLoaded> {
  const shards = ctx.target.shards.filter((s) => s.server === server.name);
  const control = await openSchemaConnection(server);
  const loads: TableLoad[] = [];
  let columns: Map<string, ColumnInfo[]>;
  try {
    for (const place of shards) {
      const plan = ctx.shards.find((s) => s.shard === place.shard)!;
      const database = quoteId(place.database);
      await run(control, `CREATE DATABASE IF NOT EXISTS ${database} CHARACTER SET utf8mb4`, `creating database ${place.database} on ${server.name}`, ctx.signal, ctx.engine);
      await markShardDatabase(control, place.database, ctx.restore.restoreId, ctx.restore.backupId).catch((error: unknown) => {
        throw classifyTargetError(error, `marking ${place.database} on ${server.name} as being restored`);
      });
      await run(control, `USE ${database}`, `using ${place.database} on ${server.name}`, ctx.signal, ctx.engine);
      for (const t of plan.tables) {
        // prepareTarget refused tables holding rows (unless forced): what is dropped here is empty or replaced on purpose.
        await run(control, `DROP TABLE IF EXISTS ${quoteId(t.table)}`, `replacing ${place.database}.${t.table} on ${server.name}`, ctx.signal, ctx.engine);
        await run(control, t.ddl, `creating ${place.database}.${t.table} on ${server.name}`, ctx.signal, ctx.engine);
        loads.push({ database: place.database, table: t.table, engine: t.engine, rows: t.rows, files: t.chunks.map((c) => ctx.files.get(c.key)!), ...(t.expected ? { expected: t.expected } : {}) });
      }
    }
    columns = await columnsOfLoads(control, loads);
  } finally {
    await control.end().catch(() => undefined);
  }
  const loaded = await loadTables(server, loads, columns, {
    encoding: ctx.valueEncoding,
    parallelism: ctx.target.parallelism,
    logger: ctx.logger,
    signal: ctx.signal,
  });
  return { rows: loaded.rows, ...(loaded.readBack ? { readBack: loaded.readBack } : {}) };
}

async function run(connection: Connection, sql: string, doing: string, signal: AbortSignal | undefined, engine: string): Promise<void> {
  stopIfAborted(signal, 'restore', engine);
  try {
    await connection.query(sql);
  } catch (error) {
    throw classifyTargetError(error, doing);
  }
}

/**
 * Loads every shard into its target server, the servers at once. A server that fails stops the
 * others, and the failure is thrown once none of them writes any more: a retry never overlaps
 * with what is left of this attempt.
 */
export async function loadShards(ctx: LoadContext): Promise<ShardsLoaded> {
  const servers = ctx.target.servers.filter((server) => ctx.target.shards.some((s) => s.server === server.name));
  const loaded = await allTogether(servers.map((server) => (signal: AbortSignal) => loadServer(server, { ...ctx, signal })), ctx.signal);
  const readBacks = loaded.flatMap((l) => (l.readBack ? [l.readBack] : []));
  return { rows: loaded.reduce((sum, l) => sum + l.rows, 0), ...(readBacks.length > 0 ? { readBack: readBacks.reduce(mergeReadBacks) } : {}) };
}
