/**
 * The read pipeline of a logical backup: the rows of one table, or of one key range of it (or of
 * several small tables, one query for all), read from a worker's consistent read view and written
 * as chunk files. Which tables, how they are cut, in what order and on which worker is
 * dump-planner.ts.
 *
 * - Rows are read (every column by name, invisible ones included) as the server's row packets,
 *   straight off the socket (result-reader.ts); batches of them are encoded into dump lines,
 *   digested and compressed (chunk-codec.ts) by the encoder threads (encode-pool.ts), and the
 *   frames hashed on their way to the sink (the store, or the spool). Memory is bounded by the
 *   read-ahead of each result and the batches in flight (backpressure reaches the server's
 *   socket), never by a table's size nor by the width of its rows: the read-ahead, each batch and
 *   the batches in flight are bounded in bytes as well as in rows.
 * - Each chunk's rows feed a {@link TableDigest}.
 * - A task whose write fails (disk, stream, encoder) is run again alone ({@link withWriteRetries}),
 *   on the same worker and snapshot. A failure of the worker's connection fails with a
 *   TransientError: a lost snapshot cannot be re-joined, the state machine retries the backup.
 */
import { Readable, type Transform } from 'node:stream';
import type { Connection } from 'mysql2/promise';
import type { ArtifactSink } from '../../../core/driver/artifact-sink';
import type { ArtifactRef } from '../../../core/driver/types';
import { PermanentError, TransientError } from '../../../core/errors';
import type { Logger } from '../../../core/logger';
import { withRetry } from '../../../core/resilience/retry';
import { quoteId } from '../shared/connection';
import { ER_BAD_FIELD_ERROR, ER_NO_SUCH_TABLE, errnoOf, mapMysqlError, toMysqlError } from '../shared/errors';
import { emptyChunk } from '../shared/chunk-codec';
import { ENGINE, chunkArtifact } from '../shared/layout';
import type { EncodePool, EncodedBatch, Projection } from '../shared/encode-pool';
import { BATCH, READ_AHEAD, type RowBudget } from '../shared/row-packet';
import { readResult, readResults } from '../shared/result-reader';
import type { ResultRows } from '../shared/result-rows';
import type { FramedBatch } from '../shared/framed-batch';
import { selectRows, whereSql } from '../shared/table-reader';
import type { ColumnInfo } from '../shared/table-columns';
import { TableDigest } from '../shared/table-digest';

/** What the pipeline reads of a table: where it is, its columns, the key its ranges are cut by. */
export interface TableSource {
  database: string;
  table: string;
  /** The single integer primary key column, when there is one. */
  splitKey?: string;
  /** The columns dumped, in order (table-columns.ts: invisible ones included). */
  columns: ColumnInfo[];
  /**
   * Only the rows matching this SQL condition (an incremental's new rows: `added_id > 41 OR
   * added_id BETWEEN 7 AND 9`); every row when absent. Built by the caller from trusted values.
   */
  where?: string;
  /**
   * A second digest of the dumped rows, of the columns named `keep` and the sha256 of the column
   * `hashed` (encode-pool.ts {@link Projection}): a summary the engine would otherwise read again.
   */
  projection?: { keep: readonly string[]; hashed: string };
}

/** `t.projection` as column indexes of the dumped rows. */
function projectedColumns(t: TableSource): Projection | undefined {
  if (!t.projection) return undefined;
  const index = (column: string) => {
    const found = t.columns.findIndex((c) => c.name === column);
    if (found < 0) throw new PermanentError(`${t.database}.${t.table} has no column ${column} to summarise`, { code: 'MYSQL_DUMP_FAILED', engine: ENGINE });
    return found;
  };
  return { keep: t.projection.keep.map(index), hashed: index(t.projection.hashed) };
}

/** `t`'s row filter combined with `conditions`, as a WHERE clause ('' for none). */
export function whereClause(t: TableSource, conditions: string[] = []): string {
  return whereSql(conditionsOf(t, conditions));
}

/** `conditions` and `t`'s row filter, if any. */
const conditionsOf = (t: TableSource, conditions: string[] = []): string[] => [...conditions, ...(t.where !== undefined ? [`(${t.where})`] : [])];

/**
 * An extra stage a chunk's compressed bytes pass through on their way to the sink (a new stream
 * per chunk). A seam for tests (failure injection); the dump uses none.
 */
export type ChunkStage = (chunk: string) => Transform;

/** One written chunk: its artifact and the digest of exactly the rows in it (and of them projected, with a projection). */
export interface WrittenChunk {
  artifact: ArtifactRef;
  digest: TableDigest;
  projected?: TableDigest;
}

/** Raised when writing a chunk failed on our side (disk, stream, encoder), not the server's: worth retrying. */
class ChunkWriteError extends TransientError {}
/** A chunk the store or spool refused for good (no space, access denied, a name it cannot hold): not retried. */
class ChunkRefusedError extends PermanentError {}


/** What the pipeline writes to, and how. */
export interface PipelineOptions {
  sink: ArtifactSink;
  /** A chunk ends after this many rows, or with the row that takes it to `chunkBytes` of row packets. */
  chunkRows: number;
  chunkBytes: number;
  pool: EncodePool;
  stage?: ChunkStage;
  /**
   * Each batch waits for as many rows as it holds, or for the result's end or its read-ahead
   * (ResultRows `take`'s `whole`): a small table's rows are one batch, one encoding and one
   * frame — written in one call (`wholeIfOneFrame`) — however many socket reads they came in.
   */
  wholeBatches?: boolean;
}

/**
 * The batches of one chunk being encoded, oldest first: at most two per encoder thread, and no
 * new one while those hold as many bytes as that many full batches — so rows wider than a batch
 * are encoded a few at a time, not two per thread.
 */
class EncodeWindow {
  private readonly pending: Array<{ encoding: Promise<EncodedBatch>; bytes: number }> = [];
  private bytes = 0;
  private readonly maxBatches: number;

  constructor(private readonly pool: EncodePool, private readonly projection: Projection | undefined) {
    this.maxBatches = 2 * pool.size;
  }

  get full(): boolean {
    return this.pending.length >= this.maxBatches || this.bytes >= this.maxBatches * BATCH.bytes;
  }

  /** Hands `batch` to the encoder threads. */
  submit(batch: FramedBatch): void {
    const encoding = this.pool.encode(batch, this.projection);
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
 * Writes rows of `result` as chunk `name`, up to `options.chunkRows` of them and `options.chunkBytes`
 * of their packets: batches of rows go to the encoder threads
 * (encode-pool.ts: lines, digest, frame) while the result keeps being read; their frames are
 * written in order. Errors of the result (the server) are rethrown as they are; errors of the
 * write side become {@link ChunkWriteError}.
 */
async function writeChunk(sink: ArtifactSink, name: string, result: ResultRows, projection: Projection | undefined, options: PipelineOptions): Promise<WrittenChunk> {
  const digest = new TableDigest();
  const projected = projection ? new TableDigest() : undefined;
  let remaining = options.chunkRows;
  let bytesLeft = options.chunkBytes;
  let empty = true;
  async function* members(): AsyncGenerator<Buffer> {
    const inFlight = new EncodeWindow(options.pool, projection);
    for (;;) {
      while (remaining > 0 && !inFlight.full) {
        const batch = await result.take({ rows: Math.min(remaining, BATCH.rows), bytes: Math.min(BATCH.bytes, bytesLeft) }, (size) => options.pool.packetBuffer(size), { whole: options.wholeBatches });
        if (batch.count === 0) {
          remaining = 0;
          break;
        }
        remaining -= batch.count;
        bytesLeft -= batch.bytes;
        if (bytesLeft <= 0) remaining = 0;
        inFlight.submit(batch);
      }
      const encoded = await inFlight.next();
      if (!encoded) break;
      digest.mergeSum(encoded.sum, encoded.rows);
      if (encoded.projected) projected!.mergeSum(encoded.projected.sum, encoded.projected.rows);
      empty = false;
      yield encoded.frame;
    }
    if (empty) yield emptyChunk();
  }
  try {
    const stages = options.stage ? [options.stage(name)] : [];
    const artifact = await sink.write(name, await wholeIfOneFrame(members()), ...stages);
    return { artifact, digest, ...(projected ? { projected } : {}) };
  } catch (error) {
    if (result.error !== undefined) throw result.error;
    if (error instanceof PermanentError) {
      // The store or spool refused for good (no space, access denied, a name it cannot hold): not worth a retry.
      throw new ChunkRefusedError(`writing ${name} failed: ${error.message}`, { code: error.code, engine: ENGINE, cause: error });
    }
    throw new ChunkWriteError(`writing ${name} failed: ${error instanceof Error ? error.message : String(error)}`, { code: 'CHUNK_WRITE_FAILED', engine: ENGINE, cause: error });
  }
}

/**
 * A chunk's frames as one Buffer when there is only one (a small table's whole chunk: written in
 * one call, no stream — a schema of 1 000 small tables is 1 000 of them), else as a stream.
 * Waits for the second frame before the first is written: one frame more held, a batch's worth.
 */
async function wholeIfOneFrame(frames: AsyncGenerator<Buffer>): Promise<Buffer | Readable> {
  const first = await frames.next();
  if (first.done) return Buffer.alloc(0);
  const second = await frames.next();
  if (second.done) return first.value;
  return Readable.from((async function* all() {
    yield first.value;
    yield second.value;
    yield* frames;
  })(), { objectMode: false, highWaterMark: 256 * 1024 });
}

/** A key range of a split table: `from <= key < to` (either side open when absent), decimal literals. */
export interface KeyRange {
  from?: string;
  to?: string;
}

/** `t` as a qualified, quoted name. */
export const qualifiedName = (t: TableSource): string => `${quoteId(t.database)}.${quoteId(t.table)}`;

/** The rows of a range of `t`, in key order; every row of `t`, in the server's order, without a range. */
export function rangeQuery(t: TableSource, range?: KeyRange): string {
  if (range === undefined) return selectRows(t, t.columns, conditionsOf(t));
  return `${selectRows(t, t.columns, conditionsOf(t, rangeConditions(t.splitKey!, range)))} ORDER BY ${quoteId(t.splitKey!)}`;
}

/** The conditions of key range `range` of column `key`: `key >= from`, `key < to` (none for an open side). */
export function rangeConditions(key: string, range: KeyRange): string[] {
  return [range.from !== undefined ? `${quoteId(key)} >= ${range.from}` : '', range.to !== undefined ? `${quoteId(key)} < ${range.to}` : ''].filter(Boolean);
}

/**
 * Dumps key range `index` of `t` (the whole table, as range 0, without `range`) in one stream,
 * a new chunk (part) every `chunkRows` rows or `chunkBytes` of them: at least one chunk, in order.
 */
export function dumpRange(worker: Connection, t: TableSource, index: number, range: KeyRange | undefined, options: PipelineOptions): Promise<WrittenChunk[]> {
  return dumpRows(readResult(worker, rangeQuery(t, range)), t, index, options);
}

/**
 * Dumps each of `tables` whole (as range 0) with one query, their SELECTs sent together: what a
 * schema of many small tables spends per table on the client's thread and the server's (a query
 * written, a result header, a wakeup each side) is paid once per query. Each table still streams
 * into chunks of its own, at once, its rows held back at the server as any table's. Each table's
 * outcome, in order: its chunks, or what stopped it (a statement's error stops the tables after it).
 */
export function dumpWholeTables(worker: Connection, tables: TableSource[], options: PipelineOptions): Promise<Array<PromiseSettledResult<WrittenChunk[]>>> {
  const results = readResults(worker, tables.map((t) => rangeQuery(t)), sharedReadAhead(tables.length));
  return Promise.allSettled(tables.map((t, i) => dumpRows(results[i], t, 0, { ...options, wholeBatches: true })));
}

/**
 * The read-ahead of each of `tables` tables read by one query: one table's, shared (a result ended
 * but not yet written keeps what it read ahead while the next one reads), with a floor. Smaller
 * read-ahead means smaller batches, so the batches in flight shrink with it: tables the server
 * thought small that are not hold what one table would.
 */
function sharedReadAhead(tables: number): RowBudget {
  return { rows: Math.max(64, Math.ceil(READ_AHEAD.rows / tables)), bytes: Math.max(256 * 1024, Math.ceil(READ_AHEAD.bytes / tables)) };
}

/** Writes the rows of range `index` of `t` from `result`, a new chunk every `chunkRows` rows or `chunkBytes` of them: at least one chunk. */
async function dumpRows(result: ResultRows, t: TableSource, index: number, options: PipelineOptions): Promise<WrittenChunk[]> {
  const chunks: WrittenChunk[] = [];
  try {
    do {
      chunks.push(await writeChunk(options.sink, chunkArtifact(t.database, t.table, index, chunks.length), result, projectedColumns(t), options));
    } while (await result.hasMore());
    return chunks;
  } finally {
    result.close();
  }
}

/**
 * Runs `attempt` with in-process retries of write failures. Server/connection errors are not
 * retried here (the snapshot is gone with a lost connection): they fail the task, classified.
 */
export async function withWriteRetries<T>(what: string, retries: number, logger: Logger, attempt: () => Promise<T>): Promise<T> {
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
    throw dumpServerError(what, serverError);
  }
}

/**
 * What DDL during a backup did, from the server's error when a statement met it: a table gone
 * (ER_NO_SUCH_TABLE), a column gone or renamed (ER_BAD_FIELD_ERROR); undefined for any other error.
 */
function schemaChange(serverError: unknown): string | undefined {
  const code = errnoOf(serverError);
  if (code === ER_NO_SUCH_TABLE) return 'the table disappeared';
  if (code === ER_BAD_FIELD_ERROR) return 'a column of the table was dropped or renamed';
  return undefined;
}

/**
 * A server error of a dump task (reading rows, or finding a table's chunk ranges), classified: a
 * table or column gone is DDL during the backup, a lost connection a snapshot that cannot be re-joined (both
 * transient: the backup starts again), anything else as errors.ts says.
 */
export function dumpServerError(what: string, serverError: unknown): Error {
  const changed = schemaChange(serverError);
  if (changed) {
    return new TransientError(`${what}: ${changed} during the backup (DDL while backing up: ${(serverError as Error).message}); retry the backup`,
      { code: 'MYSQL_SCHEMA_CHANGED', engine: ENGINE, cause: serverError });
  }
  const mapped = mapMysqlError(serverError);
  if (mapped instanceof TransientError && mapped.code === 'MYSQL_UNAVAILABLE') {
    return new TransientError(`${what}: a worker lost its connection, and a consistent snapshot cannot be re-joined; the backup must start again (${mapped.message})`,
      { code: 'MYSQL_UNAVAILABLE', engine: ENGINE, cause: serverError });
  }
  return toMysqlError(serverError, what, 'MYSQL_DUMP_FAILED');
}
