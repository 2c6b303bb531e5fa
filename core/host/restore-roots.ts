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
 */
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { PermanentError } from '../errors';

/** The setting that names the roots: absolute paths separated by `:`. */
export const RESTORE_ROOTS_ENV = 'DBBACKUP_RESTORE_ROOTS';

/** What {@link assertForcedRestoreAllowed} checks. */
export interface ForcedRestore {
  engine: string;
  force: boolean;
  /**
   * The host paths the restore replaces when forced, as the driver names them
   * (`RestoreDriver.replacedPaths`); undefined when the driver names none, and so cannot be checked.
   */
  replacedPaths: readonly string[] | undefined;
  /** This host's restore roots. */
  roots: readonly string[];
}

/**
 * Refuses a forced restore that would replace anything outside this host's restore roots.
 * @throws PermanentError `RESTORE_ROOT_REFUSED` naming the path, the roots and the setting.
 */
export async function assertForcedRestoreAllowed(restore: ForcedRestore): Promise<void> {
  if (!restore.force) return;
  if (restore.replacedPaths === undefined) {
    throw refused(`engine '${restore.engine}' does not say which host paths a forced restore replaces, so force cannot be checked against this host's restore roots`);
  }
  if (restore.replacedPaths.length === 0) return;
  const roots = await Promise.all(restore.roots.map(resolvedPath));
  for (const wanted of restore.replacedPaths) {
    const real = await resolvedPath(wanted);
    if (roots.some((root) => real.startsWith(root.endsWith('/') ? root : `${root}/`))) continue;
    const allowed = restore.roots.length > 0 ? `the restore roots this host allows (${restore.roots.join(', ')})` : 'a restore root, and this host allows none';
    throw refused(`force would replace ${wanted}${real === wanted ? '' : ` (${real})`}, which is not inside ${allowed}`);
  }
}

function refused(why: string): PermanentError {
  return new PermanentError(
    `${why}; a forced restore replaces data only inside the directories the host's own configuration names in ${RESTORE_ROOTS_ENV} (e.g. in /etc/dbbackup/dbbackup.env), never where the restore input says`,
    { code: 'RESTORE_ROOT_REFUSED' },
  );
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
