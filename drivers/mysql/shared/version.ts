/**
 * Which server the driver talks to (MySQL or MariaDB, and which version), and the statements and
 * privileges that differ between them: how to block commits for a moment, how to read the binary
 * log coordinates and GTID position of the snapshot, and what reading the schema, routines and
 * accounts needs. This is the one place those rules live; the choices are pure functions of the
 * version, so every branch is unit-tested without the server it is for.
 *
 * Supported: MySQL 5.7, 8.0 and 8.4 (LTS); MariaDB 10.3 to 10.11 and 11.x. Anything else is refused
 * with PermanentError `UNSUPPORTED_VERSION` rather than risking a wrong backup.
 */
import type { Connection } from 'mysql2/promise';
import { PermanentError } from '../../../core/errors';
import { catalogText } from './catalog-text';

export type Flavor = 'mariadb' | 'mysql';

export interface ServerVersion {
  flavor: Flavor;
  major: number;
  minor: number;
  patch: number;
  /** `VERSION()` as the server reports it, e.g. `10.11.19-MariaDB-0+deb12u1-log`. */
  text: string;
  /** `@@version_comment`, e.g. `MySQL Community Server - GPL`, `Debian 12`. */
  comment: string;
}

/**
 * Parses `SELECT VERSION(), @@version_comment`. MariaDB says so in its version string (older
 * releases behind a `5.5.5-` replication prefix) or its comment; everything else (Oracle MySQL,
 * Percona Server, Aurora MySQL) is the `mysql` flavor.
 * @throws PermanentError `UNSUPPORTED_VERSION` when the version string cannot be read at all.
 */
export function parseServerVersion(version: string, comment = ''): ServerVersion {
  const text = version.trim();
  const flavor: Flavor = /mariadb/i.test(text) || /mariadb/i.test(comment) ? 'mariadb' : 'mysql';
  const numbers = text.replace(/^5\.5\.5-(?=\d+\.\d+)/, '');
  const match = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(numbers);
  if (!match) {
    throw new PermanentError(`cannot read the server version from '${text}' (${comment})`, { code: 'UNSUPPORTED_VERSION', engine: 'mysql' });
  }
  return { flavor, major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3] ?? 0), text, comment };
}

/** `MariaDB 10.11.19`, `MySQL 8.0.36`. */
export function describeVersion(version: ServerVersion): string {
  return `${version.flavor === 'mariadb' ? 'MariaDB' : 'MySQL'} ${version.major}.${version.minor}.${version.patch}`;
}

/** True for the versions this driver supports (see the module doc). */
export function isSupportedVersion(version: ServerVersion): boolean {
  const { flavor, major, minor } = version;
  if (flavor === 'mysql') return (major === 5 && minor === 7) || (major === 8 && (minor === 0 || minor === 4));
  return (major === 10 && minor >= 3) || major === 11;
}

/** @throws PermanentError `UNSUPPORTED_VERSION` naming the version, for versions this driver does not support. */
export function assertSupportedVersion(version: ServerVersion): void {
  if (isSupportedVersion(version)) return;
  throw new PermanentError(
    `${describeVersion(version)} (${version.text}) is not supported: the MySQL driver supports MySQL 5.7, 8.0 and 8.4, and MariaDB 10.3 to 10.11 and 11.x`,
    { code: 'UNSUPPORTED_VERSION', engine: 'mysql' },
  );
}

/**
 * Reads the server's version and checks it is supported.
 * @throws PermanentError `UNSUPPORTED_VERSION`; the connection's own errors otherwise.
 */
export async function detectServerVersion(connection: Connection): Promise<ServerVersion> {
  const [rows] = await connection.query({ sql: 'SELECT VERSION(), @@version_comment', rowsAsArray: true }) as [unknown[][], unknown];
  const [version, comment] = rows[0].map(catalogText);
  const parsed = parseServerVersion(version, comment);
  assertSupportedVersion(parsed);
  return parsed;
}

export const atLeast = (v: ServerVersion, major: number, minor: number, patch = 0): boolean =>
  v.major !== major ? v.major > major : v.minor !== minor ? v.minor > minor : v.patch >= patch;

/** How writes are held still while the snapshot's point is fixed. */
export type LockKind = 'backup-stage' | 'flush-tables-with-read-lock';

export interface CommitBlockPlan {
  kind: LockKind;
  /** Run before the lock, to make acquiring it quick (not under the lock). */
  prepare: string[];
  /** Run in order to take the lock. */
  acquire: string[];
  /** Run in order to release it. */
  release: string[];
  /** The privilege the statements need, for error messages. */
  privilege: string;
}

/**
 * The statements that block commits for as short as possible.
 *
 * - MariaDB ≥ 10.4 with only transactional tables in scope: `BACKUP STAGE START` + `BACKUP STAGE
 *   BLOCK_COMMIT` … `BACKUP STAGE END` (commits wait; reads and uncommitted writes go on).
 * - Non-transactional tables in scope (their rows are read under the lock), MySQL, and MariaDB
 *   10.3: `FLUSH TABLES WITH READ LOCK` … `UNLOCK TABLES`, after a `FLUSH LOCAL TABLES` that closes
 *   open tables first so the read lock is not held while waiting for that.
 */
export function commitBlockPlan(version: ServerVersion, options: { nonTransactional: boolean }): CommitBlockPlan {
  if (version.flavor === 'mariadb' && atLeast(version, 10, 4) && !options.nonTransactional) {
    return {
      kind: 'backup-stage',
      prepare: [],
      acquire: ['BACKUP STAGE START', 'BACKUP STAGE BLOCK_COMMIT'],
      release: ['BACKUP STAGE END'],
      privilege: 'RELOAD',
    };
  }
  return {
    kind: 'flush-tables-with-read-lock',
    prepare: ['FLUSH LOCAL TABLES'],
    acquire: ['FLUSH TABLES WITH READ LOCK'],
    release: ['UNLOCK TABLES'],
    privilege: 'RELOAD',
  };
}

export interface BinlogStatusPlan {
  /** Returns one row (`File`, `Position`, ...) or none when binary logging is off. */
  status: string;
  /** MariaDB: a query returning the GTID position in its first column. */
  gtidQuery?: string;
  /** MySQL: the column of the status row holding the executed GTID set. */
  gtidColumn?: string;
  /** The privilege the status statement needs, for error messages. */
  privilege: string;
}

/**
 * How to read the binary log coordinates while commits are blocked.
 *
 * - MariaDB: `SHOW BINLOG STATUS` (≥ 10.5.2; `SHOW MASTER STATUS` before) and `@@gtid_binlog_pos`.
 * - MySQL 5.7 / 8.0: `SHOW MASTER STATUS`, GTIDs from its `Executed_Gtid_Set` column.
 * - MySQL 8.4: `SHOW BINARY LOG STATUS` (`SHOW MASTER STATUS` was removed).
 */
export function binlogStatusPlan(version: ServerVersion): BinlogStatusPlan {
  if (version.flavor === 'mariadb') {
    return {
      status: atLeast(version, 10, 5, 2) ? 'SHOW BINLOG STATUS' : 'SHOW MASTER STATUS',
      gtidQuery: 'SELECT @@GLOBAL.gtid_binlog_pos',
      privilege: atLeast(version, 10, 5, 2) ? 'BINLOG MONITOR' : 'REPLICATION CLIENT',
    };
  }
  return {
    status: atLeast(version, 8, 2) ? 'SHOW BINARY LOG STATUS' : 'SHOW MASTER STATUS',
    gtidColumn: 'Executed_Gtid_Set',
    privilege: 'REPLICATION CLIENT',
  };
}

export interface SnapshotBinlogPlan {
  /** Run on a connection inside its consistent-snapshot transaction: `Binlog_snapshot_file`/`_position`. */
  status: string;
  /** The GTID position of a binlog file and offset (placeholders: file, position). */
  gtidQuery: string;
}

/**
 * MariaDB only: the binary log position of a connection's own consistent snapshot (exactly the
 * commits its read view sees), without a lock. The driver uses it to prove that every worker shares
 * the read view recorded under the lock. Undefined for MySQL, which has no equivalent.
 */
export function snapshotBinlogPlan(version: ServerVersion): SnapshotBinlogPlan | undefined {
  if (version.flavor !== 'mariadb') return undefined;
  return {
    status: "SHOW SESSION STATUS LIKE 'binlog_snapshot_%'",
    gtidQuery: 'SELECT BINLOG_GTID_POS(?, ?)',
  };
}

/**
 * How a backup user gets to read every stored routine, other definers' too. Without it the server
 * does not fail: it lists only the user's own routines (or shows their definition as NULL), and a
 * backup would silently miss the rest.
 */
export interface RoutineReadPlan {
  /** `SELECT` on the `mysql.proc` table reveals them (MySQL 5.7, MariaDB); global SELECT includes it. */
  procTable: boolean;
  /** Privileges any one of which, held globally (`ON *.*`), reveals them. */
  global: string[];
  /** A privilege that reveals a database's routines when granted on that database. */
  perDatabase?: string;
  /** What to grant, for messages and the documentation. */
  grant: string;
}

/**
 * Which privilege reveals other definers' routines (the server versions' documentation):
 *
 * - MySQL 5.7 and MariaDB: SELECT on `mysql.proc`.
 * - MariaDB ≥ 11.3 also: SHOW CREATE ROUTINE, globally or on the database.
 * - MySQL 8.0.0 – 8.0.19: the global SELECT privilege (the data dictionary replaced `mysql.proc`).
 * - MySQL ≥ 8.0.20: the global SELECT privilege or SHOW_ROUTINE (added in 8.0.20; a dynamic
 *   privilege, so global only).
 */
export function routineReadPlan(version: ServerVersion): RoutineReadPlan {
  if (version.flavor === 'mariadb') {
    return atLeast(version, 11, 3)
      ? { procTable: true, global: ['SHOW CREATE ROUTINE'], perDatabase: 'SHOW CREATE ROUTINE', grant: 'SHOW CREATE ROUTINE' }
      : { procTable: true, global: [], grant: 'SELECT on mysql.proc' };
  }
  if (version.major === 5) return { procTable: true, global: [], grant: 'SELECT on mysql.proc' };
  return atLeast(version, 8, 0, 20)
    ? { procTable: false, global: ['SELECT', 'SHOW_ROUTINE'], grant: 'SHOW_ROUTINE on *.*' }
    : { procTable: false, global: ['SELECT'], grant: 'SELECT on *.*' };
}

/**
 * The global privileges (`ON *.*`), any one of which lets a user create views, triggers, routines
 * and events whose definer is another account, the one to grant first (the server versions'
 * documentation; measured on MariaDB 10.11, whose refusal names both):
 *
 * - MariaDB ≥ 10.5.2: SET USER, or SUPER; before: SUPER.
 * - MySQL 5.7: SUPER. MySQL 8.0: SET_USER_ID (or SUPER); ≥ 8.2: SET_ANY_DEFINER (SET_USER_ID deprecated).
 *
 * Generous on purpose: a check that refuses only what the server surely would.
 */
export function definerPrivileges(version: ServerVersion): string[] {
  if (version.flavor === 'mariadb') return atLeast(version, 10, 5, 2) ? ['SET USER', 'SUPER'] : ['SUPER'];
  if (version.major === 5) return ['SUPER'];
  return atLeast(version, 8, 2) ? ['SET_ANY_DEFINER', 'SET_USER_ID', 'SUPER'] : ['SET_USER_ID', 'SUPER'];
}

/**
 * The global privilege that lets a user create functions and triggers while the server's binary log is on and
 * `log_bin_trust_function_creators` is off: SUPER (measured on MariaDB 10.11: SET USER and
 * BINLOG ADMIN do not do, and a session out of the binary log needs it all the same; MySQL's
 * documentation says SUPER too).
 */
export const TRUSTED_ROUTINE_PRIVILEGES: readonly string[] = ['SUPER'];

/**
 * The statement listing what is granted to `PUBLIC` (MariaDB ≥ 10.11: every account holds it,
 * information_schema does not list it); undefined where there is no such role.
 */
export function publicGrantsQuery(version: ServerVersion): string | undefined {
  return version.flavor === 'mariadb' && atLeast(version, 10, 11) ? 'SHOW GRANTS FOR PUBLIC' : undefined;
}

/**
 * The global privileges, any one of which lets a point-in-time replay apply the binary logs' row
 * events (`BINLOG '…'` statements), the one to grant first (the server versions' documentation;
 * MariaDB 10.11's refusal names SUPER and BINLOG REPLAY): MariaDB ≥ 10.5.2 BINLOG REPLAY or SUPER,
 * SUPER before; MySQL 8 BINLOG_ADMIN, SUPER, or REPLICATION_APPLIER (with the privileges each
 * event needs); MySQL 5.7 SUPER.
 */
export function replayPrivileges(version: ServerVersion): string[] {
  if (version.flavor === 'mariadb') return atLeast(version, 10, 5, 2) ? ['BINLOG REPLAY', 'SUPER'] : ['SUPER'];
  return version.major === 5 ? ['SUPER'] : ['BINLOG_ADMIN', 'SUPER', 'REPLICATION_APPLIER'];
}

/**
 * The status clause that creates an event kept but not run (the status a replica gives it):
 * `DISABLE ON REPLICA` on MySQL ≥ 8.0.22 (the older words deprecated there), `DISABLE ON SLAVE`
 * before and on MariaDB.
 */
export function heldEventStatus(version: ServerVersion): string {
  return version.flavor === 'mysql' && atLeast(version, 8, 0, 22) ? 'DISABLE ON REPLICA' : 'DISABLE ON SLAVE';
}

/** The privileges a user holds, as information_schema lists them. */
export interface HeldPrivileges {
  /** `USER_PRIVILEGES`: held on `*.*`. */
  global: ReadonlySet<string>;
  /** `SCHEMA_PRIVILEGES` of each database in scope. */
  databases: ReadonlyArray<ReadonlySet<string>>;
  /** Whether `SELECT ... FROM mysql.proc` works; only asked where the plan reads that table. */
  procTable: () => Promise<boolean>;
}

/** True when `held` reveals every routine of the databases in scope, per {@link routineReadPlan}. */
export async function routinesReadable(plan: RoutineReadPlan, held: HeldPrivileges): Promise<boolean> {
  if (plan.global.some((p) => held.global.has(p))) return true;
  if (plan.perDatabase !== undefined && held.databases.every((d) => d.has(plan.perDatabase!))) return true;
  return plan.procTable && await held.procTable();
}

/** What reading a database's schema and the accounts needs and uses on this server. */
export interface SchemaReadPlan {
  /**
   * The privilege that shows each kind of object, held globally or on its database: without it
   * the server hides the objects instead of failing.
   */
  objects: { tables: string; views: string; triggers: string; events: string };
  routines: RoutineReadPlan;
  accounts: {
    /** `user`, `host`, `isRole` ('Y'/'N') of every account, roles first. */
    list: string;
    /** What `SHOW CREATE USER` and `SHOW GRANTS FOR` another account need. */
    privilege: string;
  };
  /** Returns the session's active role (`role`: NULL, '' or `NONE` for none); undefined where there are no roles (MySQL 5.7). */
  currentRole?: string;
}

/**
 * The schema capture's rules for this server. MariaDB marks roles in `mysql.user.is_role`; MySQL
 * 8 roles are locked accounts, captured as such (their grants follow).
 */
export function schemaReadPlan(version: ServerVersion): SchemaReadPlan {
  return {
    objects: { tables: 'SELECT', views: 'SHOW VIEW', triggers: 'TRIGGER', events: 'EVENT' },
    routines: routineReadPlan(version),
    accounts: {
      list: version.flavor === 'mariadb'
        ? 'SELECT User AS user, Host AS host, is_role AS isRole FROM mysql.user ORDER BY is_role DESC, User, Host'
        : "SELECT User AS user, Host AS host, 'N' AS isRole FROM mysql.user ORDER BY User, Host",
      privilege: 'SELECT on mysql.*',
    },
    ...(version.flavor === 'mysql' && version.major === 5 ? {} : { currentRole: 'SELECT CURRENT_ROLE() AS role' }),
  };
}

/**
 * The privileges a logical backup needs on this server, for the documentation and for error
 * messages. `includeUsers` adds what reading accounts needs.
 */
export function requiredPrivileges(version: ServerVersion, options: { includeUsers?: boolean } = {}): string[] {
  const schema = schemaReadPlan(version);
  const privileges = [
    ...Object.values(schema.objects),
    commitBlockPlan(version, { nonTransactional: true }).privilege,
    binlogStatusPlan(version).privilege,
    schema.routines.grant,
  ];
  if (options.includeUsers) privileges.push(schema.accounts.privilege);
  return privileges;
}
