/**
 * Exit codes scripts can rely on:
 *
 * | code | meaning |
 * |---|---|
 * | 0 | success |
 * | 1 | the operation failed: validation failed, corrupt or damaged backup, restore did not match |
 * | 2 | bad input: usage, unknown engine, invalid config (a MySQL database or Cassandra keyspace the config names that the server does not have, a target of another shard or partition count, too), an incremental backup of an engine that takes none, refused credentials (`AUTH_FAILED`, every engine) or missing privileges (`ACCESS_DENIED` of the store, `MYSQL_PRIVILEGES`), an encrypted backup's key not given or another one (`KEY_UNAVAILABLE`, `KEY_MISMATCH`, `INVALID_KEY`), a deployed state machine or execution that is not there (`remote`), a host name that does not resolve (`UNKNOWN_HOST`), a refused secret reference, backup not found or ambiguous, non-empty target without --force, --force outside the host's restore roots, a running server the restore did not start |
 * | 3 | temporarily unavailable: unreachable endpoint, throttling, open circuit; try again later |
 * | 130, 143 | interrupted by SIGINT, SIGTERM (bin/cli.ts says so; `INTERRUPTED` with --json) |
 */
import { AUTH_FAILED, UNKNOWN_HOST } from '../core/errors';

export const EXIT = { ok: 0, failed: 1, badInput: 2, unavailable: 3 } as const;

const BAD_INPUT_CODES = new Set([
  'INVALID_INPUT', 'INVALID_CONFIG', 'INVALID_TARGET', 'INVALID_NAME', 'INVALID_BACKUP_ID', 'INVALID_KEY', 'KEY_UNAVAILABLE', 'KEY_MISMATCH',
  'INVALID_PATH', 'INVALID_POLICY', 'INVALID_STORE_URL', 'STORE_NOT_FOUND', 'SPOOL_UNUSABLE', 'UNKNOWN_ENGINE', 'BACKUP_NOT_FOUND', 'BACKUP_INCOMPLETE',
  'TARGET_NOT_EMPTY', 'RESTORE_ROOT_REFUSED', 'SERVER_NOT_STARTED_BY_RESTORE', 'TARGET_IN_USE', 'TARGET_PORT_IN_USE', 'ENGINE_MISMATCH', 'BACKUP_AMBIGUOUS', 'ACCESS_DENIED', 'NO_SUCH_BUCKET', 'SECRET_UNRESOLVED', 'SECRET_REF_REFUSED',
  'PLUGIN_INTEGRITY', 'PLUGIN_NOT_PINNED', 'INCOMPATIBLE_API', 'DUPLICATE_DRIVER', 'INVALID_MANIFEST', 'INCREMENTAL_UNSUPPORTED', 'STATE_MACHINE_NOT_FOUND', 'EXECUTION_NOT_FOUND', AUTH_FAILED, UNKNOWN_HOST,
  'MYSQL_DATABASE_NOT_FOUND', 'MYSQL_PRIVILEGES',
  // A config or target that does not fit what is there: a keyspace or data center the cluster lacks, another shard or partition count, shards mapped to each other's databases.
  'CASSANDRA_NO_SUCH_KEYSPACE', 'CASSANDRA_NO_SUCH_DATA_CENTER', 'SCHEMALESS_SHARD_COUNT', 'DOCSTORE_PARTITION_COUNT', 'SHARD_MAP_MISMATCH',
]);

export function exitCodeFor(error: unknown): number {
  const { name, code } = (error ?? {}) as { name?: string; code?: string };
  if (name === 'TransientError' || code === 'CIRCUIT_OPEN') return EXIT.unavailable; // an open circuit fails fast, but later may work
  if (name === 'PermanentError' && code && BAD_INPUT_CODES.has(code)) return EXIT.badInput;
  return EXIT.failed;
}
