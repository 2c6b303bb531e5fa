/**
 * Checks of the binlog window a point-in-time replay will apply, read before the restore touches
 * the target (the binlog tool run with rows decoded to comments; binlog-events.ts):
 *
 * - {@link assertStatementsKeepToScope}: after a logical restore the replay keeps to one database,
 *   renamed like the restore, and the tool does so by the session's default database alone
 *   (`--database`, `--rewrite-db`); the names a statement writes are neither filtered nor renamed
 *   (statement-names.ts). So a replayed statement writing to another database would change that
 *   database on the target (or fail there, half way), one naming the backed-up database under a
 *   rename (`TRUNCATE shop.t`, `DROP DATABASE shop`) would change the target's database of that
 *   name, and a statement changing the backed-up database from another session's default database
 *   would be skipped; an account statement would change the target's accounts, and stored code
 *   run (`CALL`) writes what the log does not show. So is an event the window creates or enables
 *   while the target's event scheduler is on: it would run there during the replay, and the
 *   replay applies what the source's runs of it wrote (the backup's own events are held meanwhile:
 *   logical/held-events.ts). Each is refused, naming up to three statements.
 * - {@link readStopOrder}: a time target stops at the first event stamped at or after it, as the
 *   tool does; transactions logged after that event yet stamped before the point (event times are
 *   statement starts: a clock step, `SET timestamp`, a replicated event) are counted, so the
 *   report can say they were left out.
 */
import { formatGtid, type Gtid } from '../shared/gtid';
import { PermanentError } from '../../../core/errors';
import { nameSome } from '../../../core/name-some';
import { ENGINE } from '../shared/layout';
import { readBinlogEvents, type WindowEvent } from './binlog-events';
import { quotedAliases, statementReach } from './statement-names';
import { statementMode } from '../shared/statement-mode';
import { definedObject } from '../shared/schema-objects';

/** Where the window's events come from: the tool, its argv for the replay (filters and stop included), and the files' names. */
export interface BinlogWindow {
  command: string;
  /** The replay's argv (point-in-time.ts `replayArgv`), with its `--database` and `--rewrite-db` when the replay is filtered. */
  argv: string[];
  /** The same without the filters: every event of the window. */
  unfilteredArgv: string[];
  /** File names in the order given to the tool (a message names the file an event is in). */
  files: string[];
  signal?: AbortSignal;
}

/** The statements a problem names at most, in its message. */
const NAMED = 3;

/**
 * Refuses a replay after a logical restore whose statements reach past the restored database (see
 * the file comment). `source` is the backed-up database as the binlog names it, `target` its name
 * on the target.
 * @throws PermanentError `UNSUPPORTED_RESTORE` naming up to three statements, their GTID and file.
 */
export async function assertStatementsKeepToScope(
  window: BinlogWindow, source: string, target: string,
  backup: { storedCode: readonly string[]; tables: readonly string[]; targetRunsEvents?: boolean } = { storedCode: [], tables: [] },
): Promise<void> {
  // Names compared exactly: on a server that keeps case (lower_case_table_names = 0) `Shop` is another database.
  const renamed = source !== target;
  /** The first problems, in words, and how many there are (a long window may hold thousands). */
  const problems: string[] = [];
  let count = 0;
  const problem = (text: string) => { count += 1; if (problems.length < NAMED) problems.push(text); };
  const tables = new Set(backup.tables);
  /** Whether a definition's names reach outside the restored database (its own tables', aliases' and NEW/OLD rows' names are columns). */
  const reachesOut = (definition: string) => {
    const aliases = quotedAliases(definition);
    return DYNAMIC_SQL.test(definition) || statementReach(definition).named
      .filter((name) => !ROW_RECORDS.has(name.toUpperCase()) && !tables.has(name) && !aliases.has(name))
      .some((name) => name !== source || renamed);
  };
  /** Triggers, functions, procedures and views (the backup's, then those the window creates) that reach outside: a data change may run them. */
  const reachingOut = backup.storedCode.filter(reachesOut).map(definitionName);
  /** The statements writing to the source database that the filtered replay applies, by where they end (a number each: a window may hold millions). */
  const replayedWritingSource = new Set<number>();
  const keyOf = (event: WindowEvent) => event.fileIndex * 2 ** 36 + event.endPosition;
  const reachOf = (event: WindowEvent) => (event.statement === undefined ? undefined : statementReach(event.statement, statementMode(event.sqlMode ?? 0)));

  // The filtered window first, then the whole one: a statement writing to the source that the filter left out was skipped.
  await readBinlogEvents(window.command, window.argv, (event) => {
    const reach = reachOf(event);
    if (!reach) return;
    const at = () => where(window, event); // words for a problem: built only for one
    if (reach.accounts) problem(`${at()} changes accounts or privileges (the mysql schema), which a logical restore does not restore: replayed, it would change the target's accounts`);
    if (reach.runsRoutine) problem(`${at()} runs stored code whose writes the binlog does not show: replayed, it could change other databases on the target`);
    if (reach.written.includes(source)) replayedWritingSource.add(keyOf(event));
    if (backup.targetRunsEvents && enablesEvent(event.statement!)) {
      problem(`${at()} creates or enables an event, which the target (its event scheduler on) would run while the replay applies what the source's runs of it wrote — twice; turn the target's event scheduler off for the restore (SET GLOBAL event_scheduler = OFF)`);
    }
    if (isStoredCode(event.statement!) && reachesOut(event.statement!)) reachingOut.push(definitionName(event.statement!));
    if (reachingOut.length > 0 && DML.test(event.statement!)) {
      problem(`${at()} is a data change logged as a statement (binlog_format STATEMENT or MIXED): replayed, the target runs it again with the triggers, functions and views it reaches, and ${reachingOut.slice(0, 2).join(', ')} reach${reachingOut.length === 1 ? 'es' : ''} outside ${target}; keep the source in ROW format`);
    }
    if (renamed && reach.named.includes(source)) problem(`${at()} names ${source} itself, which the rename to ${target} does not reach (the binlog tool renames the session's default database only): replayed, it would read or change the target's database ${source}`);
    const other = reach.written.find((q) => q !== source);
    if (other !== undefined) problem(`${at()} writes to database ${other}, which the restore did not restore: replayed, it would change ${other} on the target (or fail there, the restore half replayed)`);
  }, window.signal);
  await readBinlogEvents(window.command, window.unfilteredArgv, (event) => {
    if (reachOf(event)?.written.includes(source) && !replayedWritingSource.has(keyOf(event))) {
      problem(`${where(window, event)} changes ${source} from a session whose default database was another (or none): the binlog tool filters statements by that database and would skip it, leaving ${target} unlike the source`);
    }
  }, window.signal);
  if (count === 0) return;
  throw new PermanentError(
    `a point-in-time replay cannot keep to database ${source}${renamed ? ` (restored as ${target})` : ''}: ${nameSome(problems, { separator: '; ', most: NAMED, total: count })}. Restore to a point before it, or use a physical backup, whose replay applies every statement as logged`,
    { code: 'UNSUPPORTED_RESTORE', engine: ENGINE },
  );
}

/** An ALTER EVENT that enables its event. */
const ENABLES_EVENT = /^\s*ALTER\s+(?:DEFINER\s*=\s*\S+\s+)?EVENT\b[\s\S]*\bENABLE\b/i;

/**
 * Whether `statement` creates an event that runs (not created DISABLE, or DISABLE ON SLAVE) or
 * enables one: generous, so that a body or comment holding the word DISABLE lets it pass.
 */
function enablesEvent(statement: string): boolean {
  if (definedObject(statement)?.kind === 'event') return !/\bDISABLE\b/i.test(statement);
  return ENABLES_EVENT.test(statement);
}

/** `GTID 0-1-7 in binlog.000002 (TRUNCATE shop.t)`, an account statement's password masked. */
function where(window: BinlogWindow, event: WindowEvent): string {
  const statement = withoutPasswords(event.statement ?? '').replace(/\s+/g, ' ').trim();
  const shown = statement.length > 120 ? `${statement.slice(0, 120)}…` : statement;
  return `the statement ${event.transaction ? `of GTID ${formatGtid(event.transaction)} ` : ''}in ${window.files[event.fileIndex] ?? 'the binlogs'} (${shown})`;
}

/** An event of the window, as a report names it. */
export interface NamedEvent {
  [key: string]: string | null;
  at: string;
  gtid: string | null;
  file: string;
}

/** What {@link readStopOrder} found about a time target's stop. */
export interface StopOrder {
  /** The first event stamped at or after the point: where the replay stops. Absent: the archives end before the point. */
  stoppedAt?: NamedEvent;
  /** Transactions logged right after it (up to the next one stamped at or after the point) yet stamped before the point: not replayed. */
  stampedBefore: { count: number; first?: NamedEvent };
}

/**
 * Reads the window from the replay's start, unfiltered and without a stop, for where a replay to
 * `stopMs` stops (the first event stamped at or after it, as the tool's `--stop-datetime`) and the
 * transactions logged right after that event but stamped before the point. Stops reading at the
 * first transaction after the stop stamped at or after the point.
 */
export async function readStopOrder(window: Pick<BinlogWindow, 'command' | 'files' | 'signal'>, startArgv: string[], stopMs: number): Promise<StopOrder> {
  const order: StopOrder = { stampedBefore: { count: 0 } };
  const named = (event: WindowEvent): NamedEvent => ({
    at: event.at.toISOString(),
    gtid: event.gtid ? formatGtid(event.gtid) : null,
    file: window.files[event.fileIndex] ?? '',
  });
  await readBinlogEvents(window.command, startArgv, (event) => {
    if (!order.stoppedAt) {
      if (event.at.getTime() >= stopMs) order.stoppedAt = named(event);
      return undefined;
    }
    if (!event.gtid) return undefined;
    if (event.at.getTime() >= stopMs) return 'stop';
    order.stampedBefore.count += 1;
    order.stampedBefore.first ??= named(event);
    return undefined;
  }, window.signal);
  return order;
}

/**
 * The GTID domains of the transactions in the window up to `untilGtid`'s (read unfiltered from the
 * replay's start; all of the window when it is not there), and whether it is there: a GTID target replays its own domain's
 * transactions only (point-in-time.ts `assertOneGtidDomain`), so any other domain here would be
 * left out, also one no backup recorded yet.
 */
export async function domainsUpTo(window: Pick<BinlogWindow, 'command' | 'signal'>, startArgv: string[], untilGtid: Gtid): Promise<{ domains: Set<number>; reached: boolean }> {
  const domains = new Set<number>();
  let reached = false;
  await readBinlogEvents(window.command, startArgv, (event) => {
    if (!event.gtid) return undefined;
    domains.add(event.gtid.domain);
    reached = event.gtid.domain === untilGtid.domain && event.gtid.server === untilGtid.server && event.gtid.sequence === untilGtid.sequence;
    return reached ? 'stop' : undefined;
  }, window.signal);
  return { domains, reached };
}

/** A statement that changes rows (logged as a statement in STATEMENT or MIXED format). */
const DML = /^\s*(?:\/\*[\s\S]*?\*\/\s*)*(INSERT|UPDATE|DELETE|REPLACE|LOAD)\b/i;

/**
 * A definition a data change may run: a trigger, a stored function, a procedure (a trigger or
 * function may call it), a view (an update through it writes its tables).
 */
const STORED_CODE = /^\s*CREATE\b[\s\S]{0,300}?\b(TRIGGER|FUNCTION|PROCEDURE|VIEW)\b/i;

/** SQL built at run time: what it reaches is not in the definition's text. */
const DYNAMIC_SQL = /\b(PREPARE|EXECUTE\s+IMMEDIATE)\b/i;

function isStoredCode(statement: string): boolean {
  return STORED_CODE.test(statement);
}

/** A trigger's row records (`NEW.c`, `OLD.c`): not databases. */
const ROW_RECORDS = new Set(['NEW', 'OLD']);

/** `trigger shop_log`, `view v`: a definition as a message names it. */
function definitionName(statement: string): string {
  const match = /\b(TRIGGER|FUNCTION|PROCEDURE|VIEW)\s+((?:`(?:[^`]|``)*`|\w+)(?:\.(?:`(?:[^`]|``)*`|\w+))?)/i.exec(statement);
  return match ? `${match[1].toLowerCase()} ${match[2]}` : 'stored code';
}

/** The backup's triggers, stored functions, procedures and views, from its post-schema statements (a data change may run them). */
export function storedCodeOf(statements: readonly string[]): string[] {
  return statements.filter(isStoredCode);
}

const LITERAL = "'(?:[^'\\\\]|\\\\.|'')*'";

/** `statement` with the passwords of `IDENTIFIED BY '…'`, `PASSWORD('…')` and `SET PASSWORD … = '…'` replaced by `'***'` (a refusal quotes it). */
export function withoutPasswords(statement: string): string {
  return statement
    .replace(new RegExp(`(IDENTIFIED\\s+(?:BY(?:\\s+PASSWORD)?|(?:VIA|WITH)\\s+\\w+\\s+(?:USING|AS|BY))\\s+)${LITERAL}`, 'gi'), "$1'***'")
    .replace(new RegExp(`((?:OLD_)?PASSWORD\\s*\\(\\s*)${LITERAL}`, 'gi'), "$1'***'")
    .replace(new RegExp(`(SET\\s+PASSWORD\\b[^=]*=\\s*)${LITERAL}`, 'gi'), "$1'***'");
}
