/**
 * An account's TLS requirements (`REQUIRE ISSUER '…' SUBJECT '…' CIPHER '…'`) as a restore's
 * statements must carry them. MariaDB's `SHOW CREATE USER` and `SHOW GRANTS` print the three
 * strings between quotes as they are, unescaped: a quote in one ends it early, so the statement
 * does not parse, and a backslash escapes what follows, so `'/C=a\b'` reads back holding a
 * backspace (found by a hostile test: the backup was complete, and every restore of its accounts
 * failed). Each string is read from the account's stored value, and where the statement prints that
 * value verbatim between quotes, the value is written as a literal instead. A server that escapes
 * them (MySQL) prints no such verbatim text, and its statements are left as they are.
 */
import { escape as escapeLiteral, type Connection } from 'mysql2/promise';
import { catalogText } from '../shared/catalog-text';
import { atLeast, type ServerVersion } from '../shared/version';

/** The strings of an account's TLS requirements, by the keyword that introduces each. */
export type TlsStrings = Partial<Record<'ISSUER' | 'SUBJECT' | 'CIPHER', string>>;

/** Whether a statement names TLS strings at all (the stored values are read only then). */
export const namesTlsStrings = (statement: string): boolean => /\bREQUIRE\b[\s\S]*\b(?:ISSUER|SUBJECT|CIPHER)\s+'/i.test(statement);

/** The TLS strings stored for account `user`@`host` (MariaDB 10.4+: `mysql.global_priv`; else `mysql.user`). */
export async function tlsStringsOf(connection: Connection, version: ServerVersion, user: string, host: string): Promise<TlsStrings> {
  const sql = version.flavor === 'mariadb' && atLeast(version, 10, 4)
    ? "SELECT JSON_VALUE(Priv, '$.x509_issuer') AS issuer, JSON_VALUE(Priv, '$.x509_subject') AS subject, JSON_VALUE(Priv, '$.ssl_cipher') AS cipher FROM mysql.global_priv WHERE User = ? AND Host = ?"
    : 'SELECT x509_issuer AS issuer, x509_subject AS subject, ssl_cipher AS cipher FROM mysql.user WHERE User = ? AND Host = ?';
  const [rows] = await connection.query(sql, [user, host]) as [Array<Record<string, unknown>>, unknown];
  const row = rows[0] ?? {};
  const strings: TlsStrings = {};
  for (const [keyword, column] of [['ISSUER', 'issuer'], ['SUBJECT', 'subject'], ['CIPHER', 'cipher']] as const) {
    const value = row[column] === null || row[column] === undefined ? '' : catalogText(row[column]);
    if (value !== '') strings[keyword] = value;
  }
  return strings;
}

/** `statement` with each of `strings` it prints verbatim between quotes (`SUBJECT '/CN=x'y'`) written as a literal. */
export function withTlsStringsEscaped(statement: string, strings: TlsStrings): string {
  let fixed = statement;
  for (const [keyword, value] of Object.entries(strings)) {
    if (!/['\\]/.test(value)) continue; // printed right as it is
    const verbatim = `${keyword} '${value}'`;
    const at = fixed.indexOf(verbatim);
    if (at >= 0) fixed = `${fixed.slice(0, at)}${keyword} ${escapeLiteral(value)}${fixed.slice(at + verbatim.length)}`;
  }
  return fixed;
}
