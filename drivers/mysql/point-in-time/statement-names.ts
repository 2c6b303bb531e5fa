/**
 * The database qualifiers a logged SQL statement names (`shop` in `TRUNCATE shop.t`,
 * `` `my db`.`t` ``, `shop.t.c`), read with a small tokenizer: string literals and comments are
 * passed over, MariaDB's executable comments (`/*!50100 … *\/`, `/*M!… *\/`) are read as code.
 *
 * A replay after a logical restore needs them because the binlog tool's filter and rename work on
 * the session's default database only (point-in-time.ts `replayScope`): a statement's own
 * qualified names are neither filtered nor renamed.
 */

/** Statements that change no table's rows or shape (account, maintenance and transaction control). */
const CHANGES_NOTHING = /^(BEGIN|COMMIT|ROLLBACK|START|XA|SAVEPOINT|RELEASE|GRANT|REVOKE|ANALYZE|OPTIMIZE|CHECK|CHECKSUM|REPAIR|FLUSH|SET|DO|SELECT|SHOW|USE)$/i;

/** Whether a logged statement may change a table (its first word is not one of {@link CHANGES_NOTHING}). */
export function mayChangeTables(statement: string): boolean {
  const word = /^[\s(]*([A-Za-z]+)/.exec(stripExecutableCommentMarkers(statement))?.[1];
  return word !== undefined && !CHANGES_NOTHING.test(word);
}

/** The distinct database qualifiers in `statement`, in order of appearance (see the file comment). */
export function qualifiers(statement: string): string[] {
  const tokens = identifierTokens(statement);
  const found: string[] = [];
  for (let i = 0; i + 2 < tokens.length; i += 1) {
    const [first, dot, second] = [tokens[i], tokens[i + 1], tokens[i + 2]];
    const qualified = first.kind === 'name' && dot.kind === 'dot' && second.kind === 'name';
    const isFirstOfChain = i === 0 || tokens[i - 1].kind !== 'dot';
    if (qualified && isFirstOfChain && !found.includes(first.text)) found.push(first.text);
  }
  return found;
}

type Token = { kind: 'name' | 'dot' | 'other'; text: string };

const BARE = /[0-9A-Za-z_$\u0080-\uffff]/;

/** Names (bare or backquoted, unquoted), dots and everything else, literals and comments left out. */
function identifierTokens(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    if (c === "'" || c === '"') {
      i = endOfQuoted(sql, i, c);
      tokens.push({ kind: 'other', text: 'literal' });
    } else if (c === '`') {
      let name = '';
      let j = i + 1;
      while (j < sql.length) {
        if (sql[j] === '`' && sql[j + 1] === '`') { name += '`'; j += 2; } else if (sql[j] === '`') break; else { name += sql[j]; j += 1; }
      }
      tokens.push({ kind: 'name', text: name });
      i = j + 1;
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
      tokens.push({ kind: /^\d+(e\d*)?$/i.test(word) ? 'other' : 'name', text: word });
      i = j;
    } else {
      if (!/\s/.test(c)) tokens.push({ kind: 'other', text: c });
      i += 1;
    }
  }
  return tokens;
}

/** Index after the quote that closes the literal opened at `start` (backslash escapes and doubled quotes). */
function endOfQuoted(sql: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < sql.length) {
    if (sql[i] === '\\') i += 2;
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

function stripExecutableCommentMarkers(sql: string): string {
  return sql.replace(/^\s*\/\*M?!\d*\s*/, '');
}
