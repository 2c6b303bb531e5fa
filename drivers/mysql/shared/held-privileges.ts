/**
 * The privileges the session's account holds, as the checks before a backup (schema-capture.ts)
 * and before a restore writes (target-privileges.ts) read them:
 *
 * - its own rows of information_schema's `USER_PRIVILEGES` and `SCHEMA_PRIVILEGES` (a user who
 *   may read `mysql.*` sees every account's rows there, not only its own);
 * - on MariaDB ≥ 10.11, what is granted to `PUBLIC`, which every account holds and
 *   information_schema does not list (`SHOW GRANTS FOR PUBLIC`).
 *
 * Privileges of an active role are not listed there, and a server started with
 * `--skip-grant-tables` lists none: {@link accountPrivileges} says it cannot tell then, and the
 * checks leave the verdict to the server.
 */
import type { Connection } from 'mysql2/promise';
import { lowerCaseTableNames } from './exact-names';
import { publicGrantsQuery, schemaReadPlan, type ServerVersion } from './version';
import { catalogText } from './catalog-text';
import { accountNamed, describeAccount, type Account } from './account';

type Row = Record<string, unknown>;

async function rows(connection: Connection, sql: string, values: unknown[] = []): Promise<Row[]> {
  const [result] = await connection.query(sql, values) as [Row[], unknown];
  return result;
}

/** The session's account. */
export async function currentAccount(connection: Connection): Promise<Account> {
  return accountNamed(catalogText((await rows(connection, 'SELECT CURRENT_USER() AS account'))[0]?.account));
}

/** A grant to PUBLIC on `*.*` (`database` undefined) or on the databases `database` matches (a LIKE pattern). */
interface PublicGrant {
  database?: string;
  privileges: string[];
}

const PUBLIC_GRANT = /^GRANT\s+(.+?)\s+ON\s+(?:\*|`((?:[^`]|``)*)`)\.\*\s+TO\s+PUBLIC\b/i;

/** The global and per-database grants to PUBLIC, where the server has it (none where it may not be read). */
async function publicGrants(connection: Connection, version: ServerVersion): Promise<PublicGrant[]> {
  const query = publicGrantsQuery(version);
  if (query === undefined) return [];
  let lines: Row[];
  try {
    lines = await rows(connection, query);
  } catch {
    return [];
  }
  return lines.flatMap((line) => {
    const match = PUBLIC_GRANT.exec(catalogText(Object.values(line)[0]));
    if (!match) return [];
    const privileges = match[1].split(/\s*,\s*/).map((p) => p.toUpperCase());
    return [{ ...(match[2] !== undefined ? { database: match[2].replace(/``/g, '`') } : {}), privileges }];
  });
}

/** Privileges held at one level, where a grant of `ALL PRIVILEGES` (as SHOW GRANTS writes it for PUBLIC) holds each. */
class HeldPrivileges extends Set<string> {
  override has(privilege: string): boolean {
    return super.has('ALL PRIVILEGES') || super.has(privilege);
  }
}

/** What {@link accountPrivileges} finds the account holds. */
export interface AccountPrivileges {
  account: Account;
  /** Held on `*.*`. */
  global: ReadonlySet<string>;
  /** Held on `database` (not counting the global ones). */
  onDatabase(database: string): Promise<ReadonlySet<string>>;
}

/** Why {@link accountPrivileges} cannot tell what the account holds, and what to log with it. */
export interface Unreadable {
  unreadable: string;
  detail: Record<string, unknown>;
}

/**
 * The privileges the session's account (`account`, when the caller has read it) holds — or why
 * they cannot be read: a role is active, or the server lists none for the account (an account
 * has USAGE at least: a server started with `--skip-grant-tables`, where no privilege is checked).
 */
export async function accountPrivileges(connection: Connection, version: ServerVersion, known?: Account): Promise<AccountPrivileges | Unreadable> {
  const roleQuery = schemaReadPlan(version).currentRole;
  const role = roleQuery === undefined ? '' : catalogText((await rows(connection, roleQuery))[0]?.role);
  if (role !== '' && role !== 'NONE') return { unreadable: 'a role is active', detail: { role } };
  const account = known ?? await currentAccount(connection);
  const grantee = `'${account.user}'@'${account.host ?? ''}'`;
  const listed = await rows(connection, 'SELECT PRIVILEGE_TYPE AS p FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = ?', [grantee]);
  if (listed.length === 0) return { unreadable: 'the server lists no privilege for this account (started with --skip-grant-tables?)', detail: { account: describeAccount(account) } };
  const granted = await publicGrants(connection, version);
  const global = new HeldPrivileges([...listed.map((r) => catalogText(r.p).toUpperCase()), ...granted.filter((g) => g.database === undefined).flatMap((g) => g.privileges)]);
  // A grant's database is a LIKE pattern, matched as the server matches it: by bytes where it keeps
  // case (a grant on `plain` gives nothing on `Plain`), regardless of case where it folds names.
  const like = (await lowerCaseTableNames(connection)) === 0 ? 'LIKE BINARY' : 'LIKE';
  const onDatabase = async (database: string): Promise<ReadonlySet<string>> => {
    const own = await rows(connection, `SELECT PRIVILEGE_TYPE AS p FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = ? AND ? ${like} TABLE_SCHEMA`, [grantee, database]);
    const held = new HeldPrivileges(own.map((r) => catalogText(r.p).toUpperCase()));
    for (const grant of granted) {
      if (grant.database === undefined) continue;
      const [match] = await rows(connection, `SELECT ? ${like} ? AS covered`, [database, grant.database]);
      if (Number(match?.covered) === 1) for (const privilege of grant.privileges) held.add(privilege);
    }
    return held;
  };
  return { account, global, onDatabase };
}
