/**
 * Proof of a Schemaless restore, shard by shard, against what the backups recorded:
 *
 * - `cell-summaries`: each shard's cell count, highest `added_id` and digest of (row_key,
 *   column_name, ref_key, sha256 of body) equal the newest backup's summary of its whole cell
 *   table — so the chain together lost no cell, late commits included (for a point in time: as
 *   restored, before the cells after it were dropped);
 * - `cell-rows`: each cell table's rows, every column byte-exact, equal the chain's dumped rows
 *   (their digests merged); both from one read of each cell table (cell-table-read.ts), the
 *   shards read at once, a few a server; `point-in-time`: no cell created after the time is left;
 * - `buffered-writes`: restored as dumped, digest for digest;
 * - `index-integrity`: every index entry, on every shard, points to a cell, and every indexed cell
 *   has its entry on its index key's shard (index-check.ts), after the restore's repair, whose
 *   counts it reports; an index the restore checked whole as loaded is not read again
 *   (drivers/mysql/sharded/index-validation.ts).
 */
import { format } from 'mysql2/promise';
import { mapLimited } from '../../core/concurrency';
import type { RestoreContext, RestoreResult, ValidationCheck } from '../../core/driver/types';
import { quoteId } from '../mysql/shared/connection';
import { digestTable } from '../mysql/shared/table-reader';
import type { SchemalessRestoreTarget } from './config';
import type { CellSummary } from './cell-summary';
import { readCellTable } from './cell-table-read';
import { cellIndex } from './index-check';
import { indexIntegrity } from '../mysql/sharded/index-validation';
import { recordedIndexes } from '../mysql/sharded/restored-indexes';
import { utcDatetime, type RestorePlan, type TablePlan } from './restore-plan';
import { mapShards, type LaneOptions } from '../mysql/sharded/shard-lanes';
import { connectShards } from '../mysql/sharded/target-shards';
import { checkOf } from '../../core/driver/validation-check';

const same = (a: Pick<CellSummary, 'cells' | 'maxAddedId' | 'digest'>, b: Pick<CellSummary, 'cells' | 'maxAddedId' | 'digest'>): boolean =>
  a.cells === b.cells && a.maxAddedId === b.maxAddedId && a.digest === b.digest;

/** Compares the tables `pick` chooses with their planned digest, the shards at once. */
async function tablesAsDumped(target: SchemalessRestoreTarget, plan: RestorePlan, pick: (t: TablePlan) => boolean, lanes: LaneOptions): Promise<{ problems: string[]; tables: number }> {
  const tables = plan.shards.flatMap((s) => s.tables.filter((t) => pick(t) && t.digest !== undefined).map((t) => ({ shard: s.shard, plan: t })));
  const found = await mapShards(target, tables, (t) => t.shard, (t, shard) => digestTable(shard.connection, { database: shard.database, table: t.plan.table }), lanes);
  const problems = tables.flatMap((t, i) => (found[i].rows === t.plan.rows && found[i].digest === t.plan.digest ? []
    : [`shard ${t.shard} ${t.plan.table}: ${found[i].rows} rows, digest ${found[i].digest}; expected ${t.plan.rows}, ${t.plan.digest}`]));
  return { problems, tables: tables.length };
}

/** `cell-summaries` and `cell-rows` of a whole restore, from one read of each shard's cell table. */
async function cellChecks(target: SchemalessRestoreTarget, plan: RestorePlan, lanes: LaneOptions): Promise<ValidationCheck[]> {
  const reads = await mapShards(target, plan.shards, (s) => s.shard, (_, shard) => readCellTable(shard.connection, { database: shard.database, table: plan.facts.cellTable }), lanes);
  const summaryProblems: string[] = [];
  const rowProblems: string[] = [];
  plan.shards.forEach((shard, i) => {
    const { summary: restored, rows } = reads[i];
    const recorded = shard.summary;
    if (!same(restored, recorded)) summaryProblems.push(`shard ${shard.shard}: ${restored.cells} cells up to ${restored.maxAddedId} (${restored.digest}); the backup recorded ${recorded.cells} up to ${recorded.maxAddedId} (${recorded.digest})`);
    const dumped = shard.tables.find((t) => t.role === 'cells')!;
    if (rows.rows !== dumped.rows || rows.digest !== dumped.digest) rowProblems.push(`shard ${shard.shard} ${dumped.table}: ${rows.rows} rows, digest ${rows.digest}; expected ${dumped.rows}, ${dumped.digest}`);
  });
  const cells = plan.shards.reduce((n, s) => n + s.summary.cells, 0);
  return [
    checkOf('cell-summaries', summaryProblems, `${plan.shards.length} shards, ${cells} cells, each shard's count, highest added_id and digest as recorded`),
    checkOf('cell-rows', rowProblems, `${plan.shards.length} cell tables byte-exact`),
  ];
}

/** `cell-summaries` as the restore recorded them before the point in time, and `point-in-time`: only the cells created by then are left. */
async function pointInTimeChecks(ctx: RestoreContext<SchemalessRestoreTarget>, plan: RestorePlan, result: RestoreResult, pointInTime: string): Promise<ValidationCheck[]> {
  const summaryProblems: string[] = [];
  const beforeTrim = (result.endpoint.beforeTrim ?? []) as unknown as Array<CellSummary & { shard: number; trimmed: number }>;
  for (const shard of plan.shards) {
    const restored = beforeTrim.find((b) => b.shard === shard.shard);
    if (!restored) summaryProblems.push(`shard ${shard.shard}: the restore recorded no summary before the point in time`);
    else if (!same(restored, shard.summary)) summaryProblems.push(`shard ${shard.shard}: restored ${restored.cells} cells up to ${restored.maxAddedId} (${restored.digest}); the backup recorded ${shard.summary.cells} up to ${shard.summary.maxAddedId} (${shard.summary.digest})`);
  }
  const late: string[] = [];
  let kept = 0;
  const connected = await connectShards(ctx.target);
  try {
    for (const shard of connected.shards) {
      const table = `${quoteId(shard.database)}.${quoteId(plan.facts.cellTable)}`;
      const [rows] = await shard.connection.query({ sql: format(`SELECT COUNT(*), SUM(created_at > ?) FROM ${table}`, [utcDatetime(pointInTime)]), rowsAsArray: true });
      const [count, after] = (rows as unknown[][])[0].map((v) => Number(String(v ?? 0)));
      kept += count;
      const restored = beforeTrim.find((b) => b.shard === shard.shard);
      if (after > 0) late.push(`shard ${shard.shard}: ${after} cells created after ${pointInTime}`);
      if (restored && count !== restored.cells - restored.trimmed) late.push(`shard ${shard.shard}: ${count} cells, expected ${restored.cells - restored.trimmed}`);
    }
  } finally {
    await connected.close();
  }
  const trimmed = beforeTrim.reduce((n, b) => n + b.trimmed, 0);
  return [
    checkOf('cell-summaries', summaryProblems, `${plan.shards.length} shards restored whole before the point in time`),
    checkOf('point-in-time', late, `${kept} cells created at or before ${pointInTime}; ${trimmed} later ones dropped`),
  ];
}

/**
 * Every check of a restore, at once: the cell reads keep Node's core busy (hashing bodies), the
 * index check the server's (reading JSON), so they overlap rather than add up.
 */
export async function validateShards(ctx: RestoreContext<SchemalessRestoreTarget>, plan: RestorePlan, result: RestoreResult): Promise<ValidationCheck[]> {
  const lanes = { perServer: ctx.target.parallelism };
  const pointInTime = ctx.target.pointInTime;
  const parts: Array<() => Promise<ValidationCheck[]>> = [
    () => (pointInTime ? pointInTimeChecks(ctx, plan, result, pointInTime) : cellChecks(ctx.target, plan, lanes)),
    async () => {
      if (pointInTime || !plan.facts.bufferedWritesTable) return [];
      const buffered = await tablesAsDumped(ctx.target, plan, (t) => t.role === 'buffered-writes', lanes);
      return [checkOf('buffered-writes', buffered.problems, `${buffered.tables} buffered-writes tables as dumped`)];
    },
    async () => (plan.facts.indexes.length === 0 ? [] : [await indexIntegrity(ctx.target, plan.facts.indexes.map((index) => cellIndex(index, plan.facts.cellTable)),
      recordedIndexes(result.endpoint), lanes, { shard: 'shard', row: 'cell' })]),
  ];
  return (await mapLimited(parts, parts.length, (part) => part())).flat();
}
