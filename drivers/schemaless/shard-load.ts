/**
 * Loading a restore plan (restore-plan.ts) into the target's shard databases: per server, each of
 * its shards' tables created from the source's DDL, then every table's chunks — the whole chain's,
 * in order — loaded by the MySQL driver's loader (chunk-load.ts: one LOAD DATA per table on
 * MariaDB ≥ 10.6, byte-exact or it fails), the servers at once.
 */
import type { Connection } from 'mysql2/promise';
import type { Logger } from '../../core/logger';
import { loadModeFor, loadTables, type TableLoad } from '../mysql/logical/chunk-load';
import { quoteId } from '../mysql/shared/connection';
import { tableColumns } from '../mysql/shared/table-columns';
import { classifyTargetError, openSchemaConnection } from '../mysql/shared/target-connection';
import { detectServerVersion } from '../mysql/shared/version';
import type { SchemalessRestoreTarget } from './config';
import type { RestorePlan } from './restore-plan';
import type { TargetServer } from './target-shards';

export interface LoadContext {
  target: SchemalessRestoreTarget;
  plan: RestorePlan;
  /** The local file of each downloaded artifact, by object key. */
  files: ReadonlyMap<string, string>;
  logger: Logger;
  signal?: AbortSignal;
}

/** Creates and loads every shard of `server`; resolves to the rows loaded. */
async function loadServer(server: TargetServer, ctx: LoadContext): Promise<number> {
  const shards = ctx.target.shards.filter((s) => s.server === server.name);
  const control = await openSchemaConnection(server);
  const loads: TableLoad[] = [];
  let columns: Awaited<ReturnType<typeof tableColumns>>;
  let version: Awaited<ReturnType<typeof detectServerVersion>>;
  try {
    version = await detectServerVersion(control);
    for (const place of shards) {
      const plan = ctx.plan.shards.find((s) => s.shard === place.shard)!;
      const database = quoteId(place.database);
      await run(control, `CREATE DATABASE IF NOT EXISTS ${database} CHARACTER SET utf8mb4`, `creating database ${place.database} on ${server.name}`);
      await run(control, `USE ${database}`, `using ${place.database} on ${server.name}`);
      for (const t of plan.tables) {
        // prepareTarget refused tables holding rows (unless forced): what is dropped here is empty or replaced on purpose.
        await run(control, `DROP TABLE IF EXISTS ${quoteId(t.table)}`, `replacing ${place.database}.${t.table} on ${server.name}`);
        await run(control, t.ddl, `creating ${place.database}.${t.table} on ${server.name}`);
        loads.push({ database: place.database, table: t.table, engine: t.engine, rows: t.rows, files: t.chunks.map((c) => ctx.files.get(c.key)!) });
      }
    }
    columns = await tableColumns(control, shards.map((s) => s.database));
  } finally {
    await control.end().catch(() => undefined);
  }
  const loaded = await loadTables(server, loads, columns, {
    mode: loadModeFor(version),
    encoding: ctx.plan.facts.valueEncoding,
    parallelism: ctx.target.parallelism,
    logger: ctx.logger,
    signal: ctx.signal,
  });
  return loaded.rows;
}

async function run(connection: Connection, sql: string, doing: string): Promise<void> {
  try {
    await connection.query(sql);
  } catch (error) {
    throw classifyTargetError(error, doing);
  }
}

/** Loads the plan into every target server at once; resolves to the rows loaded. */
export async function loadShards(ctx: LoadContext): Promise<number> {
  const servers = ctx.target.servers.filter((server) => ctx.target.shards.some((s) => s.server === server.name));
  const rows = await Promise.all(servers.map((server) => loadServer(server, ctx)));
  return rows.reduce((sum, n) => sum + n, 0);
}
