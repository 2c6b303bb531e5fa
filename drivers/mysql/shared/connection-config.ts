/**
 * The configuration fields of a connection to a MySQL/MariaDB server, shared by every driver built
 * on MySQL (the MySQL driver's source and logical target, Schemaless and Docstore servers).
 * Secrets (`{ "$secret": ... }`) are resolved before a driver sees them.
 */
import { z } from 'zod';
import { absolutePath } from '../../../core/config/path-field';

/** A database, table or server name as MySQL allows it (64 characters at most). */
export const identifier = z.string().min(1).max(64);

/** How to reach one server. */
export const connectionShape = {
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(1).max(65535).default(3306),
  /** Unix socket (absolute path); when set, host and port are ignored. */
  socketPath: absolutePath().optional(),
  user: z.string().min(1),
  password: z.string().optional(),
  connectTimeoutMs: z.number().int().positive().default(10_000),
};

/** What a config or target connects to (its circuit breaker's endpoint): `unix:<socket>` or `host:port`. */
export function mysqlEndpoint(settings: { host: string; port: number; socketPath?: string }): string {
  return settings.socketPath ? `unix:${settings.socketPath}` : `${settings.host}:${settings.port}`;
}
