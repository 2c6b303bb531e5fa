/**
 * Maps mysql2's native errors (server errors with `errno`/`code`/`sqlState`, client errors with a
 * `code` such as `PROTOCOL_CONNECTION_LOST`, Node socket errors) to the framework's two error
 * names, so the state machine retries what a retry can cure and stops, with a message an operator
 * can act on, on everything else.
 *
 * Matching is by `errno` first (the server's numbers below 1900 are the same in MySQL and MariaDB;
 * above that they differ, so mysql2's `code` names can be wrong for MariaDB), then by `code`, then
 * by message text: errors that crossed a process or jest VM boundary may keep only their message.
 */
import { PermanentError, TransientError, authFailed, isUnknownHostText, unknownHost, isNetworkError, type ClassifiedError } from '../../../core/errors';

const ENGINE = 'mysql';

/** Login refused: wrong user/password, auth plugin, host not allowed, account locked. */
const AUTH_ERRNOS = new Set([
  1045, // ER_ACCESS_DENIED_ERROR
  1698, // ER_ACCESS_DENIED_NO_PASSWORD_ERROR
  1251, // ER_NOT_SUPPORTED_AUTH_MODE
  1130, // ER_HOST_NOT_PRIVILEGED
  1129, // ER_HOST_IS_BLOCKED
  1820, // ER_MUST_CHANGE_PASSWORD
  1862, // ER_MUST_CHANGE_PASSWORD_LOGIN
  1873, // ER_ACCESS_DENIED_CHANGE_USER_ERROR
]);
const AUTH_CODES = new Set([
  'ER_ACCESS_DENIED_ERROR', 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR', 'ER_NOT_SUPPORTED_AUTH_MODE', 'ER_HOST_NOT_PRIVILEGED',
  'ER_HOST_IS_BLOCKED', 'ER_MUST_CHANGE_PASSWORD', 'ER_MUST_CHANGE_PASSWORD_LOGIN', 'ER_ACCOUNT_HAS_BEEN_LOCKED',
  'AUTH_SWITCH_PLUGIN_ERROR', 'HANDSHAKE_NO_SSL_SUPPORT',
]);

/** Logged in, but not allowed to do this: a privilege is missing. */
const PRIVILEGE_ERRNOS = new Set([
  1044, // ER_DBACCESS_DENIED_ERROR
  1142, // ER_TABLEACCESS_DENIED_ERROR
  1143, // ER_COLUMNACCESS_DENIED_ERROR
  1227, // ER_SPECIFIC_ACCESS_DENIED_ERROR
  1370, // ER_PROCACCESS_DENIED_ERROR
  1095, // ER_KILL_DENIED_ERROR
]);
const PRIVILEGE_CODES = new Set([
  'ER_DBACCESS_DENIED_ERROR', 'ER_TABLEACCESS_DENIED_ERROR', 'ER_COLUMNACCESS_DENIED_ERROR',
  'ER_SPECIFIC_ACCESS_DENIED_ERROR', 'ER_PROCACCESS_DENIED_ERROR', 'ER_KILL_DENIED_ERROR',
]);

/** The server cannot serve right now (or the connection went away): retry later. */
const UNAVAILABLE_ERRNOS = new Set([
  1053, // ER_SERVER_SHUTDOWN
  1152, // ER_ABORTING_CONNECTION
  1158, 1159, 1160, 1161, // ER_NET_READ_ERROR, ER_NET_READ_INTERRUPTED, ER_NET_ERROR_ON_WRITE, ER_NET_WRITE_INTERRUPTED
  1184, // ER_NEW_ABORTING_CONNECTION
  1317, // ER_QUERY_INTERRUPTED (KILL QUERY, shutdown)
  1927, // ER_CONNECTION_KILLED (MariaDB)
  2006, 2013, // CR_SERVER_GONE_ERROR, CR_SERVER_LOST
]);
const UNAVAILABLE_CODES = new Set([
  'ER_SERVER_SHUTDOWN', 'ER_ABORTING_CONNECTION', 'ER_NEW_ABORTING_CONNECTION', 'ER_NET_READ_ERROR',
  'ER_NET_READ_INTERRUPTED', 'ER_NET_ERROR_ON_WRITE', 'ER_NET_WRITE_INTERRUPTED', 'ER_QUERY_INTERRUPTED',
  'ER_CLIENT_INTERACTION_TIMEOUT', 'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT',
  'PROTOCOL_PACKETS_OUT_OF_ORDER', 'PROTOCOL_UNEXPECTED_PACKET', 'ECONNRESET', 'EPIPE',
]);
const UNAVAILABLE_MESSAGES = [
  'connect ECONNREFUSED', 'connect ETIMEDOUT', 'ECONNRESET', 'Connection lost', 'closed state',
  'server has gone away', 'Lost connection to', 'Server shutdown in progress', 'Connection was killed',
  'Query execution was interrupted', 'connect EHOSTUNREACH', 'connect ENETUNREACH',
];

/** A statement stopped by the server's time limit: MariaDB's ER_STATEMENT_TIMEOUT, MySQL's ER_QUERY_TIMEOUT (unused by MariaDB). */
const STATEMENT_TIMEOUT_ERRNOS = new Set([1969, 3024]);

/** Server errors the driver acts on by number. */
export const ER_BAD_DB_ERROR = 1049;
export const ER_BAD_FIELD_ERROR = 1054;
export const ER_NO_SUCH_TABLE = 1146;
export const ER_SP_DOES_NOT_EXIST = 1305;
export const ER_UNKNOWN_SYSTEM_VARIABLE = 1193;
export const ER_LOCK_WAIT_TIMEOUT = 1205;
export const ER_LOCK_DEADLOCK = 1213;
export const ER_VIEW_INVALID = 1356;

/** The server's error number of `error`, if it has one. */
export const errnoOf = (error: unknown): unknown => (error as { errno?: unknown } | undefined)?.errno;

/** Busy: too many connections, lock waits, deadlocks, a table changed under the snapshot. */
const BUSY_ERRNOS = new Set([
  1040, // ER_CON_COUNT_ERROR
  1041, // ER_OUT_OF_RESOURCES
  1135, // ER_CANT_CREATE_THREAD
  1203, // ER_TOO_MANY_USER_CONNECTIONS
  1205, // ER_LOCK_WAIT_TIMEOUT
  1213, // ER_LOCK_DEADLOCK
  1412, // ER_TABLE_DEF_CHANGED (DDL after the consistent snapshot began)
  1689, // ER_LOCK_ABORTED
]);
const BUSY_CODES = new Set([
  'ER_CON_COUNT_ERROR', 'ER_OUT_OF_RESOURCES', 'ER_CANT_CREATE_THREAD', 'ER_TOO_MANY_USER_CONNECTIONS',
  'ER_LOCK_WAIT_TIMEOUT', 'ER_LOCK_DEADLOCK', 'ER_TABLE_DEF_CHANGED', 'ER_LOCK_ABORTED',
]);
const BUSY_MESSAGES = ['Too many connections', 'Lock wait timeout exceeded', 'Deadlock found', 'Table definition has changed'];

interface NativeError {
  errno?: unknown;
  code?: unknown;
  message?: unknown;
  sqlMessage?: unknown;
  cause?: unknown;
}

function textOf(error: NativeError): string {
  if (typeof error.sqlMessage === 'string' && error.sqlMessage.length > 0) return error.sqlMessage;
  return typeof error.message === 'string' ? error.message : String(error);
}

/**
 * The privilege a server's "denied" message names, e.g. `RELOAD` from "Access denied; you need (at
 * least one of) the RELOAD privilege(s) for this operation", `SELECT` from "SELECT command denied
 * to user ... for table ...", or `access to database shop` from "Access denied for user ... to
 * database 'shop'". Undefined when the message names none.
 */
export function missingPrivilege(message: string): string | undefined {
  const specific = /you need \(at least one of\) the (.+?) privilege\(s\)/i.exec(message);
  if (specific) return specific[1];
  const command = /^(?:[\w-]+:\s*)?([A-Z][A-Z ,_]*?) command denied to user/i.exec(message);
  if (command) return command[1].toUpperCase();
  const database = /Access denied for user .+ to database '(.+)'/i.exec(message);
  if (database) return `access to database ${database[1]}`;
  return undefined;
}

function matches(error: NativeError, errnos: Set<number>, codes: Set<string>, messages: string[] = []): boolean {
  if (typeof error.errno === 'number' && errnos.has(error.errno)) return true;
  if (typeof error.code === 'string' && codes.has(error.code)) return true;
  const text = textOf(error);
  return messages.some((m) => text.includes(m));
}

/**
 * Classifies a mysql2 error, or returns undefined when it is not one this driver recognises (the
 * framework then treats it as permanent). Our own errors pass through.
 *
 * - login refused (wrong password, host not allowed, locked account) → PermanentError `AUTH_FAILED`
 *   (`MYSQL_AUTH` in the message)
 * - a privilege missing for a statement → PermanentError `MYSQL_PRIVILEGES`, naming the privilege
 * - unreachable, connection lost, server shutting down, connection killed → TransientError `MYSQL_UNAVAILABLE`
 * - too many connections, lock wait timeout, deadlock, table changed under the snapshot → TransientError `MYSQL_BUSY`
 * - the server's statement time limit (max_statement_time, max_execution_time) → PermanentError `MYSQL_STATEMENT_TIMEOUT`
 * - unknown host (DNS says it does not exist) → PermanentError `UNKNOWN_HOST` (`MYSQL_UNKNOWN_HOST` in the message)
 */
export function mapMysqlError(raw: unknown): ClassifiedError | undefined {
  if (raw instanceof TransientError || raw instanceof PermanentError) return raw;
  if (typeof raw !== 'object' || raw === null) return undefined;
  const error = raw as NativeError;
  const text = textOf(error);
  const options = { engine: ENGINE, cause: raw };

  if (matches(error, PRIVILEGE_ERRNOS, PRIVILEGE_CODES, ['command denied to user', 'privilege(s) for this operation'])
    || /Access denied for user .+ to database/i.test(text)) {
    const privilege = missingPrivilege(text);
    const what = privilege ? `missing privilege ${privilege}` : 'missing privilege';
    return new PermanentError(`${what}: ${text}`, { ...options, code: 'MYSQL_PRIVILEGES' });
  }
  if (matches(error, AUTH_ERRNOS, AUTH_CODES, ['Access denied for user', 'is not allowed to connect'])) {
    return authFailed(`the server refused the login (check user, password and allowed hosts): ${text}`, { ...options, driverCode: 'MYSQL_AUTH' });
  }
  if (matches(error, STATEMENT_TIMEOUT_ERRNOS, new Set(), ['max_statement_time exceeded', 'maximum statement execution time exceeded', 'max_execution_time exceeded'])) {
    return new PermanentError(
      `the server's statement time limit interrupted a query (max_statement_time on MariaDB, max_execution_time on MySQL): lift it for this user or session; a retry would be interrupted again: ${text}`,
      { ...options, code: 'MYSQL_STATEMENT_TIMEOUT' },
    );
  }
  if (matches(error, BUSY_ERRNOS, BUSY_CODES, BUSY_MESSAGES)) {
    return new TransientError(`the server is busy: ${text}`, { ...options, code: 'MYSQL_BUSY' });
  }
  if (isUnknownHostText(`${String(error.code)} ${text}`)) {
    return unknownHost(`the server's host name does not resolve: ${text}`, { ...options, driverCode: 'MYSQL_UNKNOWN_HOST' });
  }
  if (isNetworkError(raw) || matches(error, UNAVAILABLE_ERRNOS, UNAVAILABLE_CODES, UNAVAILABLE_MESSAGES)) {
    return new TransientError(`the server is unavailable: ${text}`, { ...options, code: 'MYSQL_UNAVAILABLE' });
  }
  if (error.cause !== undefined && error.cause !== raw) return mapMysqlError(error.cause);
  return undefined;
}

/**
 * {@link mapMysqlError} with a prefix saying what was being done, falling back to PermanentError
 * `fallbackCode` for errors it does not recognise. For the driver's own `catch` blocks.
 */
export function toMysqlError(raw: unknown, doing: string, fallbackCode = 'MYSQL_FAILED'): ClassifiedError {
  if (raw instanceof TransientError || raw instanceof PermanentError) return raw;
  const mapped = mapMysqlError(raw);
  const detail = raw instanceof Error ? raw.message : String(raw);
  if (!mapped) return new PermanentError(`${doing}: ${detail}`, { code: fallbackCode, engine: ENGINE, cause: raw });
  const Kind = mapped instanceof TransientError ? TransientError : PermanentError;
  return new Kind(`${doing}: ${mapped.message}`, { code: mapped.code, engine: ENGINE, cause: raw });
}
