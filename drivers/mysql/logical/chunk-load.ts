/**
 * Loads the dump's chunk files into the target through `parallelism` connections, streaming the
 * inflated files (chunk-codec.ts) through `LOAD DATA LOCAL INFILE` (mysql2's
 * `infileStreamFactory`), so memory stays flat whatever the table size. Every chunk is its own
 * statement; chunks of different tables are interleaved, largest tables first, so several
 * connections load one big table at once. MyISAM/Aria tables with several chunks have their
 * non-unique indexes disabled during the load and rebuilt once at the end.
 *
 * Not one statement per table: into an empty InnoDB table with unique and foreign key checks off,
 * MariaDB ≥ 10.6 takes its bulk-insert path (MDEV-24621, indexes built by sorting), but measured
 * on MariaDB 10.11 it costs more server CPU than chunk statements on every shape tried, and runs
 * on one connection: 256 000 narrow rows with a secondary key 4.5–5.7 s of server CPU against
 * 2.7–3.6 s (two connections, 1.6–2.0 s wall against 2.3–3.0 s); 22 000 rows of 11 KB BLOBs
 * 12.0 s against 4.8 s (2.9 s wall against 6.3 s); a table twice the buffer pool 18.3 s against
 * 14.6 s.
 *
 * Columns are named explicitly, in the order the dump read them (table-columns.ts: every column by
 * ordinal position, invisible ones included), each stored the way column-codec.ts says; generated
 * columns get a throw-away variable, as the server computes them.
 * A load with warnings (a value the server changed or skipped) fails the restore: it must be
 * byte-exact. The one warning storing a value exactly gives (an ENUM's error value, index 0) is
 * expected (column-codec.ts); the digests then prove the value.
 */
import { Readable } from 'node:stream';
import mysql, { type Connection, type ResultSetHeader } from 'mysql2/promise';
import { PermanentError, type ClassifiedError } from '../../../core/errors';
import type { Logger } from '../../../core/logger';
import { chunkFileLines } from '../shared/chunk-codec';
import { quoteId } from '../shared/connection';
import { ENGINE } from '../shared/layout';
import { LOAD_DATA_FORMAT } from '../shared/row-format';
import { isExpectedLoadWarning, loadColumns, VALUE_ENCODING, type ColumnInfo, type ValueEncoding } from '../shared/column-codec';
import { tableKey } from '../shared/table-columns';
import { classifyTargetError, openLoadConnection, type TargetSettings } from '../shared/target-connection';

/** One table to load: its target name and its chunk files, in order. */
export interface TableLoad {
  database: string;
  table: string;
  engine: string;
  /** Rows the manifest says the table holds. */
  rows: number;
  files: string[];
}

export interface LoadOptions {
  /** How the chunk files encode values (the backup's facts; default: this version's). */
  encoding?: ValueEncoding;
  parallelism: number;
  logger: Logger;
  signal?: AbortSignal;
  /** Called after each statement with the totals so far. */
  onChunk?: (done: { chunks: number; rows: number }) => void;
}

export interface LoadResult {
  chunks: number;
  rows: number;
}

/** How a table's rows are loaded: its target name, and the columns the chunk files hold, in order. */
export interface LoadInto {
  database: string;
  table: string;
  columns: ColumnInfo[];
  encoding: ValueEncoding;
}

/** The rows of chunk files, inflated (each by the codec its name says), one file after the other (each file ends with a full line). */
function chunksStream(files: string[]): Readable {
  return Readable.from((async function* rows() {
    for (const file of files) yield* chunkFileLines(file);
  })(), { objectMode: false });
}

/** The warnings of the last statement (up to the session's `max_error_count`). */
async function showWarnings(connection: Connection): Promise<Array<{ level: string; code: number; message: string }>> {
  const [rows] = await connection.query('SHOW WARNINGS') as [Array<{ Level: unknown; Code: unknown; Message: unknown }>, unknown];
  const text = (value: unknown) => (Buffer.isBuffer(value) ? value.toString('utf8') : String(value));
  return rows.map((w) => ({ level: text(w.Level), code: Number(text(w.Code)), message: text(w.Message) }));
}

/**
 * Loads chunk files, in one statement, into `into` on `connection` (a load session), returning the
 * rows added. @throws PermanentError `MYSQL_LOAD_WARNINGS` when the server changed or skipped values.
 */
export async function loadFiles(connection: Connection, files: string[], into: LoadInto): Promise<number> {
  const name = files.length === 1 ? files[0] : `${files[0]} (+${files.length - 1} more)`;
  const target = `${quoteId(into.database)}.${quoteId(into.table)}`;
  const sql = `LOAD DATA LOCAL INFILE ${mysql.escape(name)} INTO TABLE ${target} ${LOAD_DATA_FORMAT} ${loadColumns(into.columns, into.encoding)}`;
  const [result] = await connection.query({ sql, infileStreamFactory: () => chunksStream(files) }) as [ResultSetHeader, unknown];
  if (result.warningStatus > 0) {
    const warnings = await showWarnings(connection);
    const unexpected = warnings.filter((w) => !isExpectedLoadWarning(w, into.columns, into.encoding));
    if (unexpected.length > 0 || warnings.length === 0) {
      const text = unexpected.slice(0, 3).map((w) => `${w.level} ${w.code}: ${w.message}`).join('; ');
      throw new PermanentError(
        `loading ${into.database}.${into.table} from ${name} changed or skipped values (${result.warningStatus} warnings: ${text})`,
        { code: 'MYSQL_LOAD_WARNINGS', engine: ENGINE },
      );
    }
  }
  return result.affectedRows;
}

/** MyISAM-like engines whose non-unique indexes can be disabled during a bulk load. */
const DISABLE_KEYS_ENGINES = new Set(['myisam', 'aria']);

interface Job {
  load: TableLoad;
  /** Chunk indexes this job loads, in one statement. */
  chunks: number[];
}

/** Statements in load order: one per chunk, round-robin over the tables, largest table first. */
function schedule(tables: TableLoad[]): Job[] {
  const ordered = tables.filter((t) => t.files.length > 0).sort((a, b) => b.rows - a.rows || b.files.length - a.files.length);
  const jobs: Job[] = [];
  const most = Math.max(0, ...ordered.map((t) => t.files.length));
  for (let index = 0; index < most; index += 1) {
    for (const load of ordered) if (index < load.files.length) jobs.push({ load, chunks: [index] });
  }
  return jobs;
}

/**
 * Loads every chunk of `tables` through `options.parallelism` connections.
 * @throws PermanentError `MYSQL_LOAD_ROWS` when a table received a different number of rows than
 *   the manifest lists; the first load error otherwise (classified: transient when a retry can help).
 */
export async function loadTables(
  settings: TargetSettings,
  tables: TableLoad[],
  columns: Map<string, ColumnInfo[]>,
  options: LoadOptions,
): Promise<LoadResult> {
  const jobs = schedule(tables);
  const remaining = new Map(tables.map((t) => [t, t.files.length]));
  const loaded = new Map(tables.map((t) => [t, 0]));
  const disableKeys = new Set(tables.filter((t) => t.files.length > 1 && DISABLE_KEYS_ENGINES.has(t.engine.toLowerCase())));
  const connections: Connection[] = [];
  let next = 0;
  let failure: ClassifiedError | undefined;
  const done = { chunks: 0, rows: 0 };

  const intoOf = (load: TableLoad): LoadInto => {
    const list = columns.get(tableKey(load.database, load.table));
    if (!list) throw new PermanentError(`table ${load.database}.${load.table} does not exist on the target after applying its schema`, { code: 'SCHEMA_INVALID', engine: ENGINE });
    return { database: load.database, table: load.table, columns: list, encoding: options.encoding ?? VALUE_ENCODING };
  };
  const keys = async (connection: Connection, load: TableLoad, action: 'DISABLE' | 'ENABLE') => {
    await connection.query(`ALTER TABLE ${quoteId(load.database)}.${quoteId(load.table)} ${action} KEYS`);
  };

  const worker = async (connection: Connection) => {
    while (failure === undefined && next < jobs.length) {
      if (options.signal?.aborted) {
        failure ??= new PermanentError('restore aborted', { code: 'ABORTED', engine: ENGINE });
        break;
      }
      const { load, chunks } = jobs[next++];
      const what = chunks.length === load.files.length
        ? `loading ${load.database}.${load.table}`
        : `loading ${load.database}.${load.table} chunk ${chunks[0] + 1}/${load.files.length}`;
      try {
        const rows = await loadFiles(connection, chunks.map((i) => load.files[i]), intoOf(load));
        loaded.set(load, loaded.get(load)! + rows);
        done.chunks += chunks.length;
        done.rows += rows;
        options.onChunk?.({ ...done });
        const left = remaining.get(load)! - chunks.length;
        remaining.set(load, left);
        if (left === 0 && disableKeys.has(load)) await keys(connection, load, 'ENABLE');
      } catch (error) {
        failure ??= classifyTargetError(error, what, 'MYSQL_LOAD_FAILED');
      }
    }
  };

  try {
    const count = Math.max(1, Math.min(options.parallelism, jobs.length));
    for (let i = 0; i < count; i += 1) connections.push(await openLoadConnection(settings));
    for (const load of disableKeys) await keys(connections[0], load, 'DISABLE');
    await Promise.all(connections.map(worker));
  } catch (error) {
    failure ??= classifyTargetError(error, 'loading table data', 'MYSQL_LOAD_FAILED');
  } finally {
    await Promise.all(connections.map((c) => c.end().catch(() => undefined)));
  }
  if (failure) throw failure;

  const wrong = tables.filter((t) => loaded.get(t) !== t.rows);
  if (wrong.length > 0) {
    throw new PermanentError(
      `row counts after loading differ from the manifest: ${wrong.slice(0, 10).map((t) => `${t.database}.${t.table} ${loaded.get(t)} (expected ${t.rows})`).join(', ')}`,
      { code: 'MYSQL_LOAD_ROWS', engine: ENGINE },
    );
  }
  options.logger.debug('mysql restore: chunks loaded', { ...done, tables: tables.length });
  return done;
}
