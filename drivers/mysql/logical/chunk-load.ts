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
 * Given what each table should read back as (`TableLoad.expected`), once a table's last chunk is
 * loaded — or a key range's, for a table the dump cut by key — a connection of its own reads it
 * back and digests it ({@link ReadBack}), while the loading connections go on loading (reading back
 * on the connection that loaded kept it from loading meanwhile: the 1 000-table restore took 0.3 s
 * more); a table may also be created while others load (`ready`).
 * A load with warnings (a value the server changed or skipped) fails the restore: it must be
 * byte-exact. The warnings that say nothing of the values loaded (an ENUM's error value, index 0;
 * the server computing a generated column as the source's did) are expected (column-codec.ts);
 * the digests then prove the value.
 *
 * A chunk that meets a lock conflict (a deadlock or lock wait timeout, as two connections loading
 * one table can) is loaded again on its own connection, when none of its rows can be in: InnoDB
 * rolled the statement back whole (the session runs with autocommit), and MyISAM and Aria only
 * wait for the table's lock before writing anything. Other engines (MyRocks, say, which may commit
 * part of a statement) are not loaded again.
 */
import { Readable } from 'node:stream';
import { z } from 'zod';
import { escape as escapeLiteral, type Connection, type ResultSetHeader } from 'mysql2/promise';
import { PermanentError, stopIfAborted, TransientError, type ClassifiedError } from '../../../core/errors';
import type { Logger } from '../../../core/logger';
import { withRetry } from '../../../core/resilience/retry';
import { chunkFileLines } from '../shared/chunk-codec';
import { quoteId } from '../shared/connection';
import { ENGINE, type KeyRangeFacts, type TableFacts } from '../shared/layout';
import { LOAD_DATA_FORMAT } from '../shared/row-format';
import { isExpectedLoadWarning, loadColumns, VALUE_ENCODING, type ColumnInfo, type ValueEncoding } from '../shared/column-codec';
import { digestQuery, selectRows } from '../shared/table-reader';
import { rangeConditions } from './dump-pipeline';
import { tableColumns, tableKey } from '../shared/table-columns';
import { storedTableName } from '../shared/exact-names';
import { classifyTargetError, openLoadConnection, openReadConnection, type TargetSettings } from '../shared/target-connection';
import { ER_LOCK_DEADLOCK, ER_LOCK_WAIT_TIMEOUT, errnoOf } from '../shared/errors';
import { catalogText } from '../shared/catalog-text';

/** One table to load: its target name and its chunk files, in order. */
export interface TableLoad {
  database: string;
  table: string;
  engine: string;
  /** Rows the manifest says the table holds. */
  rows: number;
  files: string[];
  /** What the table reads back as once loaded (the manifest's digest, and its key ranges'): given, the loader proves it as it loads. */
  expected?: ExpectedRows;
}

/** The digest of a table's rows, and of each key range when the dump cut it by key (layout.ts). */
export interface ExpectedRows {
  digest: string;
  splitKey?: string;
  ranges?: KeyRangeFacts[];
}

/** What a table the dump recorded reads back as once loaded: its digest, and its key ranges'. */
export function expectedRowsOf(t: Pick<TableFacts, 'digest' | 'splitKey' | 'ranges'>): ExpectedRows {
  return { digest: t.digest, splitKey: t.splitKey, ranges: t.ranges };
}

/**
 * What the loader read back as it loaded: every table given {@link TableLoad.expected}, read from
 * the server right after it was loaded — a table cut by key range by range, each as soon as its
 * last chunk is in — its rows counted and digested as the restore validation does, while the rows
 * are still in the buffer pool and while the other connections load. `differ` names what did not
 * match (at most {@link DIFFER_LISTED}; `differCount` counts all).
 */
export interface ReadBack {
  tables: number;
  rows: number;
  differ: string[];
  differCount: number;
  /** Of `differCount`, those whose row count differs. */
  countsDiffer: number;
}

const DIFFER_LISTED = 20;

const readBackSchema = z.object({ tables: z.number(), rows: z.number(), differ: z.array(z.string()), differCount: z.number(), countsDiffer: z.number() });

/** What a load read back as it went, as a restore's result records it (its endpoint's `readBack`), when it did. */
export function readBackOf(recorded: unknown): ReadBack | undefined {
  const parsed = readBackSchema.safeParse(recorded);
  return parsed.success ? parsed.data : undefined;
}

/** The differences a read-back names, then `… and N more` when it counted more. */
export function differences(readBack: ReadBack): string[] {
  return readBack.differCount > readBack.differ.length ? [...readBack.differ, `… and ${readBack.differCount - readBack.differ.length} more`] : readBack.differ;
}

/** What two loads read back, as one (the differences named stay at most {@link DIFFER_LISTED}). */
export function mergeReadBacks(a: ReadBack, b: ReadBack): ReadBack {
  return {
    tables: a.tables + b.tables,
    rows: a.rows + b.rows,
    differ: [...a.differ, ...b.differ].slice(0, DIFFER_LISTED),
    differCount: a.differCount + b.differCount,
    countsDiffer: a.countsDiffer + b.countsDiffer,
  };
}

export interface LoadOptions {
  /** How the chunk files encode values (the backup's facts; default: this version's). */
  encoding?: ValueEncoding;
  parallelism: number;
  logger: Logger;
  signal?: AbortSignal;
  /** Called after each statement with the totals so far. */
  onChunk?: (done: { chunks: number; rows: number }) => void;
  /** Resolves once `load`'s table exists on the target (it may be created while others load); without it, every table exists. */
  ready?: (load: TableLoad) => Promise<void>;
  /** When the work began, for the time the loader logs at its end (since then). */
  started?: number;
  /** The local file of a chunk {@link TableLoad.files} names, once it is there (a download still running); without it, the names are the files. */
  localFile?: (chunk: string) => Promise<string>;
}

export interface LoadResult {
  chunks: number;
  rows: number;
  /** Present when some table had {@link TableLoad.expected}. */
  readBack?: ReadBack;
}

/** How a table's rows are loaded: its target name, and the columns the chunk files hold, in order. */
export interface LoadInto {
  database: string;
  table: string;
  columns: ColumnInfo[];
  encoding: ValueEncoding;
}

/**
 * The target's columns of each table `loads` names, asked of the target once its tables exist,
 * keyed as the loads name them: a server that stores names in lower case lists them so.
 */
export async function columnsOfLoads(connection: Connection, loads: ReadonlyArray<Pick<TableLoad, 'database' | 'table'>>): Promise<Map<string, ColumnInfo[]>> {
  const stored = await storedTableName(connection);
  const listed = await tableColumns(connection, [...new Set(loads.map((l) => stored(l.database)))]);
  return new Map(loads.flatMap((l) => {
    const found = listed.get(tableKey(stored(l.database), stored(l.table)));
    return found ? [[tableKey(l.database, l.table), found] as const] : [];
  }));
}

/** The rows of chunk files, inflated (each by the codec its name says), one file after the other (each file ends with a full line). */
function chunksStream(files: string[]): Readable {
  return Readable.from((async function* pieces() {
    for (const file of files) {
      for await (const lines of chunkFileLines(file)) {
        for (let at = 0; at < lines.length; at += INFILE_PIECE_BYTES) yield lines.subarray(at, at + INFILE_PIECE_BYTES);
      }
    }
  })(), { objectMode: false });
}

/**
 * The most bytes of a chunk's lines handed to mysql2 at once, each sent as one packet of the
 * LOAD DATA LOCAL file (a frame read whole inflates to up to 16 MiB): mysql2 sends a payload of
 * 16 MB or more as packets out of order (the load failed with rows of about 16 MB), and a server
 * reads each packet whole, within its max_allowed_packet.
 */
const INFILE_PIECE_BYTES = 1 << 20;

/** The warnings of the last statement (up to the session's `max_error_count`). */
async function showWarnings(connection: Connection): Promise<Array<{ level: string; code: number; message: string }>> {
  const [rows] = await connection.query('SHOW WARNINGS') as [Array<{ Level: unknown; Code: unknown; Message: unknown }>, unknown];
  return rows.map((w) => ({ level: catalogText(w.Level), code: Number(catalogText(w.Code)), message: catalogText(w.Message) }));
}

/**
 * Loads chunk files, in one statement, into `into` on `connection` (a load session), returning the
 * rows added. @throws PermanentError `MYSQL_LOAD_WARNINGS` when the server changed or skipped values.
 */
export async function loadFiles(connection: Connection, files: string[], into: LoadInto): Promise<number> {
  const name = files.length === 1 ? files[0] : `${files[0]} (+${files.length - 1} more)`;
  const target = `${quoteId(into.database)}.${quoteId(into.table)}`;
  const sql = `LOAD DATA LOCAL INFILE ${escapeLiteral(name)} INTO TABLE ${target} ${LOAD_DATA_FORMAT} ${loadColumns(into.columns, into.encoding)}`;
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

/** Times a chunk that met a lock conflict is loaded again before the restore step fails (transient, for the state machine's retry). */
const LOCK_CONFLICT_RETRIES = 5;

/** Engines a chunk that met a lock conflict left without any of its rows (see the file's comment). */
const RELOADABLE_ENGINES = new Set(['innodb', 'myisam', 'aria']);

/** A deadlock or lock wait timeout. */
const isLockConflict = (error: unknown): boolean => [ER_LOCK_DEADLOCK, ER_LOCK_WAIT_TIMEOUT].includes(errnoOf((error as { cause?: unknown }).cause) as number);

/** {@link loadFiles}, run again while it meets a lock conflict with another load, where the engine left none of its rows in. */
async function loadFilesRetried(connection: Connection, files: string[], into: LoadInto, load: TableLoad, what: string, options: LoadOptions): Promise<number> {
  let attempts = 0;
  try {
    return await withRetry(() => {
      attempts += 1;
      stopIfAborted(options.signal, 'restore', ENGINE);
      return loadFiles(connection, files, into);
    }, {
      maxAttempts: RELOADABLE_ENGINES.has(load.engine.toLowerCase()) ? LOCK_CONFLICT_RETRIES : 0,
      initialDelayMs: 100, maxDelayMs: 2_000, mapError: (error) => classifyTargetError(error, what, 'MYSQL_LOAD_FAILED'), engine: ENGINE,
      retryWhen: isLockConflict, signal: options.signal,
      onRetry: ({ attempt, error }) => options.logger.warn(`mysql restore: ${what} met a lock conflict and was rolled back; loading it again`, { attempt, error: error.message }),
    });
  } catch (error) {
    if (attempts > 1 && isLockConflict(error)) {
      throw new TransientError(`${(error as Error).message} (loaded ${attempts} times, each rolled back by a lock conflict)`, { code: (error as TransientError).code, engine: ENGINE, cause: error });
    }
    throw error;
  }
}

/** MyISAM-like engines whose non-unique indexes can be disabled during a bulk load. */
const DISABLE_KEYS_ENGINES = new Set(['myisam', 'aria']);

interface Job {
  load: TableLoad;
  /** Chunk indexes this job loads, in one statement. */
  chunks: number[];
}

/** A part of a table read back once its chunks are loaded: a key range, or the whole table. */
interface ReadUnit {
  load: TableLoad;
  /** `key >= from AND key < to`, either open; the whole table without it. */
  range?: { key: string; from?: string; to?: string };
  rows: number;
  digest: string;
  /** Chunks of it still to load. */
  left: number;
}

/** The read-back unit of each chunk of `load` (by chunk index): its key ranges when they account for its chunks, else the whole table. */
function readUnits(load: TableLoad): ReadUnit[] {
  const { expected } = load;
  if (!expected) return [];
  const ranges = expected.ranges ?? [];
  const key = expected.splitKey;
  if (key !== undefined && ranges.length > 1 && ranges.reduce((sum, r) => sum + r.chunks, 0) === load.files.length) {
    return ranges.flatMap((r) => {
      const unit: ReadUnit = { load, range: { key, from: r.from, to: r.to }, rows: r.rows, digest: r.digest, left: r.chunks };
      return Array.from({ length: r.chunks }, () => unit);
    });
  }
  const whole: ReadUnit = { load, rows: load.rows, digest: expected.digest, left: load.files.length };
  return load.files.map(() => whole);
}

/** The query reading `unit` back, its columns as the dump read them. */
function readBackQuery(unit: ReadUnit, columns: ColumnInfo[]): string {
  const { load, range } = unit;
  return selectRows(load, columns, range ? rangeConditions(range.key, range) : []);
}

const describeUnit = (unit: ReadUnit): string => {
  const name = `${unit.load.database}.${unit.load.table}`;
  return unit.range ? `${name} key range [${unit.range.from ?? '…'}, ${unit.range.to ?? '…'})` : name;
};

/** The chunks of `tables` in the order the loader takes them (so a download can bring them in that order). */
export function loadOrder(tables: TableLoad[]): string[] {
  return schedule(tables).flatMap((job) => job.chunks.map((i) => job.load.files[i]));
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
 * The connection that reads tables back while others load: with autocommit on whatever the
 * server's default (each read-back then sees what is loaded by then; in one transaction, a table
 * created after its first read would be refused as changed), its idle timeout lifted (it waits
 * between read-backs while a big table loads, maybe for hours). Undefined, with a warning, when the
 * server lets no more be opened (`max_user_connections`, say): the loading connections read back then.
 */
async function openReader(settings: TargetSettings, logger: Logger): Promise<Connection | undefined> {
  let connection: Connection | undefined;
  try {
    connection = await openReadConnection(settings);
    await connection.query('SET SESSION autocommit = 1, wait_timeout = 31536000');
    return connection;
  } catch (error) {
    await connection?.end().catch(() => undefined);
    logger.warn('mysql restore: no connection of its own to read tables back on; each loading connection reads back what it loaded', { error: (error as Error).message });
    return undefined;
  }
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
  const units = new Map(tables.map((t) => [t, readUnits(t)]));
  const checked = tables.filter((t) => t.expected !== undefined);
  const readBack: ReadBack = { tables: 0, rows: 0, differ: [], differCount: 0, countsDiffer: 0 };
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
  const disabling = new Map<TableLoad, Promise<void>>();
  /** Disables the table's non-unique indexes (once, before its first chunk) when it has them rebuilt at the end. */
  const keysOff = (connection: Connection, load: TableLoad): Promise<void> | undefined => {
    if (!disableKeys.has(load)) return undefined;
    let disabled = disabling.get(load);
    if (!disabled) disabling.set(load, disabled = keys(connection, load, 'DISABLE'));
    return disabled;
  };
  const readUnit = async (connection: Connection, unit: ReadUnit) => {
    let found: { rows: number; digest: string };
    try {
      found = await digestQuery(connection, readBackQuery(unit, intoOf(unit.load).columns));
    } catch (error) {
      throw classifyTargetError(error, `reading back ${describeUnit(unit)} after loading it`, 'MYSQL_READ_BACK_FAILED');
    }
    readBack.rows += found.rows;
    if (found.rows !== unit.rows || found.digest !== unit.digest) {
      readBack.differCount += 1;
      if (found.rows !== unit.rows) readBack.countsDiffer += 1;
      if (readBack.differ.length < DIFFER_LISTED) {
        readBack.differ.push(found.rows !== unit.rows ? `${describeUnit(unit)}: ${found.rows} rows, expected ${unit.rows}` : `${describeUnit(unit)}: digest differs`);
      }
    }
  };

  // Read-backs run on a connection of their own, one after the other, so the loading connections
  // never wait for them; without one (the server let no more be opened), the connection that
  // loaded reads back, waiting meanwhile.
  let reader: Connection | undefined;
  let reading: Promise<void> = Promise.resolve();
  const readBackAfter = async (connection: Connection, unit: ReadUnit) => {
    if (!reader) return readUnit(connection, unit);
    reading = reading.then(async () => {
      if (failure !== undefined) return;
      try {
        stopIfAborted(options.signal, 'restore', ENGINE);
        await readUnit(reader!, unit);
      } catch (error) {
        failure ??= classifyTargetError(error, `reading back ${describeUnit(unit)}`, 'MYSQL_READ_BACK_FAILED');
      }
    });
    return undefined;
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
        await options.ready?.(load);
        stopIfAborted(options.signal, 'restore', ENGINE);
        await keysOff(connection, load);
        const files = await Promise.all(chunks.map((i) => options.localFile?.(load.files[i]) ?? load.files[i]));
        const rows = await loadFilesRetried(connection, files, intoOf(load), load, what, options);
        loaded.set(load, loaded.get(load)! + rows);
        done.chunks += chunks.length;
        done.rows += rows;
        options.onChunk?.({ ...done });
        const left = remaining.get(load)! - chunks.length;
        remaining.set(load, left);
        if (left === 0 && disableKeys.has(load)) await keys(connection, load, 'ENABLE');
        for (const i of chunks) {
          const unit = units.get(load)![i];
          if (unit !== undefined && (unit.left -= 1) === 0) await readBackAfter(connection, unit);
        }
        if (left === 0 && load.expected) readBack.tables += 1;
      } catch (error) {
        failure ??= classifyTargetError(error, what, 'MYSQL_LOAD_FAILED');
      }
    }
  };

  try {
    const count = Math.max(1, Math.min(options.parallelism, jobs.length));
    for (let i = 0; i < count; i += 1) connections.push(await openLoadConnection(settings));
    const loading = [...connections];
    if (checked.length > 0) {
      reader = await openReader(settings, options.logger);
      if (reader) connections.push(reader);
    }
    await Promise.all(loading.map(worker));
    await reading;
    for (const load of checked.filter((t) => t.files.length === 0)) { // nothing to load: its emptiness is proven all the same
      if (failure !== undefined) break;
      await options.ready?.(load);
      await readUnit(connections[0], { load, rows: load.rows, digest: load.expected!.digest, left: 0 });
      readBack.tables += 1;
    }
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
  options.logger.info('mysql restore: rows loaded', {
    ...done, tables: tables.length, ...(checked.length > 0 ? { readBack: readBack.rows } : {}), ...(options.started !== undefined ? { ms: Date.now() - options.started } : {}),
  });
  return { ...done, ...(checked.length > 0 ? { readBack } : {}) };
}
