/**
 * After a failed etcd restore, on the target host: stops the member this restore started (recorded
 * as its own: core/host/started-servers.ts) and says what the data dir holds, by the restore's
 * marker (core/host/restore-marker.ts: same spool directory). A member or data dir that another restore or
 * the operator put there is never stopped or described as this restore's.
 */
import path from 'node:path';
import { dataDirCleanup, type RestoreCleanup, type RestoreProgress } from '../../core/driver/restore-cleanup';
import type { RestoreContext } from '../../core/driver/types';
import type { EtcdRestoreTarget } from './config';
import { ownRestoreMarker } from '../../core/host/restore-marker';
import { restoreMembers } from './restored-member';

export async function cleanupEtcdRestore(ctx: RestoreContext<EtcdRestoreTarget>, progress: RestoreProgress): Promise<RestoreCleanup> {
  const dataDir = path.resolve(ctx.target.dataDir);
  const marker = await ownRestoreMarker(dataDir, { backupId: ctx.backup.backupId, spoolDir: ctx.spoolDir });
  const ours = marker !== undefined;
  const pid = await restoreMembers(ctx).stopOwn(dataDir);
  const stopped = pid === undefined ? [] : [`etcd member ${ctx.target.name} (pid ${pid}, ${ctx.target.clientUrl})`];
  const condition = progress.result || (ours && marker?.done) ? 'restored' : ours ? 'partial' : 'untouched';
  return dataDirCleanup(dataDir, condition, { backupId: ctx.backup.backupId, replaced: progress.prepared?.details.replace === true, stopped });
}
