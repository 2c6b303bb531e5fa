/**
 * The databases a logged SQL statement writes to, as far as its text says: the qualifiers of the
 * names before its first clause that only reads or sets values (`shop` in `TRUNCATE shop.t`, both
 * in `RENAME TABLE shop.a TO crm.a`, `crm` but not `shop` in `CREATE VIEW crm.v AS SELECT … FROM
 * shop.t`), and the database a `CREATE`/`DROP`/`ALTER DATABASE` names. Read with a small
 * tokenizer: string literals and comments are passed over, MariaDB's executable comments
 * (`/*!50100 … *\/`, `/*M!… *\/`) are read as code, and the session's `sql_mode` says whether
 * `"…"` is a name (`ANSI_QUOTES`) and whether a backslash escapes (`NO_BACKSLASH_ESCAPES`).
 *
 * A replay after a logical restore needs them because the binlog tool's filter and rename work on
 * the session's default database only (point-in-time.ts `replayScope`): a statement's own
 * qualified names are neither filtered nor renamed.
 */

/** How the session that ran a statement read it (its `sql_mode` bits that change tokens). */
export interface StatementMode {
  ansiQuotes?: boolean;
  noBackslashEscapes?: boolean;
}

/** The `sql_mode` bits of {@link StatementMode}, as the binlog tool prints the mode (a number). */
export function statementMode(sqlMode: number): StatementMode {
  return { ansiQuotes: (sqlMode & 4) !== 0, noBackslashEscapes: (sqlMode & 0x100000) !== 0 };
}

/** First words of statements that change no table's rows or shape (account, maintenance and transaction control). */
const CHANGES_NOTHING = new Set(['BEGIN', 'COMMIT', 'ROLLBACK', 'START', 'XA', 'SAVEPOINT', 'RELEASE', 'GRANT', 'REVOKE', 'ANALYZE', 'OPTIMIZE', 'CHECK', 'CHECKSUM', 'REPAIR', 'FLUSH', 'SET', 'DO', 'SELECT', 'SHOW', 'USE']);

/**
 * Words after which a statement's names are read, not written: a query (`SELECT`, `LIKE`, `AS`),
 * values and conditions (`SET`, `VALUES`, `WHERE`, `USING`), a foreign key's parent (`REFERENCES`),
 * and the bodies of triggers and routines (`FOR EACH ROW`, `BEGIN`, `RETURNS`, `DO`).
 */
const READS_FROM_HERE = new Set(['SELECT', 'LIKE', 'AS', 'SET', 'VALUES', 'VALUE', 'WHERE', 'USING', 'REFERENCES', 'FOR', 'BEGIN', 'RETURNS', 'DO', 'ORDER', 'LIMIT']);

/** Databases no statement writes to (their names in a statement are reads). */
const READ_ONLY_SCHEMAS = new Set(['information_schema', 'performance_schema']);

/**
 * The databases `statement` writes to (see the file comment), in order of appearance; empty for a
 * statement that changes no table (its first word, after comments and `SET STATEMENT … FOR`, is one
 * of {@link CHANGES_NOTHING}).
 */
export function writtenDatabases(statement: string, mode: StatementMode = {}): string[] {
  let tokens = tokenize(statement, mode);
  const word = (i: number) => (tokens[i]?.kind === 'word' ? tokens[i].text.toUpperCase() : undefined);
  if (word(0) === 'SET' && word(1) === 'STATEMENT') {
    const body = tokens.findIndex((t, i) => i > 1 && t.kind === 'word' && t.text.toUpperCase() === 'FOR');
    tokens = body === -1 ? [] : tokens.slice(body + 1);
  }
  if (tokens.length === 0 || CHANGES_NOTHING.has(word(0) ?? '')) return [];
  const found: string[] = [];
  const add = (name: string) => { if (!found.includes(name) && !READ_ONLY_SCHEMAS.has(name.toLowerCase())) found.push(name); };
  // CREATE/DROP/ALTER DATABASE|SCHEMA [IF [NOT] EXISTS] name: the name is a database.
  if (['CREATE', 'DROP', 'ALTER'].includes(word(0)!) && ['DATABASE', 'SCHEMA'].includes(word(1) ?? '')) {
    let i = 2;
    while (['IF', 'NOT', 'EXISTS'].includes(word(i) ?? '')) i += 1;
    if (tokens[i]?.kind === 'word' || tokens[i]?.kind === 'quoted') add(tokens[i].text);
    return found;
  }
  const end = tokens.findIndex((t, i) => i > 0 && t.kind === 'word' && READS_FROM_HERE.has(t.text.toUpperCase()));
  const written = end === -1 ? tokens : tokens.slice(0, end);
  for (let i = 0; i + 2 < written.length; i += 1) {
    const isName = (t: Token) => t.kind === 'word' || t.kind === 'quoted';
    const qualified = isName(written[i]) && written[i + 1].kind === 'dot' && isName(written[i + 2]);
    const firstOfChain = i === 0 || written[i - 1].kind !== 'dot';
    if (qualified && firstOfChain) add(written[i].text);
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
      // A number (1.5, 2e3) is not a name: a bare name is never all digits, nor a digit-led exponent.
      tokens.push({ kind: /^\d+(e\d*)?$/i.test(word) ? 'other' : 'word', text: word });
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
