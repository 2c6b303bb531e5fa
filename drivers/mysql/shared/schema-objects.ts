/**
 * The named schema objects (views, triggers, procedures, functions, events) a post-schema defines,
 * and the ones a server holds: what restore validation compares by name.
 */
import type { Connection } from 'mysql2/promise';
import { isExactly } from './exact-names';
import { sameAccount } from './account';

export type SchemaObjectKind = 'view' | 'trigger' | 'procedure' | 'function' | 'event';

export const SCHEMA_OBJECT_KINDS: readonly SchemaObjectKind[] = ['view', 'trigger', 'procedure', 'function', 'event'];

/** Object names per kind, each list sorted. */
export type SchemaObjects = Record<SchemaObjectKind, string[]>;

/** An empty {@link SchemaObjects}. */
export function noSchemaObjects(): SchemaObjects {
  return { view: [], trigger: [], procedure: [], function: [], event: [] };
}

/** A name: backquoted, double-quoted (sql_mode ORACLE or ANSI_QUOTES writes routines so), or bare. */
const IDENT = '(?:`(?:[^`]|``)+`|"(?:[^"]|"")+"|[\\w$\\u0080-\\uffff]+)';
/** An account's user or host: a name, empty backquotes (the anonymous user), or a string. */
const USER = `(?:${IDENT}|\`\`|'(?:[^'\\\\]|\\\\.|'')*'|"(?:[^"\\\\]|\\\\.|"")*")`;
const DEFINER = `DEFINER\\s*=\\s*(?:CURRENT_USER(?:\\s*\\(\\s*\\))?|CURRENT_ROLE|${USER}(?:\\s*@\\s*${USER})?)`;
/**
 * Groups: 1 the clauses before the kind (ALGORITHM, DEFINER, ...), 2 the kind, 3 and 4 the name
 * (database and name, or the name). A MariaDB package (sql_mode ORACLE) has a definer but is none
 * of the {@link SchemaObjectKind}s.
 */
const CREATE_OBJECT = new RegExp(
  '^CREATE\\s+(?:OR\\s+REPLACE\\s+)?'
  + `((?:(?:ALGORITHM\\s*=\\s*\\w+|${DEFINER}|SQL\\s+SECURITY\\s+\\w+|AGGREGATE)\\s+)*)`
  + '(VIEW|TRIGGER|PROCEDURE|FUNCTION|EVENT|PACKAGE\\s+BODY|PACKAGE)\\s+(?:IF\\s+NOT\\s+EXISTS\\s+)?'
  + `(${IDENT})(?:\\s*\\.\\s*(${IDENT}))?`,
  'i',
);
/** A DEFINER clause naming an account: 1 its user, 2 its host (absent for a role). */
const DEFINER_ACCOUNT = new RegExp(`DEFINER\\s*=\\s*(?!CURRENT_USER\\b|CURRENT_ROLE\\b)(${USER})(?:\\s*@\\s*(${USER}))?`, 'i');

/** An identifier as a statement writes it (`` `a``b` ``, `"a""b"`, or bare) as its name. */
export function unquote(id: string): string {
  if (id.startsWith('`')) return id.slice(1, -1).replace(/``/g, '`');
  if (id.startsWith('"')) return id.slice(1, -1).replace(/""/g, '"');
  return id;
}

/** A user or host name as written in a DEFINER clause: backquoted, quoted (doubled or backslashed quotes) or bare. */
function accountPart(written: string): string {
  const quote = written[0];
  if (quote === '`') return unquote(written);
  if (quote !== "'" && quote !== '"') return written;
  return written.slice(1, -1).replace(new RegExp(`${quote}${quote}|\\\\(.)`, 'g'), (_pair: string, escaped?: string) => escaped ?? quote);
}

/** Removes leading comments and the markers of executable comments (`/*!50001 ... *\/`). */
function normalise(sql: string): string {
  return sql
    .replace(/\/\*M?!\d*\s?/g, '')
    .replace(/\*\//g, '')
    .replace(/^(?:\s|--[^\n]*\n|#[^\n]*\n|\/\*[\s\S]*?\*\/)*/, '');
}

/** The object a `CREATE VIEW|TRIGGER|PROCEDURE|FUNCTION|EVENT` statement defines, if it is one. */
export function definedObject(sql: string): { kind: SchemaObjectKind; name: string } | undefined {
  const text = normalise(sql);
  const match = CREATE_OBJECT.exec(text);
  if (!match) return undefined;
  const kind = match[2].toLowerCase() as SchemaObjectKind;
  if (!SCHEMA_OBJECT_KINDS.includes(kind)) return undefined; // a package
  // A loadable function (UDF) lives in mysql.func, not in a database.
  if (kind === 'function' && /\bSONAME\b/i.test(text)) return undefined;
  return { kind, name: unquote(match[4] ?? match[3]) };
}

/** An account a statement names as the definer of what it creates: `user` and `host` (a role: no host). */
export interface Definer {
  user: string;
  host?: string;
}

/**
 * The account a `CREATE VIEW|TRIGGER|PROCEDURE|FUNCTION|EVENT|PACKAGE [BODY]` statement names as
 * its definer; undefined for other statements, for none named, for `CURRENT_USER` or
 * `CURRENT_ROLE` (the restoring user itself) and for the anonymous user.
 */
export function definerOf(sql: string): Definer | undefined {
  const match = CREATE_OBJECT.exec(normalise(sql));
  const clause = match ? DEFINER_ACCOUNT.exec(match[1]) : null;
  if (!clause) return undefined;
  const user = accountPart(clause[1]);
  if (user === '') return undefined; // the anonymous user: MariaDB takes it from anyone (measured on 10.11)
  return { user, ...(clause[2] !== undefined ? { host: accountPart(clause[2]) } : {}) };
}

/** The distinct definers `statements` name, in the order they first appear (see {@link definerOf}). */
export function definersOf(statements: readonly string[]): Definer[] {
  const definers: Definer[] = [];
  for (const statement of statements) {
    const definer = definerOf(statement);
    if (definer && !definers.some((d) => sameAccount(d, definer))) definers.push(definer);
  }
  return definers;
}

const TABLE_GRANT = new RegExp(`^GRANT\\s[\\s\\S]*?\\sON\\s+(?:TABLE\\s+)?(${IDENT})\\s*\\.\\s*(${IDENT})\\s+TO\\s`, 'i');

/** The table or view a table-level `GRANT … ON db.name TO …` (as SHOW GRANTS writes it) is on, if it is one. */
export function grantedTable(sql: string): { database: string; name: string } | undefined {
  const match = TABLE_GRANT.exec(normalise(sql));
  return match ? { database: unquote(match[1]), name: unquote(match[2]) } : undefined;
}

const ROUTINE_GRANT = new RegExp(`^GRANT\\s[\\s\\S]*?\\sON\\s+(?:PROCEDURE|FUNCTION|PACKAGE(?:\\s+BODY)?)\\s+(${IDENT})\\s*\\.\\s*(${IDENT})\\s+TO\\s`, 'i');

/** The routine a routine-level `GRANT … ON PROCEDURE db.name TO …` (as SHOW GRANTS writes it) is on, if it is one. */
export function grantedRoutine(sql: string): { database: string; name: string } | undefined {
  const match = ROUTINE_GRANT.exec(normalise(sql));
  return match ? { database: unquote(match[1]), name: unquote(match[2]) } : undefined;
}

/** The objects `statements` define. */
export function objectsDefinedBy(statements: string[]): SchemaObjects {
  const objects = noSchemaObjects();
  for (const statement of statements) {
    const object = definedObject(statement);
    if (object && !objects[object.kind].includes(object.name)) objects[object.kind].push(object.name);
  }
  for (const kind of SCHEMA_OBJECT_KINDS) objects[kind].sort();
  return objects;
}

/**
 * The objects `database` holds on the server (`connection` must return names as text). A server
 * started with `--skip-grant-tables` (the physical prepare check's) lists no events in
 * information_schema: pass `grantTablesSkipped` to read them from `mysql.event` (MariaDB, MySQL 5.7).
 */
export async function objectsOnServer(connection: Connection, database: string, options: { grantTablesSkipped?: boolean } = {}): Promise<SchemaObjects> {
  const events = options.grantTablesSkipped
    ? `SELECT 'event', name FROM mysql.event WHERE ${isExactly('db')}`
    : `SELECT 'event', EVENT_NAME FROM information_schema.EVENTS WHERE ${isExactly('EVENT_SCHEMA')}`;
  const [rows] = await connection.query(`
    SELECT 'view' AS kind, TABLE_NAME AS name FROM information_schema.VIEWS WHERE ${isExactly('TABLE_SCHEMA')}
    UNION ALL SELECT 'trigger', TRIGGER_NAME FROM information_schema.TRIGGERS WHERE ${isExactly('TRIGGER_SCHEMA')}
    UNION ALL SELECT LOWER(ROUTINE_TYPE), ROUTINE_NAME FROM information_schema.ROUTINES WHERE ${isExactly('ROUTINE_SCHEMA')} AND ROUTINE_TYPE IN ('PROCEDURE', 'FUNCTION')
    UNION ALL ${events}`,
  Array.from({ length: 8 }, () => database)) as [Array<{ kind: SchemaObjectKind; name: string }>, unknown];
  const objects = noSchemaObjects();
  for (const row of rows) objects[row.kind]?.push(String(row.name));
  for (const kind of SCHEMA_OBJECT_KINDS) objects[kind].sort();
  return objects;
}
