/**
 * What a logical restore needs of the target beyond privileges on its databases, checked before
 * it writes anything: the target would say so only once every row is loaded.
 *
 * - The post-schema (views, triggers, routines, events), applied after the rows:
 *   - keeping definers: an object whose definer is another account needs SET USER or its
 *     equivalent (version.ts {@link definerPrivileges});
 *   - functions and triggers on a target whose binary log is on need SUPER (version.ts
 *     {@link TRUSTED_ROUTINE_PRIVILEGES}) — whether or not the restore itself is logged — and a
 *     function declaring none of DETERMINISTIC, NO SQL, READS SQL DATA is refused there to
 *     everyone; both unless the target sets `log_bin_trust_function_creators`.
 * - A point-in-time replay, after that: the binary log's row events are applied as `BINLOG`
 *   statements (version.ts {@link replayPrivileges}).
 *
 * It refuses only what the server surely would: what depends on privileges it cannot read (a
 * role active, a server that checks none) it leaves to the server.
 */
import type { Connection } from 'mysql2/promise';
import { PermanentError } from '../../../core/errors';
import type { Logger } from '../../../core/logger';
import { nameSome } from '../../../core/name-some';
import { accountPrivileges, currentAccount } from '../shared/held-privileges';
import { describeAccount, sameAccount, type Account } from '../shared/account';
import { ENGINE } from '../shared/layout';
import { definedObject, definersOf } from '../shared/schema-objects';
import { definerPrivileges, replayPrivileges, TRUSTED_ROUTINE_PRIVILEGES, type ServerVersion } from '../shared/version';

type Row = Record<string, unknown>;

/** What the restore needs: any one of `anyOf`, held on `*.*` (none: no privilege will do), and why. */
interface Need {
  anyOf: readonly string[];
  why: string;
}

/**
 * The characteristics that let a function be created under a binary log, as `SHOW CREATE FUNCTION`
 * writes them: each on a line of its own between the header and the body (a body or a comment
 * saying "no sql" is not one).
 */
const SAFE_CHARACTERISTIC = /^\s*(?:DETERMINISTIC|NO\s+SQL|READS\s+SQL\s+DATA)\s*$/im;

/** What restoring `statements` (the post-schemas) as `me`, then a replay if `replay`, needs of this target. */
async function needsOf(connection: Connection, version: ServerVersion, statements: string[], me: Account, replay: boolean): Promise<Need[]> {
  const needs: Need[] = [];
  const others = definersOf(statements).filter((definer) => !sameAccount(definer, me));
  if (others.length > 0) {
    const anyOf = definerPrivileges(version);
    needs.push({ anyOf, why: `its objects keep their definers, other accounts (${nameSome(others.map(describeAccount), { most: 5 })}): that needs ${anyOf.join(' or ')} on *.* (GRANT ${anyOf[0]} ON *.* TO the restore user)` });
  }
  if (replay) {
    const anyOf = replayPrivileges(version);
    needs.push({ anyOf, why: `the point-in-time replay applies the binary logs' row events: that needs ${anyOf.join(' or ')} on *.* (GRANT ${anyOf[0]} ON *.* TO the restore user)` });
  }
  const defined = statements.map((statement) => ({ statement, object: definedObject(statement) }));
  const logged = defined.filter((d) => d.object?.kind === 'function' || d.object?.kind === 'trigger');
  if (logged.length === 0) return needs;
  const [[binlog]] = await connection.query('SELECT @@log_bin AS on_, @@log_bin_trust_function_creators AS trusted') as [Row[], unknown];
  if (Number(binlog.on_) !== 1 || Number(binlog.trusted) === 1) return needs;
  const kinds = [...new Set(logged.map((d) => `${d.object!.kind}s`))].join(' and ');
  needs.push({ anyOf: TRUSTED_ROUTINE_PRIVILEGES, why: `it creates ${kinds} and the target's binary log is on: that needs ${TRUSTED_ROUTINE_PRIVILEGES.join(' or ')} on *.* (or log_bin_trust_function_creators = 1 on the target)` });
  const unsafe = logged.filter((d) => d.object!.kind === 'function' && !SAFE_CHARACTERISTIC.test(d.statement)).map((d) => d.object!.name);
  if (unsafe.length > 0) {
    needs.push({ anyOf: [], why: `function ${nameSome(unsafe, { most: 5 })} declares none of DETERMINISTIC, NO SQL, READS SQL DATA, which the target refuses to every user while its binary log is on: set log_bin_trust_function_creators = 1 on the target` });
  }
  return needs;
}

/**
 * Refuses, before anything is written, a restore of `statements` (the post-schemas; with `replay`,
 * followed by a point-in-time replay) the target would refuse this session once every row is
 * loaded. What no privilege changes is always checked; privileges are not, with a warning, when a
 * role is active (its privileges are not listed where the check reads them) or when the server
 * lists none for the account (one started with --skip-grant-tables checks none).
 * @throws PermanentError `MYSQL_PRIVILEGES`, naming each need and why.
 */
export async function assertTargetAllows(connection: Connection, version: ServerVersion, restore: { statements: string[]; replay: boolean }, where: string, logger: Logger): Promise<void> {
  const me = await currentAccount(connection);
  const needs = await needsOf(connection, version, restore.statements, me, restore.replay);
  if (needs.length === 0) return;
  const missing = (held?: ReadonlySet<string>) => needs.filter((need) => held === undefined ? need.anyOf.length === 0 : !need.anyOf.some((privilege) => held.has(privilege)));
  const refuse = (unmet: Need[]) => {
    if (unmet.length === 0) return;
    throw new PermanentError(
      `${where}: the target would refuse ${describeAccount(me)} part of the restore once every row is loaded — ${unmet.map((need) => need.why).join('; ')}. Nothing was changed on the target`,
      { code: 'MYSQL_PRIVILEGES', engine: ENGINE },
    );
  };
  const held = await accountPrivileges(connection, version, me);
  if ('unreadable' in held) {
    logger.warn(`mysql restore: ${held.unreadable}, the privileges the restore needs are not checked up front`, held.detail);
    refuse(missing());
    return;
  }
  refuse(missing(held.global));
}
