/**
 * Proof of a Schemaless restore, shard by shard, against what the backups recorded:
 *
 * - `cell-summaries`: each shard's cell count, highest `added_id` and digest of (row_key,
 *   column_name, ref_key, sha256 of body) equal the newest backup's summary of its whole cell
 *   table — so the chain together lost no cell, late commits included (for a point in time: as
 *   restored, before the cells after it were dropped);
 * - `cell-rows`: each cell table's rows, every column byte-exact, equal the chain's dumped rows
 *   (their digests merged); `point-in-time`: no cell created after the time is left;
 * - `buffered-writes`: restored as dumped, digest for digest;
 * - `index-integrity`: every index entry, on every shard, points to a cell, and every indexed cell
 *   has its entry on its index key's shard (index-check.ts), after the restore's repair, whose
 *   counts it reports.
 */
import mysql from 'mysql2/promise';
import type { RestoreContext, RestoreResult, ValidationCheck } from '../../core/driver/types';
import { quoteId } from '../mysql/shared/connection';
import { digestTable } from '../mysql/shared/table-reader';
import type { SchemalessRestoreTarget } from './config';
import { summariseCells, type CellSummary } from './cell-summary';
import type { ShardConnection } from '../mysql/sharded/derived-index';
import { checkIndexes } from './index-check';
import { utcDatetime, type RestorePlan, type TablePlan } from './restore-plan';
import { connectShards } from '../mysql/sharded/target-shards';

const listed = (items: string[], max = 10): string => `${items.slice(0, max).join('; ')}${items.length > max ? `; … ${items.length - max} more` : ''}`;

function check(name: string, problems: string[], ok: string): ValidationCheck {
  return { name, ok: problems.length === 0, detail: problems.length ? listed(problems) : ok };
}

const same = (a: Pick<CellSummary, 'cells' | 'maxAddedId' | 'digest'>, b: Pick<CellSummary, 'cells' | 'maxAddedId' | 'digest'>): boolean =>
  a.cells === b.cells && a.maxAddedId === b.maxAddedId && a.digest === b.digest;

/** Compares tables of `role` with their planned digest, shard by shard. */
async function tablesAsDumped(shards: ShardConnection[], plan: RestorePlan, pick: (t: TablePlan) => boolean): Promise<{ problems: string[]; tables: number }> {
  const problems: string[] = [];
  let tables = 0;
  for (const shard of shards) {
    for (const t of plan.shards[shard.shard].tables.filter((x) => pick(x) && x.digest !== undefined)) {
      tables += 1;
      const found = await digestTable(shard.connection, { database: shard.database, table: t.table });
      if (found.rows !== t.rows || found.digest !== t.digest) problems.push(`shard ${shard.shard} ${shard.database}.${t.table}: ${found.rows} rows, digest ${found.digest}; expected ${t.rows}, ${t.digest}`);
    }
  }
  return { problems, tables };
}

export async function validateShards(ctx: RestoreContext<SchemalessRestoreTarget>, plan: RestorePlan, result: RestoreResult): Promise<ValidationCheck[]> {
  const pointInTime = ctx.target.pointInTime;
  const connected = await connectShards(ctx.target);
  try {
    const { shards } = connected;
    const cellTable = plan.facts.cellTable;
    const checks: ValidationCheck[] = [];
    const summaryProblems: string[] = [];
    if (pointInTime) {
      const beforeTrim = (result.endpoint.beforeTrim ?? []) as unknown as Array<CellSummary & { shard: number; trimmed: number }>;
      for (const shard of plan.shards) {
        const restored = beforeTrim.find((b) => b.shard === shard.shard);
        if (!restored) summaryProblems.push(`shard ${shard.shard}: the restore recorded no summary before the point in time`);
        else if (!same(restored, shard.summary)) summaryProblems.push(`shard ${shard.shard}: restored ${restored.cells} cells up to ${restored.maxAddedId} (${restored.digest}); the backup recorded ${shard.summary.cells} up to ${shard.summary.maxAddedId} (${shard.summary.digest})`);
      }
      checks.push(check('cell-summaries', summaryProblems, `${plan.shards.length} shards restored whole before the point in time`));
      const late: string[] = [];
      let kept = 0;
      for (const shard of shards) {
        const table = `${quoteId(shard.database)}.${quoteId(cellTable)}`;
        const [rows] = await shard.connection.query({ sql: mysql.format(`SELECT COUNT(*), SUM(created_at > ?) FROM ${table}`, [utcDatetime(pointInTime)]), rowsAsArray: true });
        const [count, after] = (rows as unknown[][])[0].map((v) => Number(String(v ?? 0)));
        kept += count;
        const restored = beforeTrim.find((b) => b.shard === shard.shard);
        if (after > 0) late.push(`shard ${shard.shard}: ${after} cells created after ${pointInTime}`);
        if (restored && count !== restored.cells - restored.trimmed) late.push(`shard ${shard.shard}: ${count} cells, expected ${restored.cells - restored.trimmed}`);
      }
      const trimmed = beforeTrim.reduce((n, b) => n + b.trimmed, 0);
      checks.push(check('point-in-time', late, `${kept} cells created at or before ${pointInTime}; ${trimmed} later ones dropped`));
    } else {
      for (const shard of shards) {
        const restored = await summariseCells(shard.connection, { database: shard.database, table: cellTable });
        const recorded = plan.shards[shard.shard].summary;
        if (!same(restored, recorded)) summaryProblems.push(`shard ${shard.shard}: ${restored.cells} cells up to ${restored.maxAddedId} (${restored.digest}); the backup recorded ${recorded.cells} up to ${recorded.maxAddedId} (${recorded.digest})`);
      }
      const cells = plan.shards.reduce((n, s) => n + s.summary.cells, 0);
      checks.push(check('cell-summaries', summaryProblems, `${plan.shards.length} shards, ${cells} cells, each shard's count, highest added_id and digest as recorded`));
      const rows = await tablesAsDumped(shards, plan, (t) => t.role === 'cells');
      checks.push(check('cell-rows', rows.problems, `${rows.tables} cell tables byte-exact`));
      if (plan.facts.bufferedWritesTable) {
        const buffered = await tablesAsDumped(shards, plan, (t) => t.role === 'buffered-writes');
        checks.push(check('buffered-writes', buffered.problems, `${buffered.tables} buffered-writes tables as dumped`));
      }
    }
    if (plan.facts.indexes.length > 0) {
      const results = await checkIndexes(ctx.target, cellTable, plan.facts.indexes, { perServer: ctx.target.parallelism });
      const problems = results.flatMap((r) => r.shards.filter((s) => !s.ok).map((s) => `${r.index} on shard ${s.shard}: ${s.entries} entries, the cells call for ${s.expected} (or different ones)`));
      const entries = results.reduce((n, r) => n + r.shards.reduce((m, s) => m + s.entries, 0), 0);
      const repairs = Object.values((result.endpoint.repairedIndexes ?? {}) as Record<string, { dangling: number; missing: number }>);
      const how = result.endpoint.indexesLoaded ? 'restored as backed up, checked against the cells and repaired where they differ' : 'built from the cells';
      const rebuilt = ` (${how}: ${repairs.reduce((n, r) => n + r.dangling, 0)} dangling entries removed, ${repairs.reduce((n, r) => n + r.missing, 0)} missing added)`;
      checks.push(check('index-integrity', problems, `${results.length} indexes, ${entries} entries${rebuilt}: every entry points to a cell, every indexed cell has its entry`));
    }
    return checks;
  } finally {
    await connected.close();
  }
}
