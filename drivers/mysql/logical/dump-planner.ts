/**
 * The data of a logical backup: which tables, how they are cut into chunks, and how the chunks
 * are written, in parallel over the workers' shared consistent snapshot.
 *
 * - A table whose primary key is a single integer column, and which holds more than `chunkRows`
 *   rows, is cut by key ranges (`pk >= a AND pk < b`, the bounds found inside the snapshot by
 *   `ORDER BY pk LIMIT 1 OFFSET chunkRows`). Each range is an independent task any worker can take,
 *   so one big table is read by every worker at once. Other tables are one task that streams the
 *   whole table and starts a new chunk every `chunkRows` rows.
 * - Rows are streamed (every column by name, invisible ones included) as the server's row packets;
 *   batches of them are encoded into dump lines, digested and gzip-compressed (level 1) by the
 *   encoder threads (encode-pool.ts), and the gzip members hashed on their way to the sink (the
 *   store, or the spool). Memory is bounded by the stream buffers and the batches in flight
 *   (backpressure reaches the server's socket), never by a table's size nor by the width of its
 *   rows: the read-ahead, each batch and the batches in flight are bounded in bytes as well as in
 *   rows.
 * - Each chunk's rows feed a {@link TableDigest}; a table's digest is the merge of its chunks'.
 * - A task whose write fails (disk, stream, encoder) is run again alone, on the same worker and snapshot.
 *   A failure of the worker's connection fails the whole dump with a TransientError: a lost
 *   snapshot cannot be re-joined, the state machine retries the backup.
 * - Non-transactional tables are dumped first; when the last of them is written,
 *   `onNonTransactionalDone` runs (the caller releases its read lock there) while the workers
 *   carry on with the transactional tables.
 */
import { Readable, type Transform } from 'node:stream';
import { createGunzip, gzipSync } from 'node:zlib';
import type { Connection } from 'mysql2/promise';
import type { ArtifactSink } from '../../../core/driver/artifact-sink';
import type { ArtifactRef } from '../../../core/driver/types';
import { PermanentError, TransientError } from '../../../core/errors';
import type { Logger } from '../../../core/logger';
import { withRetry } from '../../../core/resilience/retry';
import { quoteId } from '../shared/connection';
import { mapMysqlError, toMysqlError } from '../shared/errors';
import { ENGINE, chunkArtifact } from '../shared/layout';
import { sharedEncodePool, type EncodePool, type EncodedBatch } from '../shared/encode-pool';
import { decodeLine, rawTypeCast } from '../shared/row-format';
import { assertRowPacket, rawRowStream, type RowBudget, type RowPacket } from '../shared/row-packet';
import { selectList } from '../shared/column-codec';
import { tableColumns, tableKey, type ColumnInfo } from '../shared/table-columns';
import { TableDigest } from '../shared/table-digest';

/** Engines whose tables are read from the consistent snapshot; every other engine is non-transactional. */
export const TRANSACTIONAL_ENGINES: ReadonlySet<string> = new Set(['innodb']);

const INTEGER_TYPES = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint']);

/** A table to dump, as listed from information_schema before the snapshot. */
export interface DumpTable {
  database: string;
  table: string;
  engine: string;
  /** Read inside the consistent snapshot (InnoDB), or under the read lock. */
  transactional: boolean;
  /** The single integer primary key column, when there is one. */
  splitKey?: string;
  /** The columns dumped, in order (table-columns.ts: invisible ones included). */
  columns: ColumnInfo[];
  /** Estimates from information_schema (for scheduling and choosing how to cut). */
  estimatedRows: number;
  estimatedBytes: number;
}

type Row = Record<string, unknown>;
const text = (value: unknown): string => (Buffer.isBuffer(value) ? value.toString('utf8') : value === null || value === undefined ? '' : String(value));

/**
 * Lists the base tables of `databases` (sequences and views have no rows to dump), with their
 * engine and split key. `connection` must return text (not a data session's binary results).
 */
export async function listTables(connection: Connection, databases: string[]): Promise<DumpTable[]> {
  if (databases.length === 0) return [];
  const [tables] = await connection.query(
    `SELECT TABLE_SCHEMA AS db, TABLE_NAME AS name, ENGINE AS engine, TABLE_ROWS AS estRows, DATA_LENGTH AS estBytes
       FROM information_schema.TABLES
      WHERE TABLE_SCHEMA IN (?) AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED')
      ORDER BY TABLE_SCHEMA, TABLE_NAME`, [databases],
  ) as [Row[], unknown];
  // COLUMN_KEY 'PRI' marks the primary key's columns (or, without one, those of the first UNIQUE
  // NOT NULL key, which identifies rows just as well).
  const [keyColumns] = await connection.query(
    `SELECT TABLE_SCHEMA AS db, TABLE_NAME AS name, COLUMN_NAME AS col, DATA_TYPE AS type
       FROM information_schema.COLUMNS WHERE TABLE_SCHEMA IN (?) AND COLUMN_KEY = 'PRI'`, [databases],
  ) as [Row[], unknown];
  const keys = new Map<string, Row[]>();
  for (const column of keyColumns) {
    const id = `${text(column.db)}\u0000${text(column.name)}`;
    keys.set(id, [...(keys.get(id) ?? []), column]);
  }
  const splitKeys = new Map<string, string>();
  for (const [id, columns] of keys) {
    if (columns.length === 1 && INTEGER_TYPES.has(text(columns[0].type).toLowerCase())) splitKeys.set(id, text(columns[0].col));
  }
  const columns = await tableColumns(connection, databases);
  return tables.map((t) => {
    const engine = text(t.engine) || 'unknown';
    return {
      columns: columns.get(tableKey(text(t.db), text(t.name))) ?? [],
      database: text(t.db),
      table: text(t.name),
      engine,
      transactional: TRANSACTIONAL_ENGINES.has(engine.toLowerCase()),
      splitKey: splitKeys.get(`${text(t.db)}\u0000${text(t.name)}`),
      estimatedRows: Number(t.estRows ?? 0) || 0,
      estimatedBytes: Number(t.estBytes ?? 0) || 0,
    };
  });
}

/** Rows taken together, and their packet bytes. */
export interface RowBatch {
  rows: RowPacket[];
  bytes: number;
}

/**
 * A streamed query's rows (as row packets), taken in batches. Wraps the row stream (which pauses
 * the socket when its buffer is full) so a reader can stop at a chunk boundary without ending the
 * query.
 */
export class RowCursor {
  /** A row read from the stream that did not fit the last batch: the first of the next one. */
  private held: RowPacket | null = null;
  private ended = false;
  /** The query's own error (the server or the connection failed), if any. */
  error: unknown;

  /** `stream`: row packets, object mode (rawRowStream, which fails with a lost connection's error too). */
  constructor(private readonly stream: Readable) {
    this.stream.on('end', () => { this.ended = true; });
    this.stream.on('error', (error) => { this.error ??= error; });
    if (this.stream.errored) this.error = this.stream.errored;
  }

  private wait(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.stream.off('readable', done).off('end', done).off('error', done).off('close', done);
        resolve();
      };
      this.stream.on('readable', done).on('end', done).on('error', done).on('close', done);
    });
  }

  private next(): RowPacket | null {
    const row = this.held ?? (this.stream.read() as RowPacket | null);
    this.held = null;
    return row;
  }

  /**
   * The rows buffered, up to `limit.rows` rows and `limit.bytes` bytes, in order; a row larger
   * than `limit.bytes` is a batch of its own.
   */
  private fill(limit: RowBudget): RowBatch {
    const batch: RowBatch = { rows: [], bytes: 0 };
    for (let row = this.next(); row !== null; row = this.next()) {
      if (batch.rows.length > 0 && batch.bytes + row.length > limit.bytes) {
        this.held = row;
        break;
      }
      batch.rows.push(row);
      batch.bytes += row.length;
      if (batch.rows.length >= limit.rows) break;
    }
    return batch;
  }

  /**
   * The next batch (see {@link fill}); waits only when no row is buffered. A batch without rows
   * means the result has ended.
   */
  async take(limit: RowBudget): Promise<RowBatch> {
    for (;;) {
      if (this.error) throw this.error;
      const batch = this.fill(limit);
      if (batch.rows.length > 0) {
        assertRowPacket(batch.rows[0]);
        return batch;
      }
      if (this.ended || this.stream.destroyed) {
        if (this.error) throw this.error;
        return batch;
      }
      await this.wait();
    }
  }

  /** True when another row follows (waits for it or for the end). */
  async hasMore(): Promise<boolean> {
    for (;;) {
      if (this.error) throw this.error;
      if (this.held !== null || this.stream.readableLength > 0) return true;
      if (this.ended || this.stream.destroyed) return false;
      this.held = this.stream.read() as RowPacket | null;
      if (this.held !== null) return true;
      await this.wait();
    }
  }

  /** Stops reading; the connection discards the rest of the result before its next query. */
  close(): void {
    if (!this.ended && !this.stream.destroyed) this.stream.destroy();
  }
}

/**
 * An extra stage a chunk's compressed bytes pass through on their way to the sink (a new stream
 * per chunk). A seam for tests (failure injection); the dump uses none.
 */
export type ChunkStage = (chunk: string) => Transform;

/**
 * What one batch handed to an encoder thread holds at most: 1 024 rows or 4 MiB of packets,
 * whichever comes first (a wider row is a batch of its own). Bytes as well as rows, so that a
 * batch (its packets here, its lines and gzip member in the thread) stays small whatever the row
 * width: 1 024 rows of multi-MB BLOBs would be GBs.
 */
export const BATCH: RowBudget = { rows: 1024, bytes: 4 * 1024 * 1024 };

/** An empty gzip member: a chunk without rows is still a valid gzip file. */
const EMPTY_GZIP = gzipSync(Buffer.alloc(0));

/** One written chunk: its artifact and the digest of exactly the rows in it. */
export interface WrittenChunk {
  index: number;
  artifact: ArtifactRef;
  digest: TableDigest;
}

/** Raised when writing a chunk failed on our side (disk, stream, encoder), not the server's: worth retrying. */
class ChunkWriteError extends TransientError {}
/** A chunk the store or spool refused for good (no space, access denied, a name it cannot hold): not retried. */
class ChunkRefusedError extends PermanentError {}

/**
 * The batches of one chunk being encoded, oldest first: at most two per encoder thread, and no
 * new one while those hold as many bytes as that many full batches — so rows wider than a batch
 * are encoded a few at a time, not two per thread.
 */
class EncodeWindow {
  private readonly pending: Array<{ encoding: Promise<EncodedBatch>; bytes: number }> = [];
  private bytes = 0;
  private readonly maxBatches: number;

  constructor(private readonly pool: EncodePool) {
    this.maxBatches = 2 * pool.size;
  }

  get full(): boolean {
    return this.pending.length >= this.maxBatches || this.bytes >= this.maxBatches * BATCH.bytes;
  }

  /** Hands `batch` to the encoder threads. */
  submit(batch: RowBatch): void {
    const encoding = this.pool.encode(batch.rows);
    encoding.catch(() => undefined); // awaited in order by next(); never an unhandled rejection
    this.pending.push({ encoding, bytes: batch.bytes });
    this.bytes += batch.bytes;
  }

  /** The oldest batch, encoded; undefined when none is pending. */
  async next(): Promise<EncodedBatch | undefined> {
    const oldest = this.pending.shift();
    if (!oldest) return undefined;
    this.bytes -= oldest.bytes;
    return oldest.encoding;
  }
}

/**
 * Writes up to `limit` rows of `cursor` as chunk `name`: batches of rows go to the encoder threads
 * (encode-pool.ts: lines, digest, gzip) while the cursor keeps reading; their gzip members are
 * written in order. Errors of the cursor (the server) are rethrown as they are; errors of the
 * write side become {@link ChunkWriteError}.
 */
async function writeChunk(sink: ArtifactSink, name: string, cursor: RowCursor, limit: number, options: TaskOptions): Promise<{ artifact: ArtifactRef; digest: TableDigest }> {
  const digest = new TableDigest();
  let remaining = limit;
  let empty = true;
  async function* members(): AsyncGenerator<Buffer> {
    const inFlight = new EncodeWindow(options.pool);
    for (;;) {
      while (remaining > 0 && !inFlight.full) {
        const batch = await cursor.take({ rows: Math.min(remaining, BATCH.rows), bytes: BATCH.bytes });
        if (batch.rows.length === 0) {
          remaining = 0;
          break;
        }
        remaining -= batch.rows.length;
        inFlight.submit(batch);
      }
      const encoded = await inFlight.next();
      if (!encoded) break;
      digest.mergeSum(encoded.sum, encoded.rows);
      empty = false;
      yield encoded.gzip;
    }
    if (empty) yield EMPTY_GZIP;
  }
  try {
    const stages = options.stage ? [options.stage(name)] : [];
    const artifact = await sink.write(name, Readable.from(members(), { objectMode: false, highWaterMark: 256 * 1024 }), ...stages);
    return { artifact, digest };
  } catch (error) {
    if (cursor.error !== undefined) throw cursor.error;
    if (error instanceof PermanentError) {
      // The store or spool refused for good (no space, access denied, a name it cannot hold): not worth a retry.
      throw new ChunkRefusedError(`writing ${name} failed: ${error.message}`, { code: error.code, engine: ENGINE, cause: error });
    }
    throw new ChunkWriteError(`writing ${name} failed: ${error instanceof Error ? error.message : String(error)}`, { code: 'CHUNK_WRITE_FAILED', engine: ENGINE, cause: error });
  }
}

/** A key range of a split table: `from <= key < to` (either side open when absent), decimal literals. */
export interface KeyRange {
  from?: string;
  to?: string;
}

const table = (t: DumpTable): string => `${quoteId(t.database)}.${quoteId(t.table)}`;

/** Every dumped column of `t`, for a SELECT. */
const columnsOf = (t: DumpTable): string => (t.columns.length > 0 ? selectList(t.columns) : '*');

/** The rows of a range of `t`, in key order. */
export function rangeQuery(t: DumpTable, range: KeyRange): string {
  const key = quoteId(t.splitKey!);
  const where = [range.from !== undefined ? `${key} >= ${range.from}` : '', range.to !== undefined ? `${key} < ${range.to}` : ''].filter(Boolean);
  return `SELECT ${columnsOf(t)} FROM ${table(t)}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${key}`;
}

async function keyAt(worker: Connection, sql: string): Promise<string | undefined> {
  const [rows] = await worker.query({ sql, rowsAsArray: true, typeCast: rawTypeCast as never }) as unknown as [Array<Array<Buffer | null>>, unknown];
  const value = rows[0]?.[0];
  if (value === undefined || value === null) return undefined;
  const literal = value.toString('latin1');
  if (!/^-?\d+$/.test(literal)) throw new PermanentError(`split key returned a non-integer value '${literal}'`, { code: 'MYSQL_DUMP_FAILED', engine: ENGINE });
  return literal;
}

/**
 * Finds the key ranges of `t` inside the worker's snapshot, one per `chunkRows` rows, calling
 * `onRange` as soon as each is known (so other workers can start on it). At least one range.
 */
export async function planRanges(worker: Connection, t: DumpTable, chunkRows: number, onRange: (index: number, range: KeyRange) => void): Promise<number> {
  const key = quoteId(t.splitKey!);
  let from = await keyAt(worker, `SELECT ${key} FROM ${table(t)} ORDER BY ${key} LIMIT 1`);
  let index = 0;
  while (from !== undefined) {
    const next = await keyAt(worker, `SELECT ${key} FROM ${table(t)} WHERE ${key} >= ${from} ORDER BY ${key} LIMIT 1 OFFSET ${chunkRows}`);
    onRange(index, { from: index === 0 ? undefined : from, to: next });
    index += 1;
    from = next;
  }
  if (index === 0) onRange(index++, {}); // empty table: one empty chunk
  return index;
}

export interface TaskOptions {
  sink: ArtifactSink;
  chunkRows: number;
  pool: EncodePool;
  stage?: ChunkStage;
}

/** Dumps one key range of `t` as chunk `index`. */
export async function dumpRange(worker: Connection, t: DumpTable, index: number, range: KeyRange, options: TaskOptions): Promise<WrittenChunk> {
  const cursor = new RowCursor(rawRowStream(worker, rangeQuery(t, range)));
  try {
    const written = await writeChunk(options.sink, chunkArtifact(t.database, t.table, index), cursor, Number.MAX_SAFE_INTEGER, options);
    return { index, ...written };
  } finally {
    cursor.close();
  }
}

/** Dumps the whole of `t` in one stream, a new chunk every `chunkRows` rows (at least one chunk). */
export async function dumpWhole(worker: Connection, t: DumpTable, options: TaskOptions): Promise<WrittenChunk[]> {
  const cursor = new RowCursor(rawRowStream(worker, `SELECT ${columnsOf(t)} FROM ${table(t)}`));
  const chunks: WrittenChunk[] = [];
  try {
    do {
      const index = chunks.length;
      const written = await writeChunk(options.sink, chunkArtifact(t.database, t.table, index), cursor, options.chunkRows, options);
      chunks.push({ index, ...written });
    } while (await cursor.hasMore());
    return chunks;
  } finally {
    cursor.close();
  }
}

/** A dumped table: its rows, digest and chunks (in order). */
export interface DumpedTable {
  table: DumpTable;
  rows: number;
  digest: string;
  chunks: ArtifactRef[];
}

export interface DumpOptions {
  /** Where chunks go: the spool or straight to the store. */
  sink: ArtifactSink;
  chunkRows: number;
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
  chunks: Map<number, WrittenChunk>;
}

interface Task {
  state: TableState;
  label: string;
  run(worker: Connection): Promise<void>;
}

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
}

const describe = (t: DumpTable): string => `${t.database}.${t.table}`;

/**
 * Runs `attempt` with in-process retries of write failures. Server/connection errors are not
 * retried here (the snapshot is gone with a lost connection): they fail the task, classified.
 */
async function withWriteRetries<T>(what: string, retries: number, logger: Logger, attempt: () => Promise<T>): Promise<T> {
  let serverError: unknown;
  try {
    return await withRetry(async () => {
      try {
        return await attempt();
      } catch (error) {
        if (error instanceof ChunkWriteError || error instanceof ChunkRefusedError) throw error;
        serverError = error;
        throw new PermanentError('server error', { code: 'MYSQL_DUMP_FAILED', engine: ENGINE });
      }
    }, {
      maxAttempts: retries,
      initialDelayMs: 100,
      maxDelayMs: 2_000,
      engine: ENGINE,
      onRetry: ({ attempt: n, error }) => logger.warn('mysql backup: retrying a chunk write', { what, attempt: n, error: error.message }),
    });
  } catch (error) {
    if (serverError === undefined) throw error;
    const code = (serverError as { errno?: unknown }).errno;
    if (code === 1146) {
      throw new TransientError(`${what}: the table disappeared during the backup (DDL while backing up); retry the backup`, { code: 'MYSQL_SCHEMA_CHANGED', engine: ENGINE, cause: serverError });
    }
    const mapped = mapMysqlError(serverError);
    if (mapped instanceof TransientError && mapped.code === 'MYSQL_UNAVAILABLE') {
      throw new TransientError(`${what}: a worker lost its connection, and a consistent snapshot cannot be re-joined; the backup must start again (${mapped.message})`,
        { code: 'MYSQL_UNAVAILABLE', engine: ENGINE, cause: serverError });
    }
    throw toMysqlError(serverError, what, 'MYSQL_DUMP_FAILED');
  }
}

/**
 * Dumps `tables` over `workers` (each already inside the shared snapshot). Resolves with every
 * table's rows, digest and chunks, sorted by database and table; rejects with the first failure
 * (classified), after every worker has stopped.
 */
export async function dumpTables(workers: Connection[], tables: DumpTable[], options: DumpOptions): Promise<DumpedTable[]> {
  const taskOptions: TaskOptions = { sink: options.sink, chunkRows: options.chunkRows, pool: options.pool ?? sharedEncodePool(), stage: options.stage };
  const retries = options.writeRetries ?? 2;
  const scheduler = new Scheduler(options.onNonTransactionalDone ?? (async () => undefined));
  const states = tables.map((t): TableState => ({ table: t, chunks: new Map() }));
  const bySize = [...states].sort((a, b) => b.table.estimatedBytes - a.table.estimatedBytes || b.table.estimatedRows - a.table.estimatedRows);

  const rangeTask = (state: TableState, index: number, range: KeyRange): Task => ({
    state,
    label: `${describe(state.table)} chunk ${index}`,
    run: async (worker) => {
      const chunk = await withWriteRetries(`dumping ${describe(state.table)} chunk ${index}`, retries, options.logger,
        () => dumpRange(worker, state.table, index, range, taskOptions));
      state.chunks.set(index, chunk);
    },
  });
  for (const state of bySize) {
    const t = state.table;
    if (t.splitKey !== undefined && t.estimatedRows > options.chunkRows) {
      scheduler.push({
        state,
        label: `planning ${describe(t)}`,
        run: async (worker) => {
          try {
            await planRanges(worker, t, options.chunkRows, (index, range) => scheduler.push(rangeTask(state, index, range), 'range'));
          } catch (error) {
            throw toMysqlError(error, `finding the chunk ranges of ${describe(t)}`, 'MYSQL_DUMP_FAILED');
          }
        },
      }, 'table');
    } else {
      scheduler.push({
        state,
        label: describe(t),
        run: async (worker) => {
          const chunks = await withWriteRetries(`dumping ${describe(t)}`, retries, options.logger, async () => {
            state.chunks.clear();
            return dumpWhole(worker, t, taskOptions);
          });
          for (const chunk of chunks) state.chunks.set(chunk.index, chunk);
        },
      }, 'table');
    }
  }

  const work = async (worker: Connection): Promise<void> => {
    for (;;) {
      const task = await scheduler.next(options.signal);
      if (!task) return;
      try {
        await task.run(worker);
      } catch (error) {
        scheduler.fail(error);
      } finally {
        await scheduler.finish(task);
      }
    }
  };
  await Promise.all(workers.map(work));
  if (scheduler.failure !== undefined) throw toMysqlError(scheduler.failure, 'dumping table data', 'MYSQL_DUMP_FAILED');

  return states
    .map((state) => {
      const ordered = [...state.chunks.values()].sort((a, b) => a.index - b.index);
      if (ordered.some((chunk, i) => chunk.index !== i)) {
        throw new PermanentError(`chunks of ${describe(state.table)} are not contiguous`, { code: 'MYSQL_DUMP_FAILED', engine: ENGINE });
      }
      const digest = new TableDigest();
      for (const chunk of ordered) digest.merge(chunk.digest);
      return { table: state.table, rows: digest.rows, digest: digest.hex(), chunks: ordered.map((c) => c.artifact) };
    })
    .sort((a, b) => (a.table.database === b.table.database ? compare(a.table.table, b.table.table) : compare(a.table.database, b.table.database)));
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Reads a chunk back (gunzip, split lines, {@link decodeLine}) into the digest of its rows.
 * @throws when the chunk is unreadable, not gzip, corrupt, or does not end with a complete line.
 */
export async function digestChunk(input: Readable, name: string): Promise<TableDigest> {
  const digest = new TableDigest();
  let partial: Buffer[] = []; // the pieces of a line not yet ended (a wide row spans many)
  const gunzip = input.pipe(createGunzip({ chunkSize: 256 * 1024 }));
  input.on('error', (error) => gunzip.destroy(error));
  for await (const piece of gunzip as AsyncIterable<Buffer>) {
    let start = 0;
    for (let lf = piece.indexOf(0x0a); lf !== -1; lf = piece.indexOf(0x0a, start)) {
      const end = piece.subarray(start, lf);
      digest.add(decodeLine(partial.length > 0 ? Buffer.concat([...partial, end]) : end));
      partial = [];
      start = lf + 1;
    }
    if (start < piece.length) partial.push(piece.subarray(start));
  }
  if (partial.length > 0) throw new Error(`${name} ends inside a row (${partial.reduce((n, p) => n + p.length, 0)} bytes after the last line)`);
  return digest;
}
