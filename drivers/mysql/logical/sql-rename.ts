/**
 * Renaming databases inside schema statements, for restores with `renameDatabases`.
 *
 * What is rewritten (outside string literals and comments):
 * - the name in `CREATE DATABASE|SCHEMA [IF NOT EXISTS] name`, `ALTER DATABASE|SCHEMA name` and `USE name`;
 * - every qualified reference `db.object` (backquoted or bare) whose `db` is a renamed database,
 *   so a view captured as `` `shop`.`orders` `` follows the rename, and so do references from one
 *   restored database to another restored one. Given what each renamed database defines
 *   ({@link RenamedObjects}), a two-part name `x.y` in a statement that also uses `x` as a table,
 *   alias or column (alone, or last of a dotted name) stays as it is when database `x` defines no
 *   `y`: `shop.total` is then a column of table `shop`. A three-part name `x.y.z` is always a
 *   database's.
 *
 * What is not: references to databases that are not renamed (they keep pointing where they pointed),
 * and names inside string literals (dynamic SQL in routines, `PREPARE` text). The statement's SQL
 * mode says how its text reads (the caller says which): under `ANSI_QUOTES` a double-quoted name
 * is an identifier (`"shop"."orders"` follows the rename), and a backslash escapes in a string
 * literal unless under `NO_BACKSLASH_ESCAPES`.
 */
import { quoteId } from '../shared/connection';
import { definedObject } from '../shared/schema-objects';
import type { StatementMode } from '../shared/statement-mode';

type Renames = Readonly<Record<string, string>>;

/** The names of the objects (tables, sequences, views, routines, triggers, events) each renamed database defines, in lower case. */
export type RenamedObjects = ReadonlyMap<string, ReadonlySet<string>>;

const isIdentifierChar = (ch: string): boolean => /[\w$\u0080-\uffff]/.test(ch);

/** Index just past the string/identifier literal opening at `start` (quote char at `start`); a backslash escapes in a string unless `backslashEscapes` is false. */
function skipQuoted(sql: string, start: number, backslashEscapes = true): number {
  const quote = sql[start];
  let i = start + 1;
  while (i < sql.length) {
    const ch = sql[i];
    if (ch === '\\' && quote !== '`' && backslashEscapes) {
      i += 2;
      continue;
    }
    if (ch === quote) {
      if (sql[i + 1] === quote) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i += 1;
  }
  return sql.length;
}

/** Index of the first character after whitespace and comments from `start`. */
function skipSpace(sql: string, start: number): number {
  let i = start;
  while (i < sql.length) {
    if (/\s/.test(sql[i])) i += 1;
    else if (sql.startsWith('/*', i) && sql[i + 2] !== '!' && !sql.startsWith('/*M!', i)) {
      const end = sql.indexOf('*/', i + 2);
      i = end === -1 ? sql.length : end + 2;
    } else if (sql[i] === '#' || (sql.startsWith('--', i) && (i + 2 >= sql.length || /\s/.test(sql[i + 2])))) {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? sql.length : end + 1;
    } else break;
  }
  return i;
}

/** Whether `ch` opens a quoted identifier in a statement read as `mode` says: a backtick, or a double quote under ANSI_QUOTES. */
const opensQuotedName = (ch: string, mode: StatementMode): boolean => ch === '`' || (ch === '"' && mode.ansiQuotes === true);

/** Identifier at `start` (read as `mode` says; by default as the server shows statements, names in backticks): its unquoted name and where it ends; undefined when none starts there. */
function readIdentifier(sql: string, start: number, mode: StatementMode = {}): { name: string; end: number } | undefined {
  const quote = sql[start];
  if (opensQuotedName(quote, mode)) {
    const end = skipQuoted(sql, start, false);
    return { name: sql.slice(start + 1, end - 1).split(quote + quote).join(quote), end };
  }
  let end = start;
  while (end < sql.length && isIdentifierChar(sql[end])) end += 1;
  return end > start ? { name: sql.slice(start, end), end } : undefined;
}

/**
 * Whether the qualifier before the dot at `dot` names a database, whose objects are `known`
 * (undefined: not known, so taken to be one). It does, unless the statement also uses it as a
 * table, an alias or a column (`FROM shop`, `FROM shop.shop`, `shop.base shop`: alone, or last
 * of a dotted name) and the part after the dot is not one of the database's objects: then
 * `shop.total` is that table's or alias's column. So a name the statement only ever qualifies (a
 * table a routine creates itself, a grant on an object gone) follows the rename, as do
 * three-part names (`db.table.column`) and `db.*`.
 */
function namesDatabase(sql: string, dot: number, known: ReadonlySet<string> | undefined, standsAlone: boolean, mode: StatementMode): boolean {
  if (!known || !standsAlone) return true;
  const member = readIdentifier(sql, skipSpace(sql, dot + 1), mode);
  if (!member) return true;
  return sql[skipSpace(sql, member.end)] === '.' || known.has(member.name.toLowerCase());
}

/** An identifier of a statement, outside strings and comments, and whether a dot follows it (`qualifies`) or precedes it (`qualified`, or an `@`: an account's host). */
interface Token {
  name: string;
  start: number;
  end: number;
  quoted: boolean;
  qualifies: boolean;
  qualified: boolean;
  /** Where the dot after it is (when it qualifies). */
  next: number;
}

/** The identifiers of `sql` from `from`, in order, read as `mode` says. */
function* identifiers(sql: string, from: number, mode: StatementMode): Generator<Token> {
  let i = from;
  let previousSignificant = '';
  while (i < sql.length) {
    const ch = sql[i];
    if (ch === "'" || (ch === '"' && !mode.ansiQuotes)) {
      i = skipQuoted(sql, i, !mode.noBackslashEscapes);
      previousSignificant = ch;
      continue;
    }
    const afterSpace = skipSpace(sql, i);
    if (afterSpace !== i) {
      i = afterSpace;
      continue;
    }
    if (opensQuotedName(ch, mode) || isIdentifierChar(ch)) {
      const id = readIdentifier(sql, i, mode)!;
      const next = skipSpace(sql, id.end);
      const qualified = previousSignificant === '.' || previousSignificant === '@';
      yield { name: id.name, start: i, end: id.end, quoted: !isIdentifierChar(ch), qualifies: sql[next] === '.' && !qualified, qualified, next };
      previousSignificant = 'identifier';
      i = id.end;
      continue;
    }
    previousSignificant = ch;
    i += 1;
  }
}

/** Statement-level forms that name a database without a dot: CREATE/ALTER DATABASE, USE. */
const DATABASE_STATEMENT = /^(CREATE\s+(?:DATABASE|SCHEMA)\s+(?:\/\*!\d*\s*)?(?:IF\s+NOT\s+EXISTS\s*)?(?:\*\/\s*)?|ALTER\s+(?:DATABASE|SCHEMA)\s+|USE\s+)/i;

/**
 * The database a `CREATE DATABASE|SCHEMA` statement creates, or undefined when `sql` is not one.
 */
export function createdDatabase(sql: string): string | undefined {
  const start = skipSpace(sql, 0);
  const head = /^CREATE\s+(?:DATABASE|SCHEMA)\s+(?:\/\*!\d*\s*)?(?:IF\s+NOT\s+EXISTS\s*)?(?:\*\/\s*)?/i.exec(sql.slice(start));
  if (!head) return undefined;
  return readIdentifier(sql, start + head[0].length)?.name;
}

/**
 * The table a `CREATE TABLE` statement creates (its last name part, when qualified), or undefined
 * when `sql` is not one.
 */
export function createdTable(sql: string): string | undefined {
  const start = skipSpace(sql, 0);
  const head = /^CREATE\s+(?:OR\s+REPLACE\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?/i.exec(sql.slice(start));
  if (!head) return undefined;
  let name = readIdentifier(sql, start + head[0].length);
  while (name && sql[name.end] === '.') name = readIdentifier(sql, name.end + 1);
  return name?.name;
}

/** The names (lower case) of what `statements` create: tables, sequences, views, routines, triggers, events. */
export function objectsCreatedBy(statements: readonly string[]): Set<string> {
  const names = new Set<string>();
  for (const statement of statements) {
    const start = skipSpace(statement, 0);
    const head = /^CREATE\s+(?:OR\s+REPLACE\s+)?(?:TABLE|SEQUENCE)\s+(?:IF\s+NOT\s+EXISTS\s+)?/i.exec(statement.slice(start));
    let name = head ? readIdentifier(statement, start + head[0].length) : undefined;
    while (name && statement[name.end] === '.') name = readIdentifier(statement, name.end + 1);
    const defined = name?.name ?? definedObject(statement)?.name;
    if (defined !== undefined) names.add(defined.toLowerCase());
  }
  return names;
}

/** A statement granting or revoking privileges. */
const GRANT_STATEMENT = /^\s*(?:GRANT|REVOKE)\b/i;

/**
 * Rewrites the database names of `sql` according to `renames` (source name → target name); with
 * `objects`, not a two-part name that is a table's or alias's column ({@link namesDatabase});
 * `mode`: how `sql` reads under the SQL mode it runs in. Returns `sql` unchanged when nothing is
 * renamed.
 */
export function renameDatabases(sql: string, renames: Renames, objects?: RenamedObjects, mode: StatementMode = {}): string {
  if (Object.keys(renames).length === 0) return sql;
  const out: string[] = [];
  let copied = 0;
  const replace = (from: number, to: number, name: string) => {
    out.push(sql.slice(copied, from), quoteId(name));
    copied = to;
  };

  const start = skipSpace(sql, 0);
  const head = DATABASE_STATEMENT.exec(sql.slice(start));
  let i = start;
  if (head) {
    const at = start + head[0].length;
    const id = readIdentifier(sql, at, mode);
    if (id && Object.hasOwn(renames, id.name) && sql[skipSpace(sql, id.end)] !== '.') replace(at, id.end, renames[id.name]);
    i = id ? id.end : at;
  }

  // The names the statement uses as a table, an alias or a column: alone, or last of a dotted name (`db.t`, `t.col`).
  const alone = new Set<string>();
  for (const token of identifiers(sql, i, mode)) if (!token.qualifies) alone.add(token.name.toLowerCase());
  const grant = GRANT_STATEMENT.test(sql);
  for (const token of identifiers(sql, i, mode)) {
    const bareNumber = !token.quoted && /^\d+(e\d*)?$/i.test(token.name);
    if (!token.qualifies || bareNumber) continue;
    if (Object.hasOwn(renames, token.name) && namesDatabase(sql, token.next, objects?.get(token.name), alone.has(token.name.toLowerCase()), mode)) {
      replace(token.start, token.end, renames[token.name]);
    } else if (grant && sql[skipSpace(sql, token.next + 1)] === '*') {
      // A database-level grant names its database as a pattern, `_` and `%` escaped to stand for
      // themselves (`a\_b`.*): the renamed database's name escaped the same way.
      const source = token.name.replace(/\\([_%\\])/g, '$1');
      if (source !== token.name && Object.hasOwn(renames, source)) replace(token.start, token.end, renames[source].replace(/[_%\\]/g, '\\$&'));
    }
  }
  out.push(sql.slice(copied));
  return out.join('');
}
