/**
 * Where a forced restore may replace data on this host: only inside the restore roots the host's
 * own configuration names (`DBBACKUP_RESTORE_ROOTS`, e.g. in /etc/dbbackup/dbbackup.env), never
 * where the restore input says. The input comes from whoever may start an execution; the roots
 * come from whoever administers the host.
 *
 * A path counts as inside a root when, with symbolic links resolved as far as the path exists, it
 * lies strictly below the root: not the root itself, whose siblings (`<datadir>.pid`,
 * `<datadir>-binlog`) a restore writes too. A restore without `force` only ever fills an absent or
 * empty directory, and is not limited by the roots.
 *
 * A forced restore that replaces data on a server over the network (a logical MySQL restore drops
 * and reloads databases) names no host path; it goes through only to a server the host's
 * configuration names in `DBBACKUP_RESTORE_SERVERS` (`host:port`, `host:*` for any port of a host,
 * or a `unix:` socket path, separated by commas). Otherwise the console could point a forced
 * restore at the production server the instance's own credentials reach.
 *
 * In AWS every restore is held to both settings, forced or not ({@link assertRestoreAllowed}): the
 * request came from whoever may start an execution, not from the operator at the host.
 */
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { PermanentError } from '../errors';

/** The setting that names the roots: absolute paths separated by `:`. */
export const RESTORE_ROOTS_ENV = 'DBBACKUP_RESTORE_ROOTS';
/** The setting that names the servers a forced restore may replace databases on: `host:port`, `host:*`, `unix:<path>`, comma-separated. */
export const RESTORE_SERVERS_ENV = 'DBBACKUP_RESTORE_SERVERS';

/** A restore as {@link assertRestoreAllowed} checks it. */
export interface RestoreWrites {
  engine: string;
  /** Forced: it replaces what the target holds. */
  force: boolean;
  /**
   * Started in AWS (from whoever may start an execution), not a drill's own scratch target: it
   * writes only where the host allows, forced or not.
   */
  confined: boolean;
  /**
   * The host paths the restore writes (forced: replaces), as the driver names them
   * (`RestoreDriver.replacedPaths`); undefined when the driver names none, and so cannot be checked.
   */
  paths: readonly string[] | undefined;
  /** The servers (endpoints) it loads data into (`RestoreDriver.replacedServers`). */
  servers: readonly string[];
}

/** What this host's configuration allows: its restore roots, and the servers (`host:port`, `host:*`, `unix:<path>`). */
export interface RestoresAllowed {
  roots: readonly string[];
  servers: readonly string[];
}

/** How a refusal reads, for a forced restore and for one started in AWS. */
const REFUSAL = {
  forced: {
    rule: 'a forced restore replaces data only',
    server: (server: string) => `force would replace data on the server ${server}`,
    path: (where: string) => `force would replace ${where}`,
    unnamed: (engine: string) => `engine '${engine}' does not say which host paths a forced restore replaces, so force cannot be checked against this host's restore roots`,
  },
  confined: {
    rule: 'a restore started in AWS writes only',
    server: (server: string) => `the restore would load the backup's data into ${server}`,
    path: (where: string) => `the restore would write ${where}`,
    unnamed: (engine: string) => `engine '${engine}' does not say which host paths its restore writes, so they cannot be checked against this host's restore roots`,
  },
} as const;

/**
 * Refuses a restore that would write where this host does not allow: a forced one (it replaces
 * data) anywhere but inside the host's restore roots and on its restore servers; in AWS (the
 * request came from whoever may start an execution), any restore, forced or not, anywhere else —
 * otherwise the console could send a backup's every row to any server the host reaches, or have
 * the agent (root) fill any empty directory. A local restore without force only ever fills an
 * absent or empty directory, or a server the operator typed, and is let through.
 * @throws PermanentError `RESTORE_ROOT_REFUSED` naming the server or path and the setting
 */
export async function assertRestoreAllowed(restore: RestoreWrites, allowed: RestoresAllowed): Promise<void> {
  if (!restore.force && !restore.confined) return;
  const words = restore.force ? REFUSAL.forced : REFUSAL.confined;
  const refuse = (why: string, setting?: string) => refusedTo(why, words.rule, setting);
  for (const server of restore.servers) {
    if (allowed.servers.some((entry) => serverMatches(entry, server))) continue;
    const among = allowed.servers.length > 0 ? `among the servers this host allows (${allowed.servers.join(', ')})` : 'a server this host allows, and it allows none';
    throw refuse(`${words.server(server)}, which is not ${among}`, RESTORE_SERVERS_ENV);
  }
  if (restore.paths === undefined) throw refuse(words.unnamed(restore.engine));
  const outside = await outsideRoots(restore.paths, allowed.roots);
  if (outside) throw refuse(words.path(outside));
}

/** The first of `paths` not strictly inside one of `roots` (symbolic links resolved), in words: `<path> (<real>), which is not inside …`; undefined when every one is. */
async function outsideRoots(paths: readonly string[], roots: readonly string[]): Promise<string | undefined> {
  if (paths.length === 0) return undefined;
  const resolved = await Promise.all(roots.map(resolvedPath));
  for (const wanted of paths) {
    const real = await resolvedPath(wanted);
    if (resolved.some((root) => real.startsWith(root.endsWith('/') ? root : `${root}/`))) continue;
    const allowed = roots.length > 0 ? `the restore roots this host allows (${roots.join(', ')})` : 'a restore root, and this host allows none';
    return `${wanted}${real === wanted ? '' : ` (${real})`}, which is not inside ${allowed}`;
  }
  return undefined;
}

function refusedTo(why: string, rule: string, setting: string = RESTORE_ROOTS_ENV): PermanentError {
  const where = setting === RESTORE_ROOTS_ENV ? 'inside the directories' : 'on the servers';
  return new PermanentError(
    `${why}; ${rule} ${where} the host's own configuration names in ${setting} (e.g. in /etc/dbbackup/dbbackup.env), never where the restore input says`,
    { code: 'RESTORE_ROOT_REFUSED' },
  );
}

/** True when the allowed entry `host:port`, `host:*` or `unix:<path>` covers `server` (case-insensitive host). */
function serverMatches(allowed: string, server: string): boolean {
  if (allowed.startsWith('unix:') || server.startsWith('unix:')) return allowed === server;
  const [host, port] = splitHostPort(allowed);
  const [serverHost, serverPort] = splitHostPort(server);
  return host.toLowerCase() === serverHost.toLowerCase() && (port === '*' || port === serverPort);
}

function splitHostPort(endpoint: string): [string, string] {
  const colon = endpoint.lastIndexOf(':');
  return colon < 0 ? [endpoint, ''] : [endpoint.slice(0, colon), endpoint.slice(colon + 1)];
}

/**
 * The servers of `DBBACKUP_RESTORE_SERVERS`.
 * @throws PermanentError `INVALID_INPUT` for an entry that is not `host:port`, `host:*` or `unix:/path`.
 */
export function parseRestoreServers(value: string | undefined): string[] {
  const servers = (value ?? '').split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
  for (const server of servers) {
    if (!/^(unix:\/\S+|[^\s:/]+:(\*|[1-9][0-9]{0,4}))$/.test(server)) {
      throw new PermanentError(`${RESTORE_SERVERS_ENV}: '${server}' is not host:port, host:* or unix:/path/to/socket`, { code: 'INVALID_INPUT' });
    }
  }
  return servers;
}

/** `p` with symbolic links resolved in the part of it that exists (the rest appended as it is). */
async function resolvedPath(p: string): Promise<string> {
  const absolute = path.resolve(p);
  const missing: string[] = [];
  let existing = absolute;
  for (;;) {
    try {
      return path.join(await realpath(existing), ...missing.reverse());
    } catch {
      const parent = path.dirname(existing);
      if (parent === existing) return absolute;
      missing.push(path.basename(existing));
      existing = parent;
    }
  }
}
