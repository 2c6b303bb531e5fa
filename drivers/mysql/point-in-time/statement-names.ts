/**
 * What a logged SQL statement reaches, as far as its text says: the databases it writes to (the
 * qualifiers of the names its kind writes: `shop` in `TRUNCATE shop.t`, both in `RENAME TABLE
 * shop.a TO crm.a`, `crm` but not `shop` in `CREATE VIEW crm.v AS SELECT … FROM shop.t`, every table
 * of a multi-table `UPDATE`; the database a `CREATE [OR REPLACE]`/`DROP`/`ALTER DATABASE` names),
 * every database it names (a trigger's, view's or routine's body included), whether it changes
 * accounts, and whether it runs stored code whose writes it does not show. Read with a small
 * tokenizer: string literals and comments are passed over, MariaDB's executable comments
 * (`/*!50100 … *\/`, `/*M!… *\/`) are read as code, and the session's `sql_mode` says whether
 * `"…"` is a name (`ANSI_QUOTES`) and whether a backslash escapes (`NO_BACKSLASH_ESCAPES`).
 *
 * A replay after a logical restore needs them because the binlog tool's filter and rename work on
 * the session's default database only (point-in-time.ts `replayScope`): a statement's own
 * qualified names are neither filtered nor renamed.
 */

import type { StatementMode } from '../shared/statement-mode';

/** First words of statements that change no table's rows or shape (maintenance and transaction control). */
const CHANGES_NOTHING = new Set(['BEGIN', 'COMMIT', 'ROLLBACK', 'START', 'XA', 'SAVEPOINT', 'RELEASE', 'ANALYZE', 'OPTIMIZE', 'CHECK', 'CHECKSUM', 'REPAIR', 'FLUSH', 'SHOW', 'USE']);

/** Databases no statement writes to (their names in a statement are reads). */
const READ_ONLY_SCHEMAS = new Set(['information_schema', 'performance_schema']);

/** What a logged statement reaches, as far as its text says (see the file comment). */
export interface StatementReach {
  /** The databases it writes to, in order of appearance. */
  written: string[];
  /** Every database it names (those it writes, and every qualifier, a definition's body included: a trigger, view or routine created runs them later). */
  named: string[];
  /** It changes accounts or privileges (the `mysql` schema): `CREATE USER`, `GRANT`, `SET PASSWORD`... */
  accounts: boolean;
  /** It runs stored code whose writes its text does not show (`CALL`, a `SELECT` or `DO` logged for a function's changes). */
  runsRoutine: boolean;
}

/** {@link StatementReach} of `statement`: see the file comment. */
export function statementReach(statement: string, mode: StatementMode = {}): StatementReach {
  let tokens = tokenize(statement, mode);
  const word = (i: number) => (tokens[i]?.kind === 'word' ? tokens[i].text.toUpperCase() : undefined);
  if (word(0) === 'SET' && word(1) === 'STATEMENT') {
    const body = tokens.findIndex((t, i) => i > 1 && isWord(t, 'FOR'));
    tokens = body === -1 ? [] : tokens.slice(body + 1);
  }
  const reach: StatementReach = { written: [], named: qualifiersIn(tokens), accounts: false, runsRoutine: false };
  const first = word(0) ?? '';
  if (CHANGES_NOTHING.has(first)) return { ...reach, named: [] };
  if (isAccountStatement(tokens)) return { ...reach, accounts: true };
  if (first === 'CALL' || first === 'DO' || (first === 'SELECT' && !/^SELECT\s+(SETVAL|NEXTVAL|LASTVAL)\s*\(/i.test(tokens.map((t) => t.text).join(' ')))) {
    return { ...reach, runsRoutine: true };
  }
  if (first === 'SET') return reach; // a session or global setting
  const objectAt = objectKeyword(tokens);
  const object = objectAt === -1 ? undefined : word(objectAt);
  const written = object === 'DATABASE' || object === 'SCHEMA' ? databaseNamed(tokens, objectAt) : qualifiersIn(writtenPart(tokens, first, object));
  return { ...reach, written, named: [...new Set([...written, ...reach.named])] };
}

/**
 * Table aliases a definition declares the way the server prints it (`SHOW CREATE VIEW` quotes
 * every name): a quoted name right after another (`` `customers` `c` ``) or after `AS` following
 * one. `c.id` then names a column, not a database `c`. Bare names are not taken: `FROM other.o`
 * must still name `other`.
 */
export function quotedAliases(statement: string, mode: StatementMode = {}): Set<string> {
  const tokens = tokenize(statement, mode);
  const aliases = new Set<string>();
  for (let i = 1; i < tokens.length; i += 1) {
    if (tokens[i].kind !== 'quoted') continue;
    if (tokens[i - 1].kind === 'quoted' || (isWord(tokens[i - 1], 'AS') && tokens[i - 2]?.kind === 'quoted')) aliases.add(tokens[i].text);
  }
  return aliases;
}

const isWord = (token: Token | undefined, text: string): boolean => token?.kind === 'word' && token.text.toUpperCase() === text;
const isName = (token: Token | undefined): boolean => token?.kind === 'word' || token?.kind === 'quoted';

/** Account and privilege statements. */
function isAccountStatement(tokens: Token[]): boolean {
  const [a, b] = [tokens[0], tokens[1]];
  if (isWord(a, 'GRANT') || isWord(a, 'REVOKE')) return true;
  if (isWord(a, 'SET') && (isWord(b, 'PASSWORD') || isWord(b, 'ROLE') || isWord(b, 'DEFAULT'))) return true;
  const object = objectKeyword(tokens);
  return ['CREATE', 'DROP', 'ALTER', 'RENAME'].some((w) => isWord(a, w)) && object !== -1 && ['USER', 'ROLE'].some((w) => isWord(tokens[object], w));
}

/** Words between `CREATE`/`ALTER`/`DROP` and the kind of object (`OR REPLACE`, `DEFINER = …`, `ALGORITHM = …`, `ONLINE`…). */
const OBJECT_KINDS = new Set(['DATABASE', 'SCHEMA', 'TABLE', 'VIEW', 'INDEX', 'TRIGGER', 'PROCEDURE', 'FUNCTION', 'EVENT', 'SEQUENCE', 'USER', 'ROLE', 'PACKAGE', 'SERVER']);

/** Index of the object kind after `CREATE`/`ALTER`/`DROP`/`RENAME` (within the first dozen tokens), -1 when none. */
function objectKeyword(tokens: Token[]): number {
  if (!['CREATE', 'ALTER', 'DROP', 'RENAME'].some((w) => isWord(tokens[0], w))) return -1;
  for (let i = 1; i < Math.min(tokens.length, 16); i += 1) {
    if (tokens[i].kind === 'word' && OBJECT_KINDS.has(tokens[i].text.toUpperCase())) {
      // DEFINER = user@host holds names, not kinds: a kind keyword is never right after '=' or '@'.
      if (tokens[i - 1]?.text === '=' || tokens[i - 1]?.text === '@') continue;
      return i;
    }
  }
  return -1;
}

/** Words that start an `ALTER DATABASE` clause (so no name was given: the session's default database). */
const ALTER_DATABASE_CLAUSES = new Set(['CHARACTER', 'CHARSET', 'DEFAULT', 'COLLATE', 'COMMENT', 'UPGRADE']);

/** The database a `CREATE [OR REPLACE]/DROP/ALTER DATABASE|SCHEMA [IF [NOT] EXISTS] [name]` names (none: the default database). */
function databaseNamed(tokens: Token[], objectAt: number): string[] {
  let i = objectAt + 1;
  while (['IF', 'NOT', 'EXISTS'].some((w) => isWord(tokens[i], w))) i += 1;
  const token = tokens[i];
  if (!isName(token) || (token.kind === 'word' && ALTER_DATABASE_CLAUSES.has(token.text.toUpperCase()))) return [];
  return [token.text];
}

/**
 * The tokens whose qualified names are written, by the statement's kind: a view's or routine's
 * name, not its body; a table created from a query or `LIKE` another, not that query; an
 * `INSERT`/`LOAD DATA` target, not its values or query; an `UPDATE`/`DELETE`'s table references
 * (every one of a multi-table statement), not its conditions; a foreign key's parent table is read.
 * Anything else: every name.
 */
function writtenPart(tokens: Token[], first: string, object: string | undefined): Token[] {
  const upTo = (stops: string[]) => {
    let depth = 0;
    const end = tokens.findIndex((t, i) => {
      if (t.text === '(') depth += 1;
      if (t.text === ')') depth -= 1;
      return i > 0 && depth === 0 && t.kind === 'word' && stops.includes(t.text.toUpperCase());
    });
    return end === -1 ? tokens : tokens.slice(0, end);
  };
  if (first === 'CREATE' && object === 'VIEW') return upTo(['AS']);
  if (first === 'CREATE' && object === 'TRIGGER') return upTo(['FOR', 'FOLLOWS', 'PRECEDES']);
  if (first === 'CREATE' && (object === 'PROCEDURE' || object === 'FUNCTION' || object === 'PACKAGE')) return tokens.slice(0, Math.max(1, tokens.findIndex((t) => t.text === '(')));
  if (first === 'CREATE' && object === 'EVENT') return upTo(['ON']);
  if (first === 'CREATE' && object === 'TABLE') return withoutReferences(upTo(['SELECT', 'LIKE', 'AS', 'WITH', 'VALUES']));
  if (first === 'ALTER' && object === 'TABLE') return withoutReferences(tokens);
  if (first === 'INSERT' || first === 'REPLACE') return upTo(['VALUES', 'VALUE', 'SELECT', 'SET', 'ON', 'WITH', 'TABLE', 'RETURNING']);
  if (first === 'LOAD') return upTo(['SET']);
  if (first === 'UPDATE') return withoutConditions(upTo(['SET']));
  if (first === 'DELETE') return withoutConditions(upTo(['WHERE', 'ORDER', 'LIMIT', 'RETURNING']));
  return tokens;
}

/** `tokens` without the table a `REFERENCES` names (a foreign key's parent is read, not written). */
function withoutReferences(tokens: Token[]): Token[] {
  const kept: Token[] = [];
  for (let i = 0; i < tokens.length; i += 1) {
    if (isWord(tokens[i], 'REFERENCES')) {
      i += 1;
      while (i + 1 < tokens.length && tokens[i + 1].kind === 'dot') i += 2; // the whole qualified name
      continue;
    }
    kept.push(tokens[i]);
  }
  return kept;
}

/** `tokens` without the conditions of joins (`ON …` up to the next join, comma or `USING`). */
function withoutConditions(tokens: Token[]): Token[] {
  const kept: Token[] = [];
  let inCondition = false;
  let depth = 0;
  for (const t of tokens) {
    if (t.text === '(') depth += 1;
    if (t.text === ')') depth -= 1;
    if (depth === 0 && isWord(t, 'ON')) { inCondition = true; continue; }
    if (inCondition && depth === 0 && (t.text === ',' || (t.kind === 'word' && ['JOIN', 'STRAIGHT_JOIN', 'INNER', 'CROSS', 'LEFT', 'RIGHT', 'NATURAL', 'USING'].includes(t.text.toUpperCase())))) inCondition = false;
    if (!inCondition) kept.push(t);
  }
  return kept;
}

/** The first names of qualified names (`db` of `db.t`, `db.t.c`), in order, each once; not those of read-only schemas. */
function qualifiersIn(tokens: Token[]): string[] {
  const found: string[] = [];
  for (let i = 0; i + 2 < tokens.length; i += 1) {
    const qualified = isName(tokens[i]) && tokens[i + 1].kind === 'dot' && isName(tokens[i + 2]);
    const firstOfChain = i === 0 || tokens[i - 1].kind !== 'dot';
    const name = tokens[i].text;
    if (qualified && firstOfChain && !found.includes(name) && !READ_ONLY_SCHEMAS.has(name.toLowerCase())) found.push(name);
  }
  return found;
}

/** A bare word (a keyword or name), a quoted name, a dot, or anything else (literals, operators). */
type Token = { kind: 'word' | 'quoted' | 'dot' | 'other'; text: string };

const BARE = /[0-9A-Za-z_$\u0080-\uffff]/;

/** The statement's tokens, literals and comments left out (see the file comment). */
function tokenize(sql: string, mode: StatementMode): Token[] {
  const tokens: Token[] = [];
  const nameQuotes = mode.ansiQuotes ? '`"' : '`';
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    if (nameQuotes.includes(c)) {
      let name = '';
      let j = i + 1;
      while (j < sql.length) {
        if (sql[j] === c && sql[j + 1] === c) { name += c; j += 2; } else if (sql[j] === c) break; else { name += sql[j]; j += 1; }
      }
      tokens.push({ kind: 'quoted', text: name });
      i = j + 1;
    } else if (c === "'" || c === '"') {
      i = endOfLiteral(sql, i, c, mode.noBackslashEscapes === true);
      tokens.push({ kind: 'other', text: 'literal' });
    } else if (c === '/' && sql[i + 1] === '*') {
      const executable = /^\/\*M?!\d*/.exec(sql.slice(i, i + 12));
      if (executable) i += executable[0].length; // its content is code
      else i = endOf(sql, '*/', i + 2);
    } else if (c === '*' && sql[i + 1] === '/') {
      i += 2; // the end of an executable comment
    } else if (c === '#' || (c === '-' && sql[i + 1] === '-' && /\s/.test(sql[i + 2] ?? ' '))) {
      i = endOf(sql, '\n', i);
    } else if (c === '.') {
      tokens.push({ kind: 'dot', text: '.' });
      i += 1;
    } else if (BARE.test(c)) {
      let j = i;
      while (j < sql.length && BARE.test(sql[j])) j += 1;
      const word = sql.slice(i, j);
      // A number (1.5, 2e3) is not a name: a bare name is never all digits, nor digits, `e` and digits (`1e` is a name).
      tokens.push({ kind: /^\d+(e\d+)?$/i.test(word) ? 'other' : 'word', text: word });
      i = j;
    } else {
      if (!/\s/.test(c)) tokens.push({ kind: 'other', text: c });
      i += 1;
    }
  }
  return tokens;
}

/** Index after the quote that closes the literal opened at `start` (doubled quotes; backslash escapes unless the mode says not). */
function endOfLiteral(sql: string, start: number, quote: string, noBackslashEscapes: boolean): number {
  let i = start + 1;
  while (i < sql.length) {
    if (sql[i] === '\\' && !noBackslashEscapes) i += 2;
    else if (sql[i] === quote && sql[i + 1] === quote) i += 2;
    else if (sql[i] === quote) return i + 1;
    else i += 1;
  }
  return i;
}

function endOf(sql: string, end: string, from: number): number {
  const at = sql.indexOf(end, from);
  return at === -1 ? sql.length : at + end.length;
}
