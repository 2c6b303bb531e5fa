/**
 * The post-schema (views, triggers, routines, events) is applied after every row is loaded, and
 * some of what it does the target refuses to some users, or to all, which the server says only
 * then:
 *
 * - keeping definers: an object whose definer is another account needs SET USER or its
 *   equivalent (version.ts {@link definerPrivileges});
 * - functions and triggers on a target whose binary log is on need SUPER (version.ts
 *   {@link TRUSTED_ROUTINE_PRIVILEGES}) — whether or not the restore itself is logged — and a
 *   function declared none of DETERMINISTIC, NO SQL, READS SQL DATA is refused there to everyone;
 *   both unless the target sets `log_bin_trust_function_creators`.
 *
 * So the restore reads the post-schemas first and checks these before it writes anything. It
 * refuses only what the server surely would: what it cannot tell (a role active, a server that
 * checks no privilege), it leaves to the server.
 */
import type { Connection } from 'mysql2/promise';
import { PermanentError } from '../../../core/errors';
import type { Logger } from '../../../core/logger';
import { nameSome } from '../../../core/name-some';
import { accountPrivileges, currentAccount, describeAccount, sameAccount, type Account } from '../shared/held-privileges';
import { ENGINE } from '../shared/layout';
import { definedObject, definerOf } from '../shared/schema-objects';
import { definerPrivileges, schemaReadPlan, TRUSTED_ROUTINE_PRIVILEGES, type ServerVersion } from '../shared/version';

type Row = Record<string, unknown>;

/** What the post-schema needs: any one of `anyOf`, held on `*.*` (none: no privilege will do), and why. */
interface Need {
  anyOf: readonly string[];
  why: string;
}

async function one(connection: Connection, sql: string): Promise<Row> {
  const [rows] = await connection.query(sql) as [Row[], unknown];
  return rows[0] ?? {};
}

/** A routine characteristic that lets a function be created under a binary log (any one will do). */
const SAFE_FUNCTION = /(?<!\bNOT\s+)\bDETERMINISTIC\b|\bNO\s+SQL\b|\bREADS\s+SQL\s+DATA\b/i;

/** What applying `statements` as `me` on this target needs beyond privileges on its databases. */
async function needsOf(connection: Connection, version: ServerVersion, statements: string[], me: Account): Promise<Need[]> {
  const needs: Need[] = [];
  const others: Account[] = [];
  for (const statement of statements) {
    const definer = definerOf(statement);
    if (definer && !sameAccount(definer, me) && !others.some((d) => sameAccount(d, definer))) others.push(definer);
  }
  if (others.length > 0) {
    const anyOf = definerPrivileges(version);
    needs.push({ anyOf, why: `its objects keep their definers, other accounts (${nameSome(others.map(describeAccount), { most: 5 })}): that needs ${anyOf.join(' or ')} on *.* (GRANT ${anyOf[0]} ON *.* TO the restore user)` });
  }
  const defined = statements.map((statement) => ({ statement, object: definedObject(statement) }));
  const logged = defined.filter((d) => d.object?.kind === 'function' || d.object?.kind === 'trigger');
  if (logged.length === 0) return needs;
  const binlog = await one(connection, 'SELECT @@log_bin AS on_, @@log_bin_trust_function_creators AS trusted');
  if (Number(binlog.on_) !== 1 || Number(binlog.trusted) === 1) return needs;
  const kinds = [...new Set(logged.map((d) => `${d.object!.kind}s`))].join(' and ');
  needs.push({ anyOf: TRUSTED_ROUTINE_PRIVILEGES, why: `it creates ${kinds} and the target's binary log is on: that needs ${TRUSTED_ROUTINE_PRIVILEGES.join(' or ')} on *.* (or log_bin_trust_function_creators = 1 on the target)` });
  const unsafe = logged.filter((d) => d.object!.kind === 'function' && !SAFE_FUNCTION.test(d.statement)).map((d) => d.object!.name);
  if (unsafe.length > 0) {
    needs.push({ anyOf: [], why: `function ${nameSome(unsafe, { most: 5 })} declares none of DETERMINISTIC, NO SQL, READS SQL DATA, which the target refuses to everyone while its binary log is on: set log_bin_trust_function_creators = 1 on the target` });
  }
  return needs;
}

/**
 * Refuses, before anything is written, a restore whose `statements` (the post-schemas) the
 * session could not apply. Skipped, with a warning, when a role is active (its privileges are not
 * listed where the check reads them) and when the server lists no privilege for the account (one
 * started with --skip-grant-tables checks none): the server's refusal remains the safety net.
 * @throws PermanentError `MYSQL_PRIVILEGES`, naming each need and why.
 */
export async function assertPostSchemaAllowed(connection: Connection, version: ServerVersion, statements: string[], where: string, logger: Logger): Promise<void> {
  const me = await currentAccount(connection);
  const needs = await needsOf(connection, version, statements, me);
  if (needs.length === 0) return;
  const skipped = (why: string, extra: Record<string, unknown> = {}) => logger.warn(`mysql restore: ${why}, the privileges the post-schema needs are not checked up front`, extra);
  const roleQuery = schemaReadPlan(version).currentRole;
  const role = roleQuery === undefined ? '' : String((await one(connection, roleQuery)).role ?? '');
  if (role !== '' && role !== 'NONE') return skipped('a role is active', { role });
  const held = await accountPrivileges(connection, version);
  if (!held) return skipped('the server lists no privilege for this account (started with --skip-grant-tables?)', { account: describeAccount(me) });
  const missing = needs.filter((need) => !need.anyOf.some((privilege) => held.global.has(privilege)));
  if (missing.length === 0) return;
  throw new PermanentError(
    `${where}: ${describeAccount(me)} cannot create the backup's views, triggers, routines or events, applied once every row is loaded — `
      + `${missing.map((need) => need.why).join('; ')}; restore as a user that can, or change the target; nothing was changed on the target`,
    { code: 'MYSQL_PRIVILEGES', engine: ENGINE },
  );
}
