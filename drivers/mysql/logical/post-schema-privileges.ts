/**
 * The post-schema (views, triggers, routines, events) is applied after every row is loaded, and
 * two things it does need privileges the restore user may lack, which the server names only then:
 *
 * - keeping definers: an object whose definer is another account needs SET USER or its
 *   equivalent (version.ts {@link definerPrivileges});
 * - functions and triggers on a target whose binary log is on need SUPER, unless the target sets
 *   `log_bin_trust_function_creators` (version.ts {@link TRUSTED_ROUTINE_PRIVILEGES}) — whether or not
 *   the restore itself is logged.
 *
 * So the restore reads the post-schemas first and checks both before it writes anything.
 */
import type { Connection } from 'mysql2/promise';
import { PermanentError } from '../../../core/errors';
import type { Logger } from '../../../core/logger';
import { nameSome } from '../../../core/name-some';
import { ENGINE } from '../shared/layout';
import { definedObject, definerOf, type Definer } from '../shared/schema-objects';
import { definerPrivileges, schemaReadPlan, TRUSTED_ROUTINE_PRIVILEGES, type ServerVersion } from '../shared/version';

type Row = Record<string, unknown>;
const text = (value: unknown): string => (Buffer.isBuffer(value) ? value.toString('utf8') : value === null || value === undefined ? '' : String(value));

const sameAccount = (a: Definer, b: Definer): boolean => a.user === b.user && (a.host ?? '').toLowerCase() === (b.host ?? '').toLowerCase();

const describe = (d: Definer): string => (d.host === undefined ? `role ${d.user}` : `${d.user}@${d.host}`);

/** The session's account, from `CURRENT_USER()` (`user@host`; a user name may hold an `@`, a host may not). */
function accountOf(current: string): Definer {
  const at = current.lastIndexOf('@');
  return at < 0 ? { user: current } : { user: current.slice(0, at), host: current.slice(at + 1) };
}

/** A privilege the post-schema needs: any one of `anyOf`, held on `*.*`, and why. */
interface Need {
  anyOf: readonly string[];
  why: string;
}

async function one(connection: Connection, sql: string): Promise<Row> {
  const [rows] = await connection.query(sql) as [Row[], unknown];
  return rows[0] ?? {};
}

/** What applying `statements` as `me` on this target needs beyond privileges on its databases. */
async function needsOf(connection: Connection, version: ServerVersion, statements: string[], me: Definer): Promise<Need[]> {
  const needs: Need[] = [];
  const others: Definer[] = [];
  for (const statement of statements) {
    const definer = definerOf(statement);
    if (definer && !sameAccount(definer, me) && !others.some((d) => sameAccount(d, definer))) others.push(definer);
  }
  if (others.length > 0) {
    const anyOf = definerPrivileges(version);
    needs.push({ anyOf, why: `its objects keep their definers, other accounts (${nameSome(others.map(describe), { most: 5 })}): that needs ${anyOf.join(' or ')} on *.*` });
  }
  const logged = statements.map((s) => definedObject(s)?.kind).filter((kind) => kind === 'function' || kind === 'trigger');
  if (logged.length > 0) {
    const binlog = await one(connection, 'SELECT @@log_bin AS on_, @@log_bin_trust_function_creators AS trusted');
    if (Number(binlog.on_) === 1 && Number(binlog.trusted) !== 1) {
      const anyOf = TRUSTED_ROUTINE_PRIVILEGES;
      needs.push({ anyOf, why: `it creates ${[...new Set(logged)].map((kind) => `${kind}s`).join(' and ')} and the target's binary log is on: that needs ${anyOf.join(' or ')} on *.* (or log_bin_trust_function_creators = 1 on the target)` });
    }
  }
  return needs;
}

/**
 * Refuses, before anything is written, a restore whose `statements` (the post-schemas) the
 * session could not apply for want of a global privilege. Skipped, with a warning, when a role is
 * active: its privileges are not listed where the check reads them (the server's refusal remains
 * the safety net).
 * @throws PermanentError `MYSQL_PRIVILEGES`, naming each privilege and why it is needed.
 */
export async function assertPostSchemaAllowed(connection: Connection, version: ServerVersion, statements: string[], where: string, logger: Logger): Promise<void> {
  const me = accountOf(text((await one(connection, 'SELECT CURRENT_USER() AS account')).account));
  const needs = await needsOf(connection, version, statements, me);
  if (needs.length === 0) return;
  const roleQuery = schemaReadPlan(version).currentRole;
  const role = roleQuery === undefined ? '' : text((await one(connection, roleQuery)).role);
  if (role !== '' && role !== 'NONE') {
    logger.warn('mysql restore: a role is active, the global privileges the post-schema needs are not checked up front', { role });
    return;
  }
  const [rows] = await connection.query('SELECT PRIVILEGE_TYPE AS p FROM information_schema.USER_PRIVILEGES') as [Row[], unknown];
  const held = new Set(rows.map((row) => text(row.p).toUpperCase()));
  const missing = needs.filter((need) => !need.anyOf.some((privilege) => held.has(privilege)));
  if (missing.length === 0) return;
  throw new PermanentError(
    `${where}: ${describe(me)} lacks privileges the backup's views, triggers, routines and events need, applied once every row is loaded — `
      + `${missing.map((need) => need.why).join('; ')}. Grant them (GRANT ${missing.map((need) => need.anyOf[0]).join(', ')} ON *.* TO the restore user), `
      + 'or restore as a user that has them; nothing was changed on the target',
    { code: 'MYSQL_PRIVILEGES', engine: ENGINE },
  );
}
