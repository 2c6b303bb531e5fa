/**
 * A MySQL/MariaDB account as definers, grants and `CURRENT_USER()` name it: how it is read, compared
 * and named in messages.
 */

/** An account: `user` and `host` (a role: no host). */
export interface Account {
  user: string;
  host?: string;
}

/** `account` as messages name it. */
export const describeAccount = (account: Account): string => (account.host === undefined ? `role ${account.user}` : `${account.user}@${account.host}`);

/** Whether `a` and `b` are one account: user names compare exactly, host names regardless of case (as the server does). */
export const sameAccount = (a: Account, b: Account): boolean => a.user === b.user && (a.host ?? '').toLowerCase() === (b.host ?? '').toLowerCase();

/** The account the server writes as `user@host` (`CURRENT_USER()`, information_schema's DEFINER): a user name may hold an `@`, a host may not; a role has none. */
export function accountNamed(text: string): Account {
  const at = text.lastIndexOf('@');
  return at < 0 ? { user: text } : { user: text.slice(0, at), host: text.slice(at + 1) };
}
