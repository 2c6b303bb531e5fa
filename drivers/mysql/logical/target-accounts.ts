/**
 * The backup's accounts (users.sql, taken with `includeUsers`) against the target's. users.sql
 * creates each account `IF NOT EXISTS`, then grants — and the first GRANT line `SHOW GRANTS` prints
 * for an account carries its password (`IDENTIFIED BY PASSWORD`). So an account the target already
 * had kept its own lock state and grants but took the backup's password: neither the source's
 * account nor the target's, and changed without a word (a restore of one database changed every
 * account on the target the source also had). And a GRANT with a password clears `PASSWORD EXPIRE`,
 * so even a new account lost it.
 *
 * Now, before the restore writes anything, every account the backup creates that the target
 * already holds otherwise (`SHOW CREATE USER` differs: password, authentication, TLS, limits,
 * lock or expiry) is named and the restore refused (`TARGET_NOT_EMPTY`) — unless forced, when each
 * is dropped and created as the backup has it. Once the grants are applied, each account's
 * `CREATE USER` is applied again as `ALTER USER`, so it ends as the source had it.
 */
import type { Connection } from 'mysql2/promise';
import { PermanentError } from '../../../core/errors';
import { nameSome } from '../../../core/name-some';
import { ENGINE } from '../shared/layout';

const CREATE_USER = /^CREATE USER IF NOT EXISTS ((?:`(?:[^`]|``)*`|'(?:[^'\\]|\\.|'')*')@(?:`(?:[^`]|``)*`|'(?:[^'\\]|\\.|'')*'))/i;

/** One account users.sql creates: its name as the statement writes it, and the statement without `IF NOT EXISTS`. */
interface CreatedAccount {
  account: string;
  created: string;
}

function createdAccounts(statements: readonly string[]): CreatedAccount[] {
  return statements.flatMap((statement) => {
    const match = CREATE_USER.exec(statement);
    return match ? [{ account: match[1], created: statement.replace(/^CREATE USER IF NOT EXISTS /i, 'CREATE USER ') }] : [];
  });
}

/** `user@host` as CURRENT_USER() says it, from an account as users.sql writes it (`` `user`@`host` ``). */
function unquoted(account: string): string {
  return account.replace(/`((?:[^`]|``)*)`|'((?:[^'\\]|\\.|'')*)'/g, (_, backticked?: string, quoted?: string) => (backticked !== undefined ? backticked.replace(/``/g, '`') : quoted!.replace(/''/g, "'")));
}

/** The target's `SHOW CREATE USER` of `account`, undefined when it has no such account. */
async function existing(connection: Connection, account: string): Promise<string | undefined> {
  try {
    const [rows] = await connection.query({ sql: `SHOW CREATE USER ${account}`, rowsAsArray: true }) as unknown as [unknown[][], unknown];
    const value = rows[0]?.[0];
    return Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
  } catch (error) {
    const errno = (error as { errno?: number }).errno;
    if (errno === 1133 || errno === 1396) return undefined; // ER_PASSWORD_NO_MATCH (MariaDB), ER_CANNOT_USER: no such account
    if (errno === 1044 || errno === 1142 || errno === 1227) {
      throw new PermanentError(
        `the restore user cannot read the target's accounts (SHOW CREATE USER ${account}: ${(error as Error).message}), which a restore with the backup's accounts compares with the backup's before it changes any: grant it SELECT ON mysql.* too`,
        { code: 'MYSQL_PRIVILEGES', engine: ENGINE, cause: error },
      );
    }
    throw error;
  }
}

/**
 * The accounts of users.sql's `statements` the target holds otherwise than the backup. Without
 * `force` any such account refuses the restore; with it they are returned, to be dropped (by
 * {@link replaceAccounts}) just before the backup's are created.
 * @throws PermanentError `TARGET_NOT_EMPTY` naming them, without `force`
 */
export async function accountsToReplace(connection: Connection, statements: readonly string[], force: boolean, target: string): Promise<string[]> {
  const differing: string[] = [];
  for (const { account, created } of createdAccounts(statements)) {
    const held = await existing(connection, account);
    if (held !== undefined && held !== created) differing.push(account);
  }
  if (differing.length === 0) return [];
  const [[{ self }]] = await connection.query('SELECT CURRENT_USER() AS self') as unknown as [Array<{ self: string }>, unknown];
  const own = differing.find((account) => unquoted(account) === String(self));
  if (own) {
    throw new PermanentError(
      `the backup's users include ${own}, the account this restore connects to ${target} as, with other settings than the target's: replacing it would cut the restore off; restore as another account`,
      { code: 'TARGET_NOT_EMPTY', engine: ENGINE },
    );
  }
  if (differing.length > 0 && !force) {
    throw new PermanentError(
      `restore target ${target} already has account${differing.length === 1 ? '' : 's'} ${nameSome(differing)} the backup's users differ from (password, authentication, TLS, limits, lock or expiry); `
      + 'restoring the backup\'s accounts would change them: drop them on the target, or pass --force to replace them with the backup\'s',
      { code: 'TARGET_NOT_EMPTY', engine: ENGINE },
    );
  }
  return differing;
}

/** Drops `accounts` (from {@link accountsToReplace}, forced) so users.sql creates them as the backup has them. */
export async function replaceAccounts(connection: Connection, accounts: readonly string[]): Promise<void> {
  for (const account of accounts) await connection.query(`DROP USER IF EXISTS ${account}`);
}

/** MySQL 8's `DEFAULT ROLE` clause of `SHOW CREATE USER`, which `ALTER USER` does not take (it has its own statement form; the CREATE set it). */
const DEFAULT_ROLE = /\s+DEFAULT ROLE\s+`(?:[^`]|``)*`@`(?:[^`]|``)*`(?:\s*,\s*`(?:[^`]|``)*`@`(?:[^`]|``)*`)*/i;

/** users.sql's statements, then each account's `CREATE USER` again as `ALTER USER`: a GRANT that carried a password cleared its `PASSWORD EXPIRE`. */
export function withAccountsAsCreated(statements: readonly string[]): string[] {
  return [...statements, ...createdAccounts(statements).map(({ created }) => created.replace(/^CREATE USER /i, 'ALTER USER ').replace(DEFAULT_ROLE, ''))];
}

/** users.sql's statements that create accounts and roles, and the rest (grants, default roles, the accounts' settings again), each in order. */
export function partitionAccounts(statements: readonly string[]): [string[], string[]] {
  const creates = (statement: string) => /^\s*CREATE\s+(?:USER|ROLE)\b/i.test(statement);
  return [statements.filter(creates), statements.filter((statement) => !creates(statement))];
}

/** A plugin of an `IDENTIFIED VIA|WITH` list, bare or quoted. */
const PLUGIN = /^\s*(['`"]?)(\w+)\1/;
/** What may follow a plugin: its `USING`/`AS`/`BY` string (or `PASSWORD('…')`). */
const PLUGIN_STRING = /^\s*(?:USING|AS|BY)\s+(?:PASSWORD\s*\(\s*)?'(?:[^'\\]|\\[\s\S]|'')*'(?:\s*\))?/i;

/**
 * The authentication plugins a `CREATE USER` names: `IDENTIFIED VIA ed25519 USING '…' OR
 * unix_socket` (MariaDB), `IDENTIFIED WITH 'caching_sha2_password' AS '…'` (MySQL). The list is
 * read plugin by plugin, each one's string skipped, so what follows it (`WITH MAX_QUERIES_PER_HOUR`,
 * an `ATTRIBUTE`) is not taken for one.
 */
export function authPluginsOf(statement: string): string[] {
  const at = /\bIDENTIFIED\s+(?:VIA|WITH)\b/i.exec(statement);
  if (!at) return [];
  let rest = statement.slice(at.index + at[0].length);
  const plugins: string[] = [];
  for (;;) {
    const plugin = PLUGIN.exec(rest);
    if (!plugin) break;
    plugins.push(plugin[2].toLowerCase());
    rest = rest.slice(plugin[0].length);
    rest = rest.slice(PLUGIN_STRING.exec(rest)?.[0].length ?? 0);
    const or = /^\s*OR\b/i.exec(rest);
    if (!or) break;
    rest = rest.slice(or[0].length);
  }
  return [...new Set(plugins)];
}

/**
 * Refuses, before anything is written, a restore of accounts whose authentication plugin the
 * target has not loaded: its `CREATE USER` would fail once the rows are in, leaving the target
 * half restored (found by a hostile test: `IDENTIFIED VIA ed25519` into a server without it).
 * @throws PermanentError `UNSUPPORTED_RESTORE` naming each plugin and its accounts
 */
export async function assertTargetAuthPlugins(connection: Connection, statements: readonly string[], target: string): Promise<void> {
  const wanted = new Map<string, string[]>();
  for (const { account, created } of createdAccounts(statements)) {
    for (const plugin of authPluginsOf(created)) wanted.set(plugin, [...(wanted.get(plugin) ?? []), account]);
  }
  if (wanted.size === 0) return;
  const [rows] = await connection.query("SELECT PLUGIN_NAME AS name FROM information_schema.PLUGINS WHERE PLUGIN_TYPE = 'AUTHENTICATION' AND PLUGIN_STATUS = 'ACTIVE'") as [Array<{ name: unknown }>, unknown];
  const loaded = new Set(rows.map((r) => String(r.name).toLowerCase()));
  const missing = [...wanted].filter(([plugin]) => !loaded.has(plugin));
  if (missing.length === 0) return;
  throw new PermanentError(
    `restore target ${target} has not loaded the authentication plugin${missing.length > 1 ? 's' : ''} ${missing.map(([plugin, accounts]) => `${plugin} (${nameSome(accounts)})`).join('; ')} the backup's accounts use: creating them would fail; load it there (INSTALL SONAME 'auth_ed25519', say) and restore again. Nothing was changed on the target`,
    { code: 'UNSUPPORTED_RESTORE', engine: ENGINE },
  );
}
