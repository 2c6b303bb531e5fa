/**
 * The client option file every MySQL/MariaDB client tool reads its credentials from
 * (`--defaults-file`): mariabackup/xtrabackup (physical backups), mariadb-binlog (archiving and
 * replaying binlogs). Credentials never go on argv, which every local user can read in `ps`.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** How a client tool reaches the server. */
export interface ClientSettings {
  host: string;
  port: number;
  socketPath?: string;
  user: string;
  password?: string;
}

/** Quotes an option-file value (`"..."` with the escapes MariaDB/MySQL option files understand). */
export function quoteOptionValue(value: string): string {
  const escaped = value.replace(/[\\"\n\r\t]/g, (c) => ({ '\\': '\\\\', '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t' })[c]!);
  return `"${escaped}"`;
}

/**
 * A `[client]` option file for `--defaults-file`: credentials stay out of argv (and out of
 * mariabackup's recorded `tool_command`). With a socket the host and port are not written; without
 * one, `protocol=tcp` keeps `localhost` from silently meaning the default socket.
 */
export function clientOptionFile(settings: ClientSettings): string {
  const lines = ['[client]', `user=${quoteOptionValue(settings.user)}`];
  if (settings.password !== undefined && settings.password !== '') lines.push(`password=${quoteOptionValue(settings.password)}`);
  else lines.push('password=');
  if (settings.socketPath) {
    lines.push(`socket=${quoteOptionValue(settings.socketPath)}`, 'protocol=socket');
  } else {
    lines.push(`host=${quoteOptionValue(settings.host)}`, `port=${settings.port}`, 'protocol=tcp');
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Writes {@link clientOptionFile} to a private (0600) file in a private directory inside `parent`
 * (the run's spool: should the run be killed, the file goes with the run's other leftovers rather
 * than staying in the system's temp directory), runs `fn` with its path, and removes it whatever happens.
 */
export async function withClientOptionFile<T>(settings: ClientSettings, parent: string, fn: (file: string) => Promise<T>): Promise<T> {
  await mkdir(parent, { recursive: true, mode: 0o700 });
  const dir = await mkdtemp(path.join(parent, '.mysql-client-'));
  const file = path.join(dir, 'client.cnf');
  try {
    await writeFile(file, clientOptionFile(settings), { mode: 0o600 });
    return await fn(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
