/**
 * Connections to a MySQL/MariaDB server, set up the way the driver reads and writes data: raw
 * bytes (`SET NAMES binary`, every value a Buffer), big numbers as strings, LOAD DATA LOCAL
 * enabled, and session time zone UTC so TIMESTAMP values read and write the same instant.
 */
import mysql, { type Connection, type ConnectionOptions } from 'mysql2/promise';

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
