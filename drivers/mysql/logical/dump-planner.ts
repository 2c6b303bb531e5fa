/**
 * The plan of a logical backup's data: which tables, where their chunks begin and end, in what
 * order, and which worker reads what, all workers inside one shared consistent snapshot. Reading,
 * encoding and writing a chunk is dump-pipeline.ts.
 *
 * - A table whose primary key is a single integer column, and which holds more than `chunkRows`
 *   rows or `chunkBytes` of data, is cut by key ranges (`pk >= a AND pk < b`, of equal width
 *   between the smallest and largest key inside the snapshot, as many as the estimates call for:
 *   {@link planRanges}). Each range is an independent task any worker can take, so one big table
 *   is read by every worker at once (and loaded by every connection of a restore). Other tables
 *   are one task that streams the whole table (as range 0); small ones are read several to a
 *   query, each still into chunks of its own. Every range starts a new chunk every `chunkRows`
 *   rows or `chunkBytes` of row data. Largest tables start first.
 * - A table's digest is the merge of its chunks'.
 * - A failed task fails the whole dump, with the first failure, once every worker has stopped.
 * - Non-transactional tables are dumped first; when the last of them is written,
 *   `onNonTransactionalDone` runs (the caller releases its read lock there) while the workers
 *   carry on with the transactional tables.
 */
import type { Connection } from 'mysql2/promise';
import type { ArtifactSink } from '../../../core/driver/artifact-sink';
import type { ArtifactRef } from '../../../core/driver/types';
import { PermanentError } from '../../../core/errors';
import type { Logger } from '../../../core/logger';
import { quoteId } from '../shared/connection';
import { eachName, isExactly } from '../shared/exact-names';
import { toMysqlError } from '../shared/errors';
import { ENGINE } from '../shared/layout';
import { sharedEncodePool, type EncodePool } from '../shared/encode-pool';
import { rawTypeCast } from '../shared/row-format';
import { tableColumns, tableKey } from '../shared/table-columns';
import { TableDigest } from '../shared/table-digest';
import { CHUNK_BYTES } from '../config';
import {
  dumpRange, dumpServerError, dumpWholeTables, qualifiedName, rangeQuery, whereClause, withWriteRetries, type ChunkStage, type KeyRange, type PipelineOptions, type TableSource, type WrittenChunk,
} from './dump-pipeline';
import { catalogText } from '../shared/catalog-text';

/** Engines whose tables are read from the consistent snapshot; every other engine is non-transactional. */
export const TRANSACTIONAL_ENGINES: ReadonlySet<string> = new Set(['innodb']);


const INTEGER_TYPES = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint']);

/** A table to dump, as listed from information_schema before the snapshot. */
export interface DumpTable extends TableSource {
  engine: string;
  /** Read inside the consistent snapshot (InnoDB), or under the read lock. */
  transactional: boolean;
  /** Estimates from information_schema (for scheduling and choosing how to cut). */
  estimatedRows: number;
  estimatedBytes: number;
}

type Row = Record<string, unknown>;

/**
 * Lists the base tables of `databases` (sequences and views have no rows to dump), with their
 * engine and split key. `connection` must return text (not a data session's binary results).
 */
export async function listTables(connection: Connection, databases: string[]): Promise<DumpTable[]> {
  if (databases.length === 0) return [];
  const tables = await eachName<Row>(connection, databases,
    `SELECT TABLE_SCHEMA AS db, TABLE_NAME AS name, ENGINE AS engine, TABLE_ROWS AS estRows, DATA_LENGTH AS estBytes
       FROM information_schema.TABLES
      WHERE ${isExactly('TABLE_SCHEMA')} AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED')
      ORDER BY TABLE_NAME`);
  // COLUMN_KEY 'PRI' marks the primary key's columns (or, without one, those of the first UNIQUE
  // NOT NULL key, which identifies rows just as well).
  const keyColumns = await eachName<Row>(connection, databases,
    `SELECT TABLE_SCHEMA AS db, TABLE_NAME AS name, COLUMN_NAME AS col, DATA_TYPE AS type
       FROM information_schema.COLUMNS WHERE ${isExactly('TABLE_SCHEMA')} AND COLUMN_KEY = 'PRI'`);
  const keys = new Map<string, Row[]>();
  for (const column of keyColumns) {
    const id = `${catalogText(column.db)}\u0000${catalogText(column.name)}`;
    keys.set(id, [...(keys.get(id) ?? []), column]);
  }
  const splitKeys = new Map<string, string>();
  for (const [id, columns] of keys) {
    if (columns.length === 1 && INTEGER_TYPES.has(catalogText(columns[0].type).toLowerCase())) splitKeys.set(id, catalogText(columns[0].col));
  }
  const columns = await tableColumns(connection, databases);
  return tables.map((t) => {
    const engine = catalogText(t.engine) || 'unknown';
    return {
      columns: columns.get(tableKey(catalogText(t.db), catalogText(t.name))) ?? [],
      database: catalogText(t.db),
      table: catalogText(t.name),
      engine,
      transactional: TRANSACTIONAL_ENGINES.has(engine.toLowerCase()),
      splitKey: splitKeys.get(`${catalogText(t.db)}\u0000${catalogText(t.name)}`),
      estimatedRows: Number(t.estRows ?? 0) || 0,
      estimatedBytes: Number(t.estBytes ?? 0) || 0,
    };
  });
}

/** The smallest and largest value of `t`'s split key among the rows dumped, inside the worker's snapshot; undefined when there are none. */
async function keyExtremes(worker: Connection, t: TableSource): Promise<{ min: bigint; max: bigint } | undefined> {
  const key = quoteId(t.splitKey!);
  const [rows] = await worker.query({ sql: `SELECT MIN(${key}), MAX(${key}) FROM ${qualifiedName(t)}${whereClause(t)}`, rowsAsArray: true, typeCast: rawTypeCast as never }) as unknown as [Array<Array<Buffer | null>>, unknown];
  const [min, max] = (rows[0] ?? []).map((value) => {
    if (value === null || value === undefined) return undefined;
    const literal = value.toString('latin1');
    if (!/^-?\d+$/.test(literal)) throw new PermanentError(`split key returned a non-integer value '${literal}'`, { code: 'MYSQL_DUMP_FAILED', engine: ENGINE });
    return BigInt(literal);
  });
  return min === undefined || max === undefined ? undefined : { min, max };
}

/** How many key ranges the dump cuts `t` into: as many as its estimated rows and size call for. */
export function rangeCount(t: Pick<DumpTable, 'estimatedRows' | 'estimatedBytes'>, chunkRows: number, chunkBytes: number): number {
  return Math.max(1, Math.ceil(t.estimatedRows / chunkRows), Math.ceil(t.estimatedBytes / chunkBytes));
}

/**
 * Cuts `t`'s key space, inside the connection's read view, into `count` ranges (fewer when there
 * are fewer keys) of equal width between its smallest and largest key: two index lookups, the rows
 * are not read to find them. Uneven keys make uneven ranges. The first and last ranges are open, so
 * together they cover every key. At least one range.
 */
export async function planRanges(connection: Connection, t: TableSource, count: number): Promise<KeyRange[]> {
  const extremes = await keyExtremes(connection, t);
  if (!extremes) return [{}];
  const span = extremes.max - extremes.min + 1n;
  const wanted = BigInt(Math.max(1, count));
  const pieces = wanted < span ? wanted : span;
  const width = (span + pieces - 1n) / pieces;
  const bounds: string[] = [];
  for (let bound = extremes.min + width; bound <= extremes.max; bound += width) bounds.push(bound.toString());
  return [undefined, ...bounds].map((from, i) => ({ ...(from !== undefined ? { from } : {}), ...(i < bounds.length ? { to: bounds[i] } : {}) }));
}

/** One key range of a table cut by its key: its bounds, rows and digest, and how many of the table's chunks (in order) hold it. */
export interface DumpedRange extends KeyRange {
  rows: number;
  digest: string;
  chunks: number;
}

/**
 * A dumped table: its rows, digest and chunks (in order), the digest of its rows projected when it
 * has a projection, and its key ranges when it was cut by key (so a restore can prove each range
 * as soon as it is loaded).
 */
export interface DumpedTable {
  table: DumpTable;
  rows: number;
  digest: string;
  chunks: ArtifactRef[];
  projected?: string;
  ranges?: DumpedRange[];
}

export interface DumpOptions {
  /** Where chunks go: the spool or straight to the store. */
  sink: ArtifactSink;
  chunkRows: number;
  /** Row data per chunk (default {@link CHUNK_BYTES}). */
  chunkBytes?: number;
  logger: Logger;
  signal?: AbortSignal;
  /** Runs once, when every non-transactional table is written (not at all when there are none). */
  onNonTransactionalDone?: () => Promise<void>;
  /** Extra stage per chunk after compression (test seam). */
  stage?: ChunkStage;
  /** Encoder threads (default: the process's shared pool). */
  pool?: EncodePool;
  /** In-process retries of a task whose write failed (default 2). */
  writeRetries?: number;
}

interface TableState {
  table: DumpTable;
  /** The chunks of each key range written (a table not cut: range 0), in order. */
  ranges: Map<number, WrittenChunk[]>;
  /** How many ranges the table was cut into (once known). */
  rangeCount?: number;
  /** The key ranges it was cut into (a table cut by key). */
  bounds?: KeyRange[];
}

interface Task {
  state: TableState;
  /** The table data it reads, as the server estimates it (0: a query that reads none). */
  estimatedBytes: number;
  run(worker: Connection): Promise<void>;
}

/**
 * Tasks one worker connection has in flight at once, and the table data they may hold (estimated):
 * the connection sends a task's query as soon as the task before it has read its last row, while
 * that task's chunk is still being encoded and written. The queries take turns on the connection
 * (one result at a time, each stream holding back the socket on its own), so this overlaps a
 * write's latency — a file's creation, an S3 request per chunk — with the next table's read: what
 * a schema of many small tables waits on. A big table runs alone, its memory bounded as always.
 */
const LANE_DEPTH = 8;
const LANE_BYTES = 4 * 1024 * 1024;

/**
 * Transactional tables the server estimates at this size or less, not cut by key, are read up to
 * {@link SMALL_TABLES_PER_QUERY} (and {@link SMALL_TABLES_BYTES} estimated, and
 * {@link SMALL_TABLES_SQL} of statement text) to a query (dump-pipeline.ts `dumpWholeTables`):
 * 1 000 small tables are some 60 queries, not 1 000. An estimate too small only makes a table
 * wait behind its batch: the batch's tables share one table's read-ahead, so a batch holds what
 * one table would.
 */
const SMALL_TABLE_BYTES = 256 * 1024;
const SMALL_TABLES_PER_QUERY = 16;
const SMALL_TABLES_BYTES = 1024 * 1024;
/** Far below any server's max_allowed_packet (MySQL 5.7's default: 4 MiB), whatever the column lists. */
const SMALL_TABLES_SQL = 64 * 1024;

/**
 * The work queue: non-transactional tasks before transactional ones, and within each, chunk
 * ranges of planned tables before whole tables (so a big table's ranges start as soon as known).
 */
class Scheduler {
  private readonly queues: Task[][] = [[], [], [], []]; // [non-tx ranges, non-tx tables, tx ranges, tx tables]
  private readonly outstanding = [0, 0]; // queued + running, per class (0 = non-transactional)
  private waiters: Array<() => void> = [];
  failure: unknown;
  private nonTransactionalSeen = false;
  private nonTransactionalDone = false;

  constructor(private readonly onNonTransactionalDone: () => Promise<void>) {}

  push(task: Task, kind: 'range' | 'table'): void {
    const cls = task.state.table.transactional ? 1 : 0;
    if (cls === 0) this.nonTransactionalSeen = true;
    this.outstanding[cls] += 1;
    this.queues[cls * 2 + (kind === 'range' ? 0 : 1)].push(task);
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }

  async next(signal?: AbortSignal): Promise<Task | undefined> {
    for (;;) {
      if (this.failure !== undefined) return undefined;
      if (signal?.aborted) {
        this.fail(new PermanentError('backup aborted', { code: 'ABORTED', engine: ENGINE }));
        return undefined;
      }
      const queue = this.queues.find((q) => q.length > 0);
      if (queue) return queue.shift();
      if (this.outstanding[0] + this.outstanding[1] === 0) return undefined;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  async finish(task: Task): Promise<void> {
    const cls = task.state.table.transactional ? 1 : 0;
    this.outstanding[cls] -= 1;
    if (cls === 0 && this.outstanding[0] === 0 && this.nonTransactionalSeen && !this.nonTransactionalDone && this.failure === undefined) {
      this.nonTransactionalDone = true;
      try {
        await this.onNonTransactionalDone();
      } catch (error) {
        this.fail(error);
      }
    }
    this.wake();
  }

  fail(error: unknown): void {
    this.failure ??= error;
    this.wake();
  }

  /** Whether non-transactional tables are (or will be) dumped and not all done yet: the read lock is held. */
  get locked(): boolean {
    return this.nonTransactionalSeen && !this.nonTransactionalDone;
  }
}

const describe = (t: DumpTable): string => `${t.database}.${t.table}`;

/** `tables` in batches of at most {@link SMALL_TABLES_PER_QUERY} tables, {@link SMALL_TABLES_BYTES} estimated and {@link SMALL_TABLES_SQL} of statements, in order. */
function smallBatches(tables: TableState[]): TableState[][] {
  const batches: TableState[][] = [];
  let bytes = 0;
  let sql = 0;
  for (const state of tables) {
    const last = batches.at(-1);
    const statement = Buffer.byteLength(rangeQuery(state.table)) + 2;
    if (last && last.length < SMALL_TABLES_PER_QUERY && bytes + state.table.estimatedBytes <= SMALL_TABLES_BYTES && sql + statement <= SMALL_TABLES_SQL) {
      last.push(state);
      bytes += state.table.estimatedBytes;
      sql += statement;
    } else {
      batches.push([state]);
      bytes = state.table.estimatedBytes;
      sql = statement;
    }
  }
  return batches;
}

/**
 * Dumps `tables` over `workers` (each already inside the shared snapshot). Resolves with every
 * table's rows, digest and chunks, sorted by database and table; rejects with the first failure
 * (classified), after every worker has stopped.
 */
export async function dumpTables(workers: Connection[], tables: DumpTable[], options: DumpOptions): Promise<DumpedTable[]> {
  const chunkBytes = options.chunkBytes ?? CHUNK_BYTES;
  const taskOptions: PipelineOptions = { sink: options.sink, chunkRows: options.chunkRows, chunkBytes, pool: options.pool ?? sharedEncodePool(), stage: options.stage };
  const retries = options.writeRetries ?? 2;
  const scheduler = new Scheduler(options.onNonTransactionalDone ?? (async () => undefined));
  const states = tables.map((t): TableState => ({ table: t, ranges: new Map() }));
  const bySize = [...states].sort((a, b) => b.table.estimatedBytes - a.table.estimatedBytes || b.table.estimatedRows - a.table.estimatedRows);

  const rangeTask = (state: TableState, index: number, range: KeyRange, count: number): Task => ({
    state,
    estimatedBytes: state.table.estimatedBytes / count,
    run: async (worker) => {
      state.ranges.set(index, await withWriteRetries(`dumping ${describe(state.table)} chunk ${index}`, retries, options.logger,
        () => dumpRange(worker, state.table, index, range, taskOptions)));
    },
  });
  /** Dumps `state`'s table whole; with `batched`, the outcome of its read with others stands for the first attempt. */
  const wholeTable = async (state: TableState, worker: Connection, batched?: PromiseSettledResult<WrittenChunk[]>): Promise<void> => {
    const t = state.table;
    state.rangeCount = 1;
    let attempts = 0;
    state.ranges.set(0, await withWriteRetries(`dumping ${describe(t)}`, retries, options.logger, async () => {
      attempts += 1;
      // A small table's rows are one batch (dump-pipeline.ts `wholeBatches`), read alone as read with others.
      if (attempts > 1 || !batched) return dumpRange(worker, t, 0, undefined, t.estimatedBytes <= SMALL_TABLE_BYTES ? { ...taskOptions, wholeBatches: true } : taskOptions);
      if (batched.status === 'rejected') throw batched.reason;
      return batched.value;
    }));
  };
  const wholeTableTask = (state: TableState): Task => ({
    state, estimatedBytes: state.table.estimatedBytes, run: (worker) => wholeTable(state, worker),
  });
  const smallTablesTask = (batch: TableState[]): Task => ({
    state: batch[0], // for its class (transactional, as every table of the batch)
    estimatedBytes: batch.reduce((sum, s) => sum + s.table.estimatedBytes, 0),
    run: async (worker) => {
      const outcomes = await dumpWholeTables(worker, batch.map((s) => s.table), taskOptions);
      for (const [i, state] of batch.entries()) await wholeTable(state, worker, outcomes[i]);
    },
  });
  const small: TableState[] = [];
  for (const state of bySize) {
    const t = state.table;
    if (t.splitKey !== undefined && rangeCount(t, options.chunkRows, chunkBytes) > 1) {
      scheduler.push({
        state,
        estimatedBytes: 0,
        run: async (worker) => {
          let ranges: KeyRange[];
          try {
            ranges = await planRanges(worker, t, rangeCount(t, options.chunkRows, chunkBytes));
          } catch (error) {
            throw dumpServerError(`finding the chunk ranges of ${describe(t)}`, error);
          }
          state.rangeCount = ranges.length;
          state.bounds = ranges;
          ranges.forEach((range, index) => scheduler.push(rangeTask(state, index, range, ranges.length), 'range'));
        },
      }, 'table');
    } else if (t.transactional && t.estimatedBytes <= SMALL_TABLE_BYTES) {
      small.push(state);
    } else {
      scheduler.push(wholeTableTask(state), 'table');
    }
  }
  for (const batch of smallBatches(small)) scheduler.push(batch.length === 1 ? wholeTableTask(batch[0]) : smallTablesTask(batch), 'table');

  const work = async (worker: Connection): Promise<void> => {
    const running = new Set<Promise<void>>();
    let bytes = 0;
    for (;;) {
      // One task at a time while the lock is held: the non-transactional tables must not wait behind others on a connection.
      const depth = scheduler.locked ? 1 : LANE_DEPTH;
      while (running.size >= depth || (running.size > 0 && bytes >= LANE_BYTES)) await Promise.race(running);
      const task = await scheduler.next(options.signal);
      if (!task) break;
      const size = task.estimatedBytes;
      if (running.size > 0 && bytes + size > LANE_BYTES) await Promise.all(running); // a big task runs alone
      bytes += size;
      // Leaves `running` only once finished (the lock released after the last non-transactional table): the lane waits for that.
      const run: Promise<void> = task.run(worker).catch((error: unknown) => scheduler.fail(error)).finally(() => scheduler.finish(task)).finally(() => {
        bytes -= size;
        running.delete(run);
      });
      running.add(run);
    }
    await Promise.all(running);
  };
  await Promise.all(workers.map(work));
  if (scheduler.failure !== undefined) throw toMysqlError(scheduler.failure, 'dumping table data', 'MYSQL_DUMP_FAILED');

  return states
    .map((state) => {
      const ranges = Array.from({ length: state.rangeCount ?? 0 }, (_, i) => state.ranges.get(i));
      if (ranges.length === 0 || ranges.some((chunks) => chunks === undefined || chunks.length === 0) || state.ranges.size !== ranges.length) {
        throw new PermanentError(`chunks of ${describe(state.table)} are not contiguous`, { code: 'MYSQL_DUMP_FAILED', engine: ENGINE });
      }
      const ordered = ranges.flatMap((chunks) => chunks!);
      const digest = new TableDigest();
      for (const chunk of ordered) digest.merge(chunk.digest);
      const projected = state.table.projection ? new TableDigest() : undefined;
      for (const chunk of ordered) if (chunk.projected) projected!.merge(chunk.projected);
      const keyRanges = state.bounds?.map((bounds, i): DumpedRange => {
        const range = new TableDigest();
        for (const chunk of ranges[i]!) range.merge(chunk.digest);
        return { ...bounds, rows: range.rows, digest: range.hex(), chunks: ranges[i]!.length };
      });
      return {
        table: state.table, rows: digest.rows, digest: digest.hex(), chunks: ordered.map((c) => c.artifact),
        ...(projected ? { projected: projected.hex() } : {}), ...(keyRanges ? { ranges: keyRanges } : {}),
      };
    })
    .sort((a, b) => (a.table.database === b.table.database ? compare(a.table.table, b.table.table) : compare(a.table.database, b.table.database)));
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
