/**
 * Connections to a MySQL/MariaDB server, set up the way the driver reads and writes data: raw
 * bytes (`SET NAMES binary`, every value a Buffer), big numbers as strings, LOAD DATA LOCAL
 * enabled, and session time zone UTC so TIMESTAMP values read and write the same instant.
 */
import mysql, { type Connection, type ConnectionOptions } from 'mysql2/promise';
import { toMysqlError } from './errors';

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
    connection = await mysql.createConnection(connectionOptions(settings));
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

/** A connection for reading and writing table data as raw bytes. */
export async function openDataConnection(settings: ConnectionSettings, extra: Partial<ConnectionOptions> = {}): Promise<Connection> {
  const connection = await mysql.createConnection(connectionOptions(settings, extra));
  await connection.query("SET NAMES binary, time_zone = '+00:00', SESSION sql_mode = CONCAT(@@sql_mode, ',NO_AUTO_VALUE_ON_ZERO')");
  return connection;
}

/** Backquotes an identifier. */
export function quoteId(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}
