/**
 * Which processes on this host hold files open under a directory (from /proc/<pid>/fd): a server
 * nobody recorded — started by hand or by systemd — still shows up here, so a restore never
 * replaces a directory under a running server it does not know.
 */
import { readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import { PermanentError } from '../errors';
import { commandLineOf } from './processes';

export interface DirectoryUser {
  pid: number;
  /** Its command line, shortened, for messages. */
  command: string;
}

/** The processes (other than this one) with a file open under `dir`; `[]` where /proc cannot be read. */
export async function processesUsing(dir: string): Promise<DirectoryUser[]> {
  const root = `${path.resolve(dir)}/`;
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return [];
  }
  const users: DirectoryUser[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let fds: string[];
    try {
      fds = await readdir(`/proc/${entry}/fd`);
    } catch {
      continue; // gone, or not ours to read
    }
    for (const fd of fds) {
      const target = await readlink(`/proc/${entry}/fd/${fd}`).catch(() => '');
      if (target.startsWith(root) || target === root.slice(0, -1)) {
        const argv = (await commandLineOf(Number(entry))) ?? [];
        users.push({ pid: Number(entry), command: argv.join(' ').slice(0, 120) });
        break;
      }
    }
  }
  return users;
}

/**
 * Refuses `dir` while another process holds files under it (a server started by hand or by
 * systemd, which no record of ours names): a restore never replaces a directory under a running
 * process.
 * @throws PermanentError `TARGET_IN_USE` naming each process and the directory.
 */
export async function assertNoProcessUses(dir: string, engine: string): Promise<void> {
  const users = await processesUsing(dir);
  if (users.length > 0) {
    throw new PermanentError(
      `${users.map((u) => `pid ${u.pid} (${u.command})`).join(', ')} holds files under ${dir}: stop it before restoring there; a restore never replaces a directory under a running process`,
      { code: 'TARGET_IN_USE', engine },
    );
  }
}
