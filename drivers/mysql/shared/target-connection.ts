/**
 * Connections to a logical restore target, with the failures an operator must be able to tell
 * apart: wrong credentials (permanent, `AUTH_FAILED`), a server that cannot be reached right now
 * (transient, `MYSQL_UNAVAILABLE`), and errors while applying a backup, classified (errors.ts) so
 * the state machine retries only what a retry can cure (lost connections, deadlocks, lock waits).
 */
import { createConnection, type Connection } from 'mysql2/promise';
import { TransientError, type ClassifiedError } from '../../../core/errors';
import { connectionOptions, describeServer, liftStatementTimeLimit, openDataConnection, type ConnectionSettings } from './connection';
import { toMysqlError } from './errors';
import { ENGINE } from './layout';

/**
 * Classifies an error raised while talking to the target ({@link toMysqlError}: auth, privileges,
 * unavailable, busy), prefixed with what was being done (`loading shop.orders chunk 3/5`);
 * unrecognised errors become PermanentError `code`.
 */
export function classifyTargetError(error: unknown, doing: string, code = 'MYSQL_RESTORE_FAILED'): ClassifiedError {
  return toMysqlError(error, doing, code);
}

/**
 * Where a restore writes: a server, and whether what the restore writes goes to its binary log
 * (absent: it does, the server's own setting).
 */
export interface TargetSettings extends ConnectionSettings {
  binlog?: boolean;
}

/** The session setting that keeps a restore out of the target's binary log, when asked to. */
function binlogSetting(settings: TargetSettings): string {
  return settings.binlog === false ? ', sql_log_bin = 0' : '';
}

/** Classifies a failed login: auth → PermanentError `AUTH_FAILED`, unreachable → TransientError `MYSQL_UNAVAILABLE`. */
function connectError(error: unknown, settings: ConnectionSettings): ClassifiedError {
  const where = describeServer(settings);
  const missingSocket = (error as { code?: unknown }).code === 'ENOENT' && settings.socketPath !== undefined;
  if (missingSocket) {
    return new TransientError(`cannot connect to restore target ${where}: the socket does not exist`, { code: 'MYSQL_UNAVAILABLE', engine: ENGINE, cause: error });
  }
  return toMysqlError(error, `cannot connect to restore target ${where}`, 'MYSQL_CONNECT_FAILED');
}

/**
 * A connection for schema statements: utf8mb4 (the schema artifacts are UTF-8 text), the dump's
 * baseline session (`NO_AUTO_VALUE_ON_ZERO`, no foreign key checks, so tables can be created in
 * any order), time zone UTC, out of the binary log when `settings.binlog` is false.
 */
export async function openSchemaConnection(settings: TargetSettings): Promise<Connection> {
  let connection: Connection;
  try {
    connection = await createConnection(connectionOptions(settings, { charset: 'utf8mb4' }));
  } catch (error) {
    throw connectError(error, settings);
  }
  try {
    await connection.query(SCHEMA_SESSION + binlogSetting(settings));
    await liftStatementTimeLimit(connection); // building a big table's indexes is one statement
  } catch (error) {
    await connection.end().catch(() => undefined);
    throw classifyTargetError(error, `setting up a schema session on ${describeServer(settings)}`);
  }
  return connection;
}

/**
 * The session every schema file starts from (schema files may SET their own modes on top): UTC, as
 * the schema was read (schema-capture.ts); a table whose engine the server lacks is refused, not
 * made with the default one (`NO_ENGINE_SUBSTITUTION`: a FEDERATED table would become a local one).
 */
export const SCHEMA_SESSION =
  "SET NAMES utf8mb4, time_zone = '+00:00', SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION', foreign_key_checks = 0, unique_checks = 0, autocommit = 1";

/**
 * A connection for loading rows: raw bytes ({@link openDataConnection}), every statement committed
 * (`autocommit` on, whatever the server's default: a load read back on its own connection must be
 * the load every other session sees), foreign key and unique
 * checks off for this session only (the data was consistent at the source), CHECK constraints too
 * on MariaDB (MySQL enforces them on every write: a source row that breaks one cannot load), and every warning of a
 * statement kept (the most a server keeps) so the loader can tell each one. Binary logging stays
 * on, so replicas of the target follow the restore, unless `settings.binlog` is false.
 */
export async function openLoadConnection(settings: TargetSettings): Promise<Connection> {
  let connection: Connection;
  try {
    connection = await openDataConnection(settings);
  } catch (error) {
    throw connectError(error, settings);
  }
  try {
    await connection.query(`SET autocommit = 1, foreign_key_checks = 0, unique_checks = 0, max_error_count = 65535${binlogSetting(settings)}`);
    // MariaDB only (an executable comment MySQL skips): rows the source holds despite a CHECK
    // constraint (checks off when written, or a constraint added later) load as they are.
    await connection.query('/*M!100201 SET check_constraint_checks = 0 */');
  } catch (error) {
    await connection.end().catch(() => undefined);
    throw classifyTargetError(error, `setting up a load session on ${describeServer(settings)}`);
  }
  return connection;
}

/** A raw-bytes connection for reading the restored tables back (validation). */
export async function openReadConnection(settings: ConnectionSettings): Promise<Connection> {
  try {
    return await openDataConnection(settings);
  } catch (error) {
    throw connectError(error, settings);
  }
}
