/**
 * Events a logical restore holds until it is proven. The backup's post-schema creates its events
 * after the rows are loaded and read back, and an enabled event would run on the target — on a
 * server whose event scheduler is on (MySQL's default) — before the restore's validation counts
 * every table again: a cleanup event deleting old rows makes a whole restore look wrong. And with a
 * point-in-time replay to follow, it would run while the replay also applies the rows the source's
 * own runs of it wrote: those changes would be made twice. So the restore creates each enabled
 * event `DISABLE ON SLAVE` (`DISABLE ON REPLICA` on MySQL ≥ 8.0.22: the status a replica gives an
 * event, kept, not run) and enables it once the validation has passed (restore-driver.ts
 * `afterValidation`), unless a replay changed its status meanwhile.
 *
 * A window that itself creates or enables an event is refused while the target's event scheduler
 * is on (point-in-time/window-checks.ts): that event would run during the replay.
 */
import type { Connection } from 'mysql2/promise';
import { quoteId } from '../shared/connection';
import { isExactly } from '../shared/exact-names';
import { accountNamed, type Account } from '../shared/account';
import { definedObject, definerOf } from '../shared/schema-objects';

/** An event held until the restore is proven: its database (under its target name) and name. */
export interface HeldEvent {
  database: string;
  name: string;
}

/**
 * The status clause of a `CREATE EVENT` as the server shows it (`SHOW CREATE EVENT`: `ON SCHEDULE
 * …  ON COMPLETION [NOT] PRESERVE <status> [COMMENT …] DO …`): its first occurrence is the
 * header's, before any comment or body.
 */
const ENABLED_STATUS = /(\bON\s+COMPLETION\s+(?:NOT\s+)?PRESERVE\s+)ENABLE\b/i;

/**
 * `statement` creating its event held (`status`: version.ts {@link heldEventStatus}), with the
 * event it holds, when it creates an enabled event; undefined for any other statement.
 */
export function heldEventStatement(statement: string, database: string, status: string): { statement: string; event: HeldEvent } | undefined {
  const defined = definedObject(statement);
  if (defined?.kind !== 'event' || !ENABLED_STATUS.test(statement)) return undefined;
  return { statement: statement.replace(ENABLED_STATUS, `$1${status}`), event: { database, name: defined.name } };
}

/** `statements` of `database`'s post-schema with each enabled event held (`status`); the events held are added to `held`. */
export function holdEvents(statements: string[], database: string, status: string, held: HeldEvent[]): string[] {
  return statements.map((statement) => {
    const holding = heldEventStatement(statement, database, status);
    if (!holding) return statement;
    held.push(holding.event);
    return holding.statement;
  });
}

/** How information_schema shows a held event: MariaDB and MySQL before 8.4, MySQL 8.4 on. */
const HELD_STATUSES: ReadonlySet<string | undefined> = new Set(['SLAVESIDE_DISABLED', 'REPLICA_SIDE_DISABLED']);

/** `DEFINER=…` naming `account`. */
function definerClause(account: Account): string {
  return `DEFINER=${quoteId(account.user)}${account.host === undefined ? '' : `@${quoteId(account.host)}`}`;
}

/** Each of `held` as the target shows it now: its status and definer (none: it is gone). */
async function statesOf(connection: Connection, held: readonly HeldEvent[]): Promise<Array<{ event: HeldEvent; status?: string; definer?: string }>> {
  const states = [];
  for (const event of held) {
    const [rows] = await connection.query(
      `SELECT STATUS AS status, DEFINER AS definer FROM information_schema.EVENTS WHERE ${isExactly('EVENT_SCHEMA')} AND ${isExactly('EVENT_NAME')}`,
      [event.database, event.database, event.name, event.name],
    ) as [Array<{ status: string; definer: string }>, unknown];
    states.push({ event, status: rows[0]?.status, definer: rows[0]?.definer });
  }
  return states;
}

/** The events of `held` the target still holds. */
export async function stillHeld(connection: Connection, held: readonly HeldEvent[]): Promise<HeldEvent[]> {
  return (await statesOf(connection, held)).filter((s) => HELD_STATUSES.has(s.status)).map((s) => s.event);
}

/**
 * Enables the events of `held` still held: not one a replay dropped, nor one whose status it set
 * (it stands as the source had it). Each keeps its definer (an ALTER EVENT without one makes the
 * restoring user the event's definer). Returns the events enabled now, and those found enabled
 * already (by a replay, or by an earlier attempt of the step that was retried).
 */
export async function releaseHeldEvents(connection: Connection, held: readonly HeldEvent[]): Promise<{ enabled: HeldEvent[]; alreadyEnabled: HeldEvent[] }> {
  const enabled: HeldEvent[] = [];
  const alreadyEnabled: HeldEvent[] = [];
  for (const { event, status, definer } of await statesOf(connection, held)) {
    if (status === 'ENABLED') alreadyEnabled.push(event);
    if (!HELD_STATUSES.has(status)) continue;
    await connection.query(`ALTER ${definerClause(accountNamed(definer!))} EVENT ${quoteId(event.database)}.${quoteId(event.name)} ENABLE`);
    enabled.push(event);
  }
  return { enabled, alreadyEnabled };
}

/**
 * An event dropped once its time has passed: `ON COMPLETION NOT PRESERVE`, the completion being the
 * first after the schedule, which is the statement's first clause (as `SHOW CREATE EVENT` writes
 * the header, before any COMMENT or body that may say the same words).
 */
const NOT_PRESERVED = /^((?:(?!\bON\s+SCHEDULE\b)[\s\S])*\bON\s+SCHEDULE\b(?:(?!\bON\s+COMPLETION\b)[\s\S])*\bON\s+COMPLETION\s+)NOT\s+(PRESERVE\b)/i;

/**
 * `statements` of a post-schema (applied in its database: the ALTER names the event alone, as the
 * CREATE does) with each event that is not preserved (`ON COMPLETION NOT PRESERVE`) created
 * preserved and then altered back: a server drops such an event at its creation when its time
 * has passed (a one-time event's `AT`, a recurring one's `ENDS`), though the source keeps it while
 * it has not run (disabled, or the event scheduler off; a hostile test's recurring event whose end
 * had passed made every restore of its backup fail validation). The ALTER names the event's
 * definer (without one it would become the restoring user's).
 */
export function keepUnpreservedEvents(statements: string[]): string[] {
  return statements.flatMap((statement) => {
    const defined = definedObject(statement);
    if (defined?.kind !== 'event' || !NOT_PRESERVED.test(statement)) return [statement];
    const definer = definerOf(statement);
    const clause = definer ? `${definerClause(definer)} ` : '';
    return [statement.replace(NOT_PRESERVED, '$1$2'), `ALTER ${clause}EVENT ${quoteId(defined.name)} ON COMPLETION NOT PRESERVE`];
  });
}
