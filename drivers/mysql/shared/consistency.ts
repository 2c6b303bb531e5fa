/**
 * One read view for every worker of a logical backup, and the binary log coordinates of exactly
 * that point.
 *
 * On the control connection commits are blocked for as short as possible ({@link commitBlockPlan}:
 * `BACKUP STAGE BLOCK_COMMIT` on MariaDB ≥ 10.4, `FLUSH TABLES WITH READ LOCK` otherwise); while
 * they are, every worker opens `START TRANSACTION WITH CONSISTENT SNAPSHOT` (REPEATABLE READ) and
 * the control connection reads the binlog file/position and GTID position; then the lock is
 * released. All workers therefore see the same committed state, the one at the recorded position.
 *
 * When non-transactional tables (MyISAM, Aria, MEMORY...) are in scope, the read lock is kept
 * until the caller has dumped them ({@link ConsistentSnapshot.release}): their rows are read while
 * nobody can write, at the same point.
 *
 * On MariaDB each worker's own `binlog_snapshot_file/position` (the exact commit point of its
 * read view) is compared with the recorded coordinates: a difference fails the step with a
 * TransientError instead of recording a wrong position.
 */
import type { Connection } from 'mysql2/promise';
import { TransientError } from '../../../core/errors';
import type { Logger } from '../../../core/logger';
import { quoteId } from './connection';
import { ER_NO_SUCH_TABLE, errnoOf, toMysqlError } from './errors';
import { ENGINE, type MysqlConsistency } from './layout';
import { binlogStatusPlan, commitBlockPlan, snapshotBinlogPlan, type ServerVersion } from './version';
import { catalogText } from './catalog-text';

/** Seconds a lock statement may wait for other sessions' locks before failing (transient). */
export const LOCK_WAIT_TIMEOUT_SECONDS = 60;

export interface ConsistentSnapshot {
  /** The point the workers see. `lockMs` is final once {@link release} has resolved. */
  consistency: MysqlConsistency;
  /** True while the control connection still holds the lock. */
  readonly locked: boolean;
  /** Releases the lock (idempotent) and records how long it was held. */
  release(): Promise<void>;
}

type Row = Record<string, unknown>;

async function firstRow(connection: Connection, sql: string, values: unknown[] = []): Promise<Row | undefined> {
  const [rows] = await connection.query(sql, values) as [Row[], unknown];
  return rows[0];
}

async function scalar(connection: Connection, sql: string, values: unknown[] = []): Promise<string> {
  const row = await firstRow(connection, sql, values);
  return row ? catalogText(Object.values(row)[0]) : '';
}

/** `SHOW ... STATUS LIKE` rows as a name → value map. */
async function statusMap(connection: Connection, sql: string): Promise<Map<string, string>> {
  const [rows] = await connection.query(sql) as [Row[], unknown];
  return new Map(rows.map((r) => [catalogText(r.Variable_name).toLowerCase(), catalogText(r.Value)]));
}

export interface OpenSnapshotOptions {
  /** Non-transactional tables are in scope: take FLUSH TABLES WITH READ LOCK and keep it until release. */
  nonTransactional: boolean;
  logger: Logger;
  /**
   * Tables the backup reads: held (a shared metadata lock in every worker's transaction, taken
   * while commits and DDL are blocked) until the workers' transactions end, so that none can be
   * altered, renamed or dropped between the read view opening and its rows being read — a
   * consistent read does not see such DDL, and would read another table, or other columns, under
   * the name (found by a hostile test: two tables swapped by RENAME under the snapshot were backed
   * up each under the other's name).
   */
  hold?: ReadonlyArray<{ database: string; table: string }>;
  /**
   * Runs on the control connection once the workers' read views are open, before the lock is
   * released: while nobody commits or changes a table (none is taken where none is needed: one
   * worker, no binary log). What it throws fails the snapshot.
   */
  whileLocked?: (control: Connection) => Promise<void>;
}

/**
 * Opens the consistent snapshot on `workers` (each left inside its transaction) and records its
 * point. Without non-transactional tables the lock is already released when this resolves.
 *
 * No lock at all is taken when it cannot matter: a single worker, no non-transactional table and
 * binary logging off (one transaction is consistent by itself and there are no coordinates to align).
 *
 * @throws PermanentError `MYSQL_PRIVILEGES` naming RELOAD / BINLOG MONITOR when the lock or status
 *   statements are refused; TransientError `MYSQL_BUSY` when the lock waits too long, and
 *   `SNAPSHOT_MISMATCH` when a worker's read view is not the recorded point.
 */
export async function openConsistentSnapshot(
  control: Connection,
  workers: Connection[],
  version: ServerVersion,
  options: OpenSnapshotOptions,
): Promise<ConsistentSnapshot> {
  const binlogEnabled = (await scalar(control, 'SELECT @@GLOBAL.log_bin')) === '1';
  const plan = commitBlockPlan(version, { nonTransactional: options.nonTransactional });
  // BACKUP STAGE also blocks DDL until the tables are held, and costs next to nothing: taken whenever tables are held.
  const needsLock = options.nonTransactional || workers.length > 1 || binlogEnabled || (plan.kind === 'backup-stage' && (options.hold?.length ?? 0) > 0);
  const status = binlogStatusPlan(version);

  for (const worker of workers) {
    await worker.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
  }
  const consistency: MysqlConsistency = {
    flavor: version.flavor,
    serverVersion: version.text,
    lockMs: 0,
    lock: needsLock ? plan.kind : 'none',
    binlogEnabled,
  };

  let lockedAt: number | undefined;
  let releasing: Promise<void> | undefined;
  const release = (): Promise<void> => {
    releasing ??= (async () => {
      if (lockedAt === undefined) return;
      try {
        for (const sql of plan.release) await control.query(sql);
      } catch (error) {
        throw toMysqlError(error, `releasing ${plan.kind}`);
      }
      consistency.lockMs = Date.now() - lockedAt;
      lockedAt = undefined;
      options.logger.info('mysql backup: lock released', { lock: plan.kind, lockMs: consistency.lockMs });
    })();
    return releasing;
  };

  try {
    // Opened once before the lock, so that holding them under it finds them in the table cache.
    if (options.hold && workers.length > 0) await holdTables(control, options.hold, HOLD_LOCK_WAIT_SECONDS);
    if (needsLock) {
      await control.query(`SET SESSION lock_wait_timeout = ${LOCK_WAIT_TIMEOUT_SECONDS}`);
      for (const sql of plan.prepare) await control.query(sql).catch((error: unknown) => { throw toMysqlError(error, `preparing the lock (${sql}; needs ${plan.privilege})`); });
      lockedAt = Date.now();
      try {
        for (const sql of plan.acquire) await control.query(sql);
      } catch (error) {
        lockedAt = undefined;
        throw toMysqlError(error, `blocking commits (${plan.acquire.join('; ')}; needs ${plan.privilege})`);
      }
    }
    await Promise.all(workers.map((worker) => worker.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY')));
    if (binlogEnabled) {
      let row: Row | undefined;
      try {
        row = await firstRow(control, status.status);
      } catch (error) {
        throw toMysqlError(error, `reading the binary log position (${status.status}; needs ${status.privilege})`);
      }
      if (row) {
        consistency.binlogFile = catalogText(row.File);
        consistency.binlogPosition = Number(catalogText(row.Position));
        const gtid = status.gtidQuery ? await scalar(control, status.gtidQuery) : catalogText(row[status.gtidColumn ?? '']);
        if (gtid.length > 0) consistency.gtid = gtid.replace(/\s+/g, '');
      }
    }
    consistency.snapshotAt = new Date().toISOString();
    if (options.hold && workers.length > 0) await Promise.all(workers.map((worker) => holdTables(worker, options.hold!, HOLD_LOCK_WAIT_SECONDS)));
    await options.whileLocked?.(control);
    if (!options.nonTransactional) await release();
    await verifyWorkerSnapshots(workers, version, consistency);
  } catch (error) {
    await release().catch(() => undefined);
    throw toMysqlError(error, 'opening the consistent snapshot');
  }
  return {
    consistency,
    get locked() {
      return lockedAt !== undefined;
    },
    release,
  };
}

/** Tables held per statement: each statement opens its tables at once. */
const HOLD_BATCH = 256;

/**
 * Seconds a worker waits for a table's metadata lock while it holds the tables, commits blocked
 * meanwhile: a table locked by `LOCK TABLES … WRITE`, or an `ALTER` about to swap it in, fails the
 * step (`MYSQL_BUSY`, retried) rather than stall every commit on the server.
 */
const HOLD_LOCK_WAIT_SECONDS = 10;

/**
 * Takes a shared metadata lock on each of `tables` (a statement that opens them and reads no row).
 * In a worker's transaction, held until it ends: DDL on them then waits for the backup. Every
 * worker holds every table: a worker that asked for a table's lock only when it came to read it
 * would queue behind DDL waiting for another worker's, which waits for the dump — a hang no
 * deadlock detector sees. Waits at most `lockWaitSeconds` for a lock, then goes back to the
 * session's default (its later reads ask for no lock it does not hold).
 * @throws TransientError `MYSQL_SCHEMA_CHANGED` when one no longer exists (DDL before the lock), `MYSQL_BUSY` when a lock wait timed out
 */
async function holdTables(connection: Connection, tables: ReadonlyArray<{ database: string; table: string }>, lockWaitSeconds: number): Promise<void> {
  await connection.query(`SET SESSION lock_wait_timeout = ${lockWaitSeconds}`);
  for (let at = 0; at < tables.length; at += HOLD_BATCH) {
    const batch = tables.slice(at, at + HOLD_BATCH);
    try {
      await connection.query(batch.map((t) => `SELECT 1 FROM ${quoteId(t.database)}.${quoteId(t.table)} WHERE 0`).join(' UNION ALL '));
    } catch (error) {
      if (errnoOf(error) !== ER_NO_SUCH_TABLE) throw toMysqlError(error, 'holding the tables backed up');
      throw new TransientError(`a table listed for the backup is gone (DDL while backing up: ${(error as Error).message}); retry the backup`, { code: 'MYSQL_SCHEMA_CHANGED', engine: ENGINE, cause: error });
    }
  }
  await connection.query('SET SESSION lock_wait_timeout = DEFAULT');
}

/**
 * MariaDB: every worker's `binlog_snapshot_file/position` must equal the recorded coordinates.
 * A no-op on MySQL (no such status) and when binary logging is off.
 */
async function verifyWorkerSnapshots(workers: Connection[], version: ServerVersion, consistency: MysqlConsistency): Promise<void> {
  const plan = snapshotBinlogPlan(version);
  if (!plan || consistency.binlogFile === undefined) return;
  const seen = await Promise.all(workers.map(async (worker) => {
    const status = await statusMap(worker, plan.status);
    return { file: status.get('binlog_snapshot_file') ?? '', position: Number(status.get('binlog_snapshot_position') ?? NaN) };
  }));
  const wrong = seen.findIndex((s) => s.file !== consistency.binlogFile || s.position !== consistency.binlogPosition);
  if (wrong !== -1) {
    throw new TransientError(
      `worker ${wrong + 1}'s snapshot is at ${seen[wrong].file}:${seen[wrong].position}, not at the recorded ${consistency.binlogFile}:${consistency.binlogPosition}; retry the backup`,
      { code: 'SNAPSHOT_MISMATCH', engine: ENGINE },
    );
  }
  consistency.verifiedWorkers = workers.length;
}
