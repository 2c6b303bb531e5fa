/**
 * Captures the schema of a logical backup as statements the restore executes one by one, and the
 * framing of the schema artifacts.
 *
 * Per database (see layout.ts for the names):
 * - **pre-schema** `schema/<db>.sql`, applied before the data: the `CREATE DATABASE` statement
 *   (`SHOW CREATE DATABASE`, so its character set and collation), then `SHOW CREATE TABLE` of every
 *   base table and sequence (each sequence followed by a `SETVAL` restoring its next value).
 * - **post-schema** `schema/<db>.post.sql`, applied after the data: stored routines (packages,
 *   functions, procedures), views (ordered so a view comes after the views it reads), triggers (in
 *   their firing order per table and event) and events. Each object is preceded by the session
 *   settings it was created with: `SET SESSION sql_mode`, `character_set_client`,
 *   `collation_connection` (and `time_zone` for events), so definers, modes and character sets are
 *   preserved. Views are rendered by the server under an empty sql_mode, which is what precedes them.
 * - **users** `schema/users.sql` (optional): `CREATE ROLE`/`CREATE USER IF NOT EXISTS` for every
 *   non-system account, then every `GRANT` (`SHOW GRANTS`), so grants of roles find them.
 *
 * Statements reference objects of their own database unqualified (captured with that database as
 * the default one), so a restore into a renamed database only has to rename `CREATE DATABASE`.
 * There are no `DELIMITER` lines and no `;` terminators: see {@link formatSchemaStatements}.
 */
import { escape as escapeLiteral, type Connection } from 'mysql2/promise';
import { PermanentError, TransientError } from '../../../core/errors';
import { ER_VIEW_INVALID, errnoOf } from '../shared/errors';
import { quoteId } from '../shared/connection';
import { isExactly } from '../shared/exact-names';
import { accountPrivileges } from '../shared/held-privileges';
import { ENGINE } from '../shared/layout';
import { routinesReadable, schemaReadPlan, type ServerVersion } from '../shared/version';
import { catalogText } from '../shared/catalog-text';
import { namesTlsStrings, tlsStringsOf, withTlsStringsEscaped, type TlsStrings } from './tls-requirements';

/** The line that opens every statement of a schema artifact; the byte length of the statement follows it. */
export const SCHEMA_STATEMENT_MARKER = '-- dbbackup:statement';

/**
 * Frames statements into the text of a schema artifact. Each statement is written as
 *
 *     -- dbbackup:statement <N>\n<N bytes of UTF-8 statement text>\n
 *
 * The length prefix makes splitting unambiguous whatever a statement contains (a routine body may
 * hold any text, even this marker), and the file stays readable: every marker line is an SQL comment.
 * Lines between statements that start with `--` are comments (the file starts with one).
 */
export function formatSchemaStatements(statements: string[], comment?: string): string {
  const parts: string[] = [];
  if (comment) parts.push(`-- ${comment.replace(/\n/g, ' ')}\n`);
  for (const statement of statements) {
    parts.push(`${SCHEMA_STATEMENT_MARKER} ${Buffer.byteLength(statement, 'utf8')}\n${statement}\n`);
  }
  return parts.join('');
}

/**
 * Splits the text of a schema artifact back into its statements (the inverse of
 * {@link formatSchemaStatements}).
 * @throws PermanentError `SCHEMA_INVALID` when the text is not a sequence of framed statements
 *   (truncated, edited, or not a schema artifact).
 */
export function splitSchemaStatements(text: string | Buffer): string[] {
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8');
  const statements: string[] = [];
  const marker = Buffer.from(`${SCHEMA_STATEMENT_MARKER} `);
  let at = 0;
  const invalid = (why: string) => new PermanentError(`schema artifact is invalid at byte ${at}: ${why}`, { code: 'SCHEMA_INVALID', engine: ENGINE });
  while (at < bytes.length) {
    const lineEnd = bytes.indexOf(0x0a, at);
    const end = lineEnd === -1 ? bytes.length : lineEnd;
    const line = bytes.subarray(at, end);
    if (line.subarray(0, marker.length).equals(marker)) {
      const length = line.subarray(marker.length).toString('latin1');
      if (!/^\d+$/.test(length)) throw invalid(`bad statement length '${length}'`);
      const start = end + 1;
      const stop = start + Number(length);
      if (lineEnd === -1 || stop + 1 > bytes.length || bytes[stop] !== 0x0a) throw invalid('statement is truncated or its length is wrong');
      statements.push(bytes.subarray(start, stop).toString('utf8'));
      at = stop + 1;
    } else if (line.length === 0 || line.toString('latin1').trim() === '' || (line[0] === 0x2d && line[1] === 0x2d)) {
      at = end + 1; // blank line or comment between statements
    } else {
      throw invalid('text outside a statement frame');
    }
  }
  return statements;
}

/** The statements of one database's schema. */
export interface DatabaseSchema {
  database: string;
  /** Applied before the data: CREATE DATABASE, tables, sequences. */
  pre: string[];
  /** Applied after the data: routines, views, triggers, events (with their session settings). */
  post: string[];
  /** What was captured, for logs and facts. */
  objects: { tables: string[]; views: string[]; routines: string[]; triggers: string[]; events: string[]; sequences: string[] };
  /** Views of `objects.views` the server cannot resolve, with its words: captured all the same, but no server would create them as they are. */
  brokenViews: Array<{ name: string; problem: string }>;
}

type Row = Record<string, unknown>;

const literal = (value: string): string => escapeLiteral(value);

async function rows(connection: Connection, sql: string, values: unknown[] = []): Promise<Row[]> {
  const [result] = await connection.query(sql, values) as [Row[], unknown];
  return result;
}

/** A `SHOW CREATE` statement, the column of its row holding the definition, and what to say when it is missing or hidden. */
interface ShowCreate {
  sql: string;
  column: string | RegExp;
  what: string;
  privilege: string;
}

/**
 * `SHOW CREATE` statements sent this many to a query (the connection runs multiple statements):
 * a schema of 1 000 tables is 8 round trips, not 1 000 — each a socket write and a server wakeup
 * competing with the dump for the client's thread.
 */
export const SHOW_CREATE_BATCH = 128;

/** The results of a multi-statement query, one per statement (mysql2 unwraps a single statement's). */
function perStatement(result: unknown, statements: number): Row[][] {
  return statements === 1 ? [result as Row[]] : result as Row[][];
}

/** The first row of each `SHOW CREATE` statement, in order, or a clear error when one is missing or hidden. */
async function showCreateAll(connection: Connection, requests: ShowCreate[]): Promise<Array<{ row: Row; statement: string }>> {
  const shown: Array<{ row: Row; statement: string }> = [];
  for (let at = 0; at < requests.length; at += SHOW_CREATE_BATCH) {
    const batch = requests.slice(at, at + SHOW_CREATE_BATCH);
    const [result] = await connection.query(batch.map((r) => r.sql).join(';\n'));
    perStatement(result, batch.length).forEach((rows, i) => shown.push(definition(rows[0], batch[i])));
  }
  return shown;
}

/** The definition `request` asked for, from the first row of its result. */
function definition(row: Row | undefined, { column, what, privilege }: ShowCreate): { row: Row; statement: string } {
  if (!row) throw new TransientError(`${what} disappeared while the schema was read (DDL while backing up); retry the backup`, { code: 'MYSQL_SCHEMA_CHANGED', engine: ENGINE });
  const key = typeof column === 'string' ? column : Object.keys(row).find((k) => column.test(k));
  const statement = key === undefined ? '' : catalogText(row[key]);
  if (statement.length === 0) {
    throw new PermanentError(`missing privilege ${privilege}: the server hides the definition of ${what} from this user`, { code: 'MYSQL_PRIVILEGES', engine: ENGINE });
  }
  return { row, statement };
}

/** The first row of one `SHOW CREATE` statement ({@link showCreateAll}). */
async function showCreate(connection: Connection, sql: string, column: string | RegExp, what: string, privilege: string): Promise<{ row: Row; statement: string }> {
  const [shown] = await showCreateAll(connection, [{ sql, column, what, privilege }]);
  return shown;
}

/**
 * An object's `sql_mode`, without `NO_AUTO_CREATE_USER` (no effect on object bodies, and MySQL 8
 * rejects it), so dumps of older servers restore on newer ones.
 */
export function portableSqlMode(mode: string): string {
  return mode.split(',').filter((m) => m.length > 0 && m.toUpperCase() !== 'NO_AUTO_CREATE_USER').join(',');
}

/** The session settings that precede an object's CREATE statement. */
function sessionFor(row: Row, options: { sqlMode?: string; timeZone?: boolean } = {}): string[] {
  const statements = [`SET SESSION sql_mode = ${literal(options.sqlMode ?? portableSqlMode(catalogText(row.sql_mode)))}`];
  if (row.character_set_client) statements.push(`SET SESSION character_set_client = ${literal(catalogText(row.character_set_client))}`);
  if (row.collation_connection) statements.push(`SET SESSION collation_connection = ${literal(catalogText(row.collation_connection))}`);
  if (options.timeZone && row.time_zone) statements.push(`SET SESSION time_zone = ${literal(catalogText(row.time_zone))}`);
  return statements;
}

/**
 * Orders views so that each comes after the views of `names` its definition mentions (as a
 * backquoted identifier). Mentions that are not dependencies (a column named like a view) only
 * constrain the order; a cycle keeps the remaining views in name order (the restore retries a
 * statement whose dependency is created later).
 */
export function orderViews(definitions: Map<string, string>): string[] {
  const names = [...definitions.keys()].sort();
  const dependsOn = new Map(names.map((name) => [name, names.filter((other) => other !== name && definitions.get(name)!.includes(quoteId(other)))]));
  const ordered: string[] = [];
  const placed = new Set<string>();
  while (ordered.length < names.length) {
    const ready = names.filter((name) => !placed.has(name) && dependsOn.get(name)!.every((d) => placed.has(d)));
    const next = ready.length > 0 ? ready : names.filter((name) => !placed.has(name)).slice(0, 1);
    for (const name of next) {
      ordered.push(name);
      placed.add(name);
    }
  }
  return ordered;
}

/**
 * Reads the schema of `database` on `connection` (a server of `version`): a text (utf8mb4) session. It switches the
 * session's default database and sets its `sql_mode` to '' (so the server renders definitions with
 * backquotes and unqualified same-database names) and its `time_zone` to UTC, the restore's schema
 * session's (target-connection.ts `SCHEMA_SESSION`): `SHOW CREATE TABLE` renders a TIMESTAMP
 * column's default in the session's zone, so the default means the same instant there.
 * Sequences come before the tables, which may take their defaults from them (`DEFAULT NEXTVAL`).
 */
export async function captureDatabaseSchema(connection: Connection, version: ServerVersion, database: string): Promise<DatabaseSchema> {
  const { objects: shownBy, routines: routineAccess } = schemaReadPlan(version);
  await connection.query(`USE ${quoteId(database)}`);
  await connection.query("SET SESSION sql_mode = '', SESSION sql_quote_show_create = 1, SESSION time_zone = '+00:00'");
  const db = quoteId(database);
  const objects: DatabaseSchema['objects'] = { tables: [], views: [], routines: [], triggers: [], events: [], sequences: [] };
  const pre: string[] = [];
  const post: string[] = [];

  pre.push((await showCreate(connection, `SHOW CREATE DATABASE ${db}`, 'Create Database', `database ${database}`, 'SHOW DATABASES')).statement);

  const tables = await rows(connection,
    `SELECT TABLE_NAME AS name, TABLE_TYPE AS type FROM information_schema.TABLES WHERE ${isExactly('TABLE_SCHEMA')} ORDER BY TABLE_NAME`, [database, database]);
  const sequences: string[] = [];
  const baseTables = tables.map((t) => ({ name: catalogText(t.name), kind: catalogText(t.type) === 'SEQUENCE' ? 'sequence' : 'table', type: catalogText(t.type) }))
    .filter((t) => t.type !== 'VIEW' && t.type !== 'SYSTEM VIEW')
    .sort((a, b) => Number(b.kind === 'sequence') - Number(a.kind === 'sequence')); // stable: each kind in name order
  const created = await showCreateAll(connection, baseTables.map(({ name, kind }) => (
    { sql: `SHOW CREATE ${kind.toUpperCase()} ${quoteId(name)}`, column: 'Create Table', what: `${kind} ${database}.${name}`, privilege: shownBy.tables })));
  for (const [i, { name, kind }] of baseTables.entries()) {
    pre.push(created[i].statement);
    if (kind === 'sequence') {
      sequences.push(name);
      objects.sequences.push(name);
    } else {
      objects.tables.push(name);
    }
  }
  for (const name of sequences) {
    const [state] = await rows(connection, `SELECT next_not_cached_value AS next, cycle_count AS round FROM ${quoteId(name)}`);
    pre.push(`DO SETVAL(${quoteId(name)}, ${catalogText(state.next)}, 0, ${catalogText(state.round)})`);
  }

  // Routines first: views and triggers may call them, and a routine body is not resolved at creation.
  const routines = await rows(connection,
    `SELECT ROUTINE_NAME AS name, ROUTINE_TYPE AS type FROM information_schema.ROUTINES WHERE ${isExactly('ROUTINE_SCHEMA')}
      ORDER BY FIELD(ROUTINE_TYPE, 'PACKAGE', 'PACKAGE BODY', 'FUNCTION', 'PROCEDURE'), ROUTINE_NAME`, [database, database]);
  const routineNames = routines.map((r) => ({ name: catalogText(r.name), type: catalogText(r.type).toUpperCase() }));
  const routinesShown = await showCreateAll(connection, routineNames.map(({ name, type }) => (
    { sql: `SHOW CREATE ${type} ${quoteId(name)}`, column: /^Create /, what: `${type.toLowerCase()} ${database}.${name}`, privilege: routineAccess.grant })));
  for (const [i, { name, type }] of routineNames.entries()) {
    post.push(...sessionFor(routinesShown[i].row), routinesShown[i].statement);
    objects.routines.push(`${type.toLowerCase()} ${name}`);
  }

  const viewNames = tables.filter((t) => catalogText(t.type) === 'VIEW').map((t) => catalogText(t.name));
  const viewsShown = await showCreateAll(connection, viewNames.map((name) => (
    { sql: `SHOW CREATE VIEW ${quoteId(name)}`, column: 'Create View', what: `view ${database}.${name}`, privilege: shownBy.views })));
  const views = new Map(viewNames.map((name, i) => [name, viewsShown[i]]));
  for (const name of orderViews(new Map([...views].map(([n, v]) => [n, v.statement])))) {
    const { row, statement } = views.get(name)!;
    post.push(...sessionFor(row, { sqlMode: '' }), statement);
    objects.views.push(name);
  }

  const brokenViews = await unresolvedViews(connection, database, viewNames);

  const triggers = await rows(connection,
    `SELECT TRIGGER_NAME AS name FROM information_schema.TRIGGERS WHERE ${isExactly('TRIGGER_SCHEMA')}
      ORDER BY EVENT_OBJECT_TABLE, ACTION_TIMING, EVENT_MANIPULATION, ACTION_ORDER, TRIGGER_NAME`, [database, database]);
  const triggerNames = triggers.map((t) => catalogText(t.name));
  const triggersShown = await showCreateAll(connection, triggerNames.map((name) => (
    { sql: `SHOW CREATE TRIGGER ${quoteId(name)}`, column: 'SQL Original Statement', what: `trigger ${database}.${name}`, privilege: shownBy.triggers })));
  for (const [i, name] of triggerNames.entries()) {
    post.push(...sessionFor(triggersShown[i].row), triggersShown[i].statement);
    objects.triggers.push(name);
  }

  const events = await rows(connection, `SELECT EVENT_NAME AS name FROM information_schema.EVENTS WHERE ${isExactly('EVENT_SCHEMA')} ORDER BY EVENT_NAME`, [database, database]);
  const eventNames = events.map((e) => catalogText(e.name));
  const eventsShown = await showCreateAll(connection, eventNames.map((name) => (
    { sql: `SHOW CREATE EVENT ${quoteId(name)}`, column: 'Create Event', what: `event ${database}.${name}`, privilege: shownBy.events })));
  for (const [i, name] of eventNames.entries()) {
    post.push(...sessionFor(eventsShown[i].row, { timeZone: true }), eventsShown[i].statement);
    objects.events.push(name);
  }
  return { database, pre, post, objects, brokenViews };
}

/**
 * The views of `names` (in the session's database) the server cannot resolve — a table, column or
 * function they read is gone, or their definer lacks the rights — each with the server's words.
 * information_schema lists no columns for them; `SHOW COLUMNS` says why, ER_VIEW_INVALID (mysqldump
 * stops there). Measured on MariaDB 10.11: a dropped table, column or function gives that error; a
 * definer that does not exist does not.
 */
async function unresolvedViews(connection: Connection, database: string, names: string[]): Promise<Array<{ name: string; problem: string }>> {
  if (names.length === 0) return [];
  const resolved = new Set((await rows(connection,
    `SELECT DISTINCT TABLE_NAME AS name FROM information_schema.COLUMNS WHERE ${isExactly('TABLE_SCHEMA')} AND BINARY TABLE_NAME IN (?)`, [database, database, names]))
    .map((r) => catalogText(r.name)));
  const broken: Array<{ name: string; problem: string }> = [];
  for (const name of names.filter((n) => !resolved.has(n))) {
    try {
      await connection.query(`SHOW COLUMNS FROM ${quoteId(name)}`);
    } catch (error) {
      if (errnoOf(error) !== ER_VIEW_INVALID) throw error; // the view dropped meanwhile (1146, DDL), the connection lost, ...
      broken.push({ name, problem: (error as Error).message });
    }
  }
  return broken;
}

/** Accounts that belong to the server, not to the data: never captured. */
const SYSTEM_ACCOUNTS = new Set(['root', 'mariadb.sys', 'mysql.sys', 'mysql.session', 'mysql.infoschema', 'PUBLIC', '']);

/** `'user'@'host'` for statements. */
const account = (user: string, host: string): string => `${literal(user)}@${literal(host)}`;

/**
 * Reads every non-system account (roles first), as `CREATE ROLE`/`CREATE USER IF NOT EXISTS`
 * statements followed by their `GRANT` statements. `root`, anonymous accounts and the servers' own
 * accounts are left out: restoring them would lock an operator out of the target.
 */
export async function captureUsers(connection: Connection, version: ServerVersion): Promise<{ statements: string[]; accounts: string[] }> {
  const plan = schemaReadPlan(version).accounts;
  const accounts = (await rows(connection, plan.list))
    .map((r) => ({ user: catalogText(r.user), host: catalogText(r.host), role: catalogText(r.isRole) === 'Y' }))
    .filter((a) => !SYSTEM_ACCOUNTS.has(a.user));
  const creates: string[] = [];
  const grants: string[] = [];
  for (const a of accounts) {
    const who = a.role ? quoteId(a.user) : account(a.user, a.host);
    let tls: TlsStrings = {};
    if (a.role) {
      creates.push(`CREATE ROLE IF NOT EXISTS ${who}`);
    } else {
      const { statement } = await showCreate(connection, `SHOW CREATE USER ${who}`, /^CREATE USER/i, `account ${a.user}@${a.host}`, plan.privilege);
      if (namesTlsStrings(statement)) tls = await tlsStringsOf(connection, version, a.user, a.host);
      creates.push(withTlsStringsEscaped(statement, tls).replace(/^CREATE USER (?!IF NOT EXISTS)/i, 'CREATE USER IF NOT EXISTS '));
    }
    for (const grant of await rows(connection, `SHOW GRANTS FOR ${who}`)) grants.push(withTlsStringsEscaped(catalogText(Object.values(grant)[0]), tls));
  }
  return { statements: [...creates, ...grants], accounts: accounts.map((a) => (a.role ? a.user : `${a.user}@${a.host}`)) };
}

/**
 * Refuses to start a backup that would silently miss objects. The server hides from a user the
 * tables it has no privilege on, the triggers without TRIGGER, the events without EVENT and other
 * definers' routines without the privilege the server's version wants for them (see
 * `routineReadPlan` in version.ts, where these rules live): nothing fails, they are just absent.
 * So before the dump, the user's global and per-database privileges (held-privileges.ts: its own
 * and PUBLIC's) must show every object kind for every database, and routines must be readable.
 *
 * Privileges that come from an enabled role are not listed there: with a role active the check is
 * skipped (logged), as on a server that lists none for the account (--skip-grant-tables), and
 * statement errors remain the safety net.
 * @throws PermanentError `MYSQL_PRIVILEGES` listing every missing privilege.
 */
export async function assertSchemaReadable(connection: Connection, version: ServerVersion, databases: string[], logger: { warn(message: string, extra?: Record<string, unknown>): void }): Promise<void> {
  const plan = schemaReadPlan(version);
  const held = await accountPrivileges(connection, version);
  if ('unreadable' in held) {
    logger.warn(`mysql backup: ${held.unreadable}, privileges are not checked up front`, held.detail);
    return;
  }
  const global = held.global;
  const missing: string[] = [];
  const needed = Object.values(plan.objects);
  const perDatabase: Array<ReadonlySet<string>> = [];
  for (const database of databases) {
    const granted = await held.onDatabase(database);
    perDatabase.push(granted);
    const lacking = needed.filter((p) => !global.has(p) && !granted.has(p));
    if (lacking.length > 0) missing.push(`${lacking.join(', ')} on ${database}`);
  }

  const procTable = () => rows(connection, 'SELECT 1 FROM mysql.proc LIMIT 0').then(() => true, () => false);
  if (!await routinesReadable(plan.routines, { global, databases: perDatabase, procTable })) missing.push(plan.routines.grant);

  if (missing.length > 0) {
    throw new PermanentError(
      `missing privileges ${missing.join('; ')}: without them the server hides tables, views, triggers, events or routines, and the backup would silently miss them`,
      { code: 'MYSQL_PRIVILEGES', engine: ENGINE },
    );
  }
}
