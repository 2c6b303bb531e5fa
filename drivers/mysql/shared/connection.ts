/**
 * Connections to a MySQL/MariaDB server, set up the way the driver reads and writes data: results
 * as raw bytes (`character_set_results = binary`, every value a Buffer) while statements and the
 * names in them stay UTF-8, big numbers as strings, LOAD DATA LOCAL enabled, session time zone UTC
 * so TIMESTAMP values read and write the same instant, and one SQL mode whatever the server's
 * default (see {@link DATA_SESSION}).
 */
import { createConnection, type Connection, type ConnectionOptions } from 'mysql2/promise';
import { ER_UNKNOWN_SYSTEM_VARIABLE, errnoOf, toMysqlError } from './errors';

export interface ConnectionSettings {
  host: string;
  port: number;
  socketPath?: string;
  user: string;
  password?: string;
  connectTimeoutMs: number;
}

/** mysql2 options for `settings` (no database selected). */
export function connectionOptions(settings: ConnectionSettings, extra: Partial<ConnectionOptions> = {}): ConnectionOptions {
  return {
    ...(settings.socketPath ? { socketPath: settings.socketPath } : { host: settings.host, port: settings.port }),
    user: settings.user,
    password: settings.password,
    connectTimeout: settings.connectTimeoutMs,
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
    multipleStatements: true,
    timezone: 'Z',
    // No stack captured at each query for its error (~50 µs each: 50 ms of a 1 000-table restore): our errors say what failed where.
    trace: false,
    ...extra,
  };
}

/** Where a server is, for messages (never the password): `user@host:port` or `user@socket`. */
export function describeServer(settings: Pick<ConnectionSettings, 'user' | 'host' | 'port' | 'socketPath'>): string {
  return settings.socketPath ? `${settings.user}@${settings.socketPath}` : `${settings.user}@${settings.host}:${settings.port}`;
}

/**
 * Runs `fn` on a new (text) connection and always closes it. A failed login is classified as
 * `cannot connect to <server> <connecting>` (`MYSQL_CONNECT_FAILED` when not auth/unavailable),
 * an error of `fn` as `<doing> on <server>` (errors.ts); classified errors pass through.
 */
export async function withConnection<T>(
  settings: ConnectionSettings, what: { connecting: string; doing: string }, fn: (connection: Connection) => Promise<T>,
): Promise<T> {
  const where = describeServer(settings);
  let connection: Connection;
  try {
    connection = await createConnection(connectionOptions(settings));
  } catch (error) {
    throw toMysqlError(error, `cannot connect to ${where} ${what.connecting}`, 'MYSQL_CONNECT_FAILED');
  }
  try {
    return await fn(connection);
  } catch (error) {
    throw toMysqlError(error, `${what.doing} on ${where}`);
  } finally {
    await connection.end().catch(() => undefined);
  }
}

/**
 * The session of every connection that reads or writes table data (dump, load, digests).
 *
 * - `character_set_results = binary`: values arrive as the bytes stored, no conversion. Not `SET
 *   NAMES binary`: the client would then be binary too, and mysql2 (which follows the session's
 *   `character_set_client`) would send each character of a statement as one byte, cutting every
 *   non-ASCII database, table or column name to its low byte.
 * - `time_zone = '+00:00'`: TIMESTAMP values are read and written as the same instant, whatever
 *   either server's zone, and no local time is ambiguous.
 * - `sql_mode`: the same on every server, whatever its default. Not strict, and with
 *   `ALLOW_INVALID_DATES` and no `NO_ZERO_DATE` / `NO_ZERO_IN_DATE`, so every value a source held
 *   (`2024-02-30`, zero dates, an ENUM's error value) loads; a load reports any value the server
 *   changes as a warning, and the loader fails on warnings (chunk-load.ts). `NO_AUTO_VALUE_ON_ZERO`
 *   keeps a stored 0 in an AUTO_INCREMENT column. No `PAD_CHAR_TO_FULL_LENGTH`,
 *   `EMPTY_STRING_IS_NULL` or `NO_BACKSLASH_ESCAPES` from a server's default.
 */
export const DATA_SESSION =
  "SET character_set_client = utf8mb4, character_set_connection = utf8mb4, character_set_results = binary, time_zone = '+00:00', " +
  "SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO,ALLOW_INVALID_DATES,NO_ENGINE_SUBSTITUTION'";

/** A connection for reading and writing table data as raw bytes ({@link DATA_SESSION}), without a statement time limit. */
export function openDataConnection(settings: ConnectionSettings, extra: Partial<ConnectionOptions> = {}): Promise<Connection> {
  return openSession(settings, extra, [DATA_SESSION]);
}

/** A text (utf8mb4) connection for locks, status statements and the catalog, without a statement time limit. */
export function openTextConnection(settings: ConnectionSettings): Promise<Connection> {
  return openSession(settings, {}, []);
}

/** A utf8mb4 connection after `statements`, its statement time limit lifted; closed again when that fails. */
async function openSession(settings: ConnectionSettings, extra: Partial<ConnectionOptions>, statements: string[]): Promise<Connection> {
  const connection = await createConnection(connectionOptions(settings, { charset: 'utf8mb4', ...extra }));
  try {
    for (const statement of statements) await connection.query(statement);
    await liftStatementTimeLimit(connection);
  } catch (error) {
    connection.destroy();
    throw error;
  }
  return connection;
}

/** The variables of a server's limit on a statement's time: MariaDB's (all statements), MySQL's (SELECTs, 5.7.8+). */
const STATEMENT_TIME_LIMITS = ['max_statement_time', 'max_execution_time'];

/**
 * Lifts the server's limit on a statement's time for this session: a server-wide limit meant for
 * runaway application queries (`SET GLOBAL max_statement_time = 1`) would interrupt every dump,
 * load and read-back of a big table, on every retry. Each server knows one of the two variables
 * (MySQL 5.7.4–5.7.7 named its own `max_statement_time`) and refuses the other as unknown: the
 * first it takes is the one. MariaDB's first, so it answers no error (an error costs a round trip
 * and, with source maps on, the stack trace mysql2 captures).
 */
export async function liftStatementTimeLimit(connection: Connection): Promise<void> {
  for (const variable of STATEMENT_TIME_LIMITS) {
    try {
      await connection.query(`SET SESSION ${variable} = 0`);
      return;
    } catch (error) {
      if (errnoOf(error) !== ER_UNKNOWN_SYSTEM_VARIABLE) throw error;
    }
  }
}

/** Backquotes an identifier. */
export function quoteId(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}

/**
 * The callback connection under mysql2's promise wrapper (which streams nothing): what the raw row
 * readers drive (row-packet.ts, result-reader.ts). A mysql2 internal, covered by their tests.
 */
export function callbackConnection(connection: Connection): import('mysql2').Connection {
  return (connection as unknown as { connection: import('mysql2').Connection }).connection;
}
