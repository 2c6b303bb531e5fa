/**
 * After a failed etcd restore, on the target host: stops the member this restore started and says
 * what the data dir holds. The restore's own work is recognised by its marker (restore-marker.ts:
 * same spool directory) or, once the restore finished, by the member's pid in its result; a member
 * or data dir that another restore or the operator put there is never stopped or described as ours.
 */
import path from 'node:path';
import type { RestoreCleanup, RestoreProgress } from '../../core/driver/restore-cleanup';
import type { RestoreContext } from '../../core/driver/types';
import type { EtcdRestoreTarget } from './config';
import { memberPid, memberPidFile, stopMember } from './member';
import { readRestoreMarker } from './restore-marker';

export async function cleanupEtcdRestore(ctx: RestoreContext<EtcdRestoreTarget>, progress: RestoreProgress): Promise<RestoreCleanup> {
  const dataDir = path.resolve(ctx.target.dataDir);
  const marker = await readRestoreMarker(dataDir);
  const ours = marker?.spoolDir !== undefined && marker.spoolDir === ctx.spoolDir;
  const stopped: string[] = [];
  const pidFile = memberPidFile(dataDir);
  const pid = await memberPid(pidFile);
  if (pid !== undefined && (ours || pid === progress.result?.endpoint.pid)) {
    await stopMember(pidFile);
    stopped.push(`etcd member ${ctx.target.name} (pid ${pid}, ${ctx.target.clientUrl}) on ${dataDir}`);
  }
  const replaced = progress.prepared?.details.replace === true;
  const backup = ctx.backup.backupId;
  if (progress.result || (ours && marker?.done)) {
    return {
      target: 'restored',
      detail: `${dataDir} holds backup ${backup} as restored${replaced ? ' in place of its previous contents' : ''}; the failure came after the restore, and its member is stopped`,
      stopped,
    };
  }
  if (ours) {
    return {
      target: 'partial',
      detail: `${dataDir} holds an unfinished restore of backup ${backup}${replaced ? '; its previous contents were deleted' : ''}: restore it again (with force) or remove it`,
      stopped,
    };
  }
  return { target: 'untouched', detail: `${dataDir} was not written to${replaced ? ' and keeps its previous contents' : ''}`, stopped };
}
