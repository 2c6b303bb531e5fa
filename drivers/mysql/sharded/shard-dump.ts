/**
 * Dumping the tables of a server's shards (Schemaless shards, Docstore partitions) inside one read
 * view: each table listed on the server, its DDL captured (`SHOW CREATE TABLE`, no database name,
 * so it applies in any target database), and all of them dumped by the MySQL driver's dump planner
 * over every connection of the view at once (compressed LOAD DATA chunks, digests).
 */
import type { Connection } from 'mysql2/promise';
import type { ArtifactSink } from '../../../core/driver/artifact-sink';
import type { ArtifactRef } from '../../../core/driver/types';
import { PermanentError } from '../../../core/errors';
import type { Logger } from '../../../core/logger';
import { dumpTables, listTables, type DumpTable } from '../logical/dump-planner';
import { quoteId } from '../shared/connection';
import type { TableFacts } from '../shared/layout';
import type { TableSource } from '../logical/dump-pipeline';
import { tableKey } from '../shared/table-columns';

/** A table of a shard to dump, and the part it plays there (the engine's word: cells, index…). */
export interface ShardTable<R extends string> {
  table: string;
  role: R;
  /** Only the rows matching this SQL condition (an incremental's); every row when absent. */
  where?: string;
  /** Rows the filter is known to select (so a small delta of a big table is read in one pass). */
  estimatedRows?: number;
  /** A second digest of the rows dumped (dump-pipeline.ts `TableSource.projection`). */
  projection?: TableSource['projection'];
}

/** What the dump records of a table: the MySQL driver's facts, its role and its DDL (and its rows' projected digest, with a projection). */
export type DumpedShardTable<R extends string> = TableFacts & { role: R; ddl: string; projected?: string };

/** The estimated rows and bytes of the part of `table` a filter selects, `rows` of them when known. */
function filteredEstimates(table: DumpTable, rows: number | undefined): Pick<DumpTable, 'estimatedRows' | 'estimatedBytes'> {
  if (rows === undefined || table.estimatedRows <= 0) return { estimatedRows: rows ?? table.estimatedRows, estimatedBytes: table.estimatedBytes };
  return { estimatedRows: rows, estimatedBytes: Math.ceil(table.estimatedBytes * Math.min(1, rows / table.estimatedRows)) };
}

/** The DDL of a table, as the source server writes it (no database name in it). */
export async function createStatement(control: Connection, database: string, table: string): Promise<string> {
  const [rows] = await control.query({ sql: `SHOW CREATE TABLE ${quoteId(database)}.${quoteId(table)}`, rowsAsArray: true });
  return String((rows as unknown[][])[0][1]);
}

/**
 * Dumps `shards`' tables through `workers` (each inside the read view) into `sink`; `control` (a
 * text connection, outside the view) lists the tables and reads their DDL. Resolves to each shard's
 * dumped tables, in the order asked, and the artifacts written.
 * @throws PermanentError `<engine>_TABLE_NOT_FOUND` (engine upper-cased) naming a table the server lacks.
 */
export async function dumpShardTables<R extends string>(
  control: Connection,
  workers: Connection[],
  shards: ReadonlyArray<{ number: number; database: string; tables: ReadonlyArray<ShardTable<R>> }>,
  options: { sink: ArtifactSink; chunkRows: number; logger: Logger; signal?: AbortSignal; engine: string; server: string },
): Promise<{ shards: Map<number, Array<DumpedShardTable<R>>>; artifacts: ArtifactRef[] }> {
  const listed = new Map((await listTables(control, shards.map((s) => s.database))).map((t) => [tableKey(t.database, t.table), t]));
  const planned: Array<{ number: number; wanted: ShardTable<R>; dump: DumpTable; ddl: string }> = [];
  for (const shard of shards) {
    for (const wanted of shard.tables) {
      const found = listed.get(tableKey(shard.database, wanted.table));
      if (!found) throw new PermanentError(`server ${options.server} has no table ${shard.database}.${wanted.table}`, { code: `${options.engine.toUpperCase()}_TABLE_NOT_FOUND`, engine: options.engine });
      const dump: DumpTable = {
        ...found,
        ...(wanted.where === undefined ? {} : { where: wanted.where, ...filteredEstimates(found, wanted.estimatedRows) }),
        ...(wanted.projection ? { projection: wanted.projection } : {}),
      };
      planned.push({ number: shard.number, wanted, dump, ddl: await createStatement(control, shard.database, wanted.table) });
    }
  }
  const dumped = await dumpTables(workers, planned.map((p) => p.dump), options);
  const result = new Map<number, Array<DumpedShardTable<R>>>(shards.map((s) => [s.number, []]));
  for (const p of planned) {
    const d = dumped.find((x) => x.table === p.dump)!;
    result.get(p.number)!.push({
      database: p.dump.database, table: p.dump.table, engine: p.dump.engine, rows: d.rows, digest: d.digest, chunks: d.chunks.map((c) => c.name), role: p.wanted.role, ddl: p.ddl,
      ...(d.projected !== undefined ? { projected: d.projected } : {}),
    });
  }
  return { shards: result, artifacts: dumped.flatMap((d) => d.chunks) };
}
