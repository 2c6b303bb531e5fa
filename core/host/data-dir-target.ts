/**
 * A restore into a data directory on this host (a restored etcd member's, a restored MariaDB
 * server's): the rules every engine's restore of one follows, and one error code for each way a
 * target is refused.
 *
 * - empty or `force`: a data dir that holds anything is replaced only with `force`, or when this
 *   same restore left it half-written (its restore marker, restore-marker.ts) — `TARGET_NOT_EMPTY`;
 * - the port a restored server is to listen on must be free — `TARGET_PORT_IN_USE`.
 *
 * Which paths `force` may replace at all is restore-roots.ts; which running servers a restore may
 * stop is started-servers.ts.
 */
import { readdir } from 'node:fs/promises';
import { PermanentError } from '../errors';
import { isListening } from './ports';
import { isOwnRestore, type RestoreIdentity } from './restore-marker';

/** One restore into one data dir. */
export interface DataDirRestore extends RestoreIdentity {
  engine: string;
  /** Absolute. */
  dataDir: string;
  force: boolean;
}

/**
 * What a data dir holds: its entries, `[]` when it does not exist.
 * @throws PermanentError `INVALID_TARGET` when it is a file (or below one): no data dir can be made there
 */
export async function dataDirEntries(dataDir: string, engine?: string): Promise<string[]> {
  try {
    return await readdir(dataDir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return [];
    if (code === 'ENOTDIR') {
      throw new PermanentError(`restore target data dir ${dataDir} is not a directory (a file is there, or on its path): give a directory, empty or not yet made`, { code: 'INVALID_TARGET', ...(engine ? { engine } : {}) });
    }
    throw error;
  }
}

/** PermanentError `TARGET_NOT_EMPTY` for `dataDir`, `detail` saying what is in it. */
export function targetNotEmpty(engine: string, dataDir: string, detail: string): PermanentError {
  return new PermanentError(
    `restore target data dir ${dataDir} is not empty (${detail}); pass --force to replace it — it is replaced only after the backup has been downloaded and verified`,
    { code: 'TARGET_NOT_EMPTY', engine },
  );
}

/** What a data dir the restore may replace holds. */
export interface Replaceable {
  entries: string[];
  /** It holds this restore's own unfinished work (its marker). */
  own: boolean;
}

/**
 * The data dir's entries, once it is clear the restore may replace them: it is empty, or it holds
 * this restore's own unfinished work, or `force` was given.
 * @param changed true when asked right before replacing (after the prepare step passed), for the message
 * @throws PermanentError `TARGET_NOT_EMPTY`
 */
export async function replaceableEntries(restore: DataDirRestore, changed = false): Promise<Replaceable> {
  const entries = await dataDirEntries(restore.dataDir, restore.engine);
  const own = entries.length > 0 && await isOwnRestore(restore.dataDir, restore);
  if (entries.length === 0 || own || restore.force) return { entries, own };
  const detail = changed
    ? 'it changed after the prepare step, and this restore did not write it'
    : `${entries.length} entries: ${entries.slice(0, 5).join(', ')}${entries.length > 5 ? ', …' : ''}`;
  throw targetNotEmpty(restore.engine, restore.dataDir, detail);
}

/**
 * Refuses a restore target whose address something already listens on.
 * @param address where the restored server is to listen
 * @param what the address as the target names it, e.g. `clientUrl http://127.0.0.1:2379`
 * @param hint what to choose instead
 * @throws PermanentError `TARGET_PORT_IN_USE`
 */
export async function assertPortFree(engine: string, address: { host: string; port: number }, what: string, hint: string): Promise<void> {
  if (await isListening(address)) {
    throw new PermanentError(`the restore target's ${what} is already in use; ${hint}`, { code: 'TARGET_PORT_IN_USE', engine });
  }
}
