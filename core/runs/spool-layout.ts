/**
 * Where runs keep their host-local files, under the spool root (`DBBACKUP_SPOOL_DIR`):
 *
 *     <root>/backup/<backupId>/<node>/    one backup node's run directory (run-dir.ts), its owner
 *                                         record beside it: <node>.owner.json
 *     <root>/restore/<restoreId>/<node>/  one restore node's run directory, its owner record beside it:
 *                                         <node>.owner.json
 *     <root>/drill/<restoreId>/           a restore drill's scratch target (core/drill/scratch-target.ts)
 *     <root>/.trash/                      run directories being removed (a reclaim renames them here first)
 *
 * Nothing else is written under the root; leftovers.ts walks exactly these places.
 */
import path from 'node:path';

export const BACKUP_RUNS = 'backup';
export const RESTORE_RUNS = 'restore';
export const DRILL_RUNS = 'drill';
export const TRASH = '.trash';

/** Run directory of one node of a backup. */
export function backupRunDir(spoolRoot: string, backupId: string, node: string): string {
  return path.join(spoolRoot, BACKUP_RUNS, backupId, node);
}

/** Run directory of one node of a restore. */
export function restoreRunDir(spoolRoot: string, restoreId: string, node: string): string {
  return path.join(spoolRoot, RESTORE_RUNS, restoreId, node);
}

/** Directory of the scratch target a drill restores into: one per restore, so nothing else names it. */
export function drillRunDir(spoolRoot: string, restoreId: string): string {
  return path.join(spoolRoot, DRILL_RUNS, restoreId);
}
