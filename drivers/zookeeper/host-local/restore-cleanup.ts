/**
 * After a failed host-local restore, on each node's host: stops every server this restore started there
 * (recorded as its own: core/host/started-servers.ts) and says what each member's dirs hold, by the
 * restore's markers. A server or dir another restore or the operator put there is never stopped or
 * described as this restore's. The ensemble's state as a whole is core's to tell, from every node's.
 */
import { dataDirCleanup, type RestoreCleanup, type RestoreProgress } from '../../../core/driver/restore-cleanup';
import type { RestoreContext } from '../../../core/driver/types';
import { ownRestoreMarker } from '../../../core/host/restore-marker';
import type { HostLocalTarget } from '../config';
import { clientAddress, memberDirsOf, membersHere, restoreMembers } from './restored-members';

export async function cleanupHostLocal(ctx: RestoreContext<HostLocalTarget>, progress: RestoreProgress): Promise<RestoreCleanup> {
  const servers = restoreMembers(ctx);
  const stopped: string[] = [];
  for (const member of membersHere(ctx)) {
    const pid = await servers.stopOwn(member.dataDir);
    if (pid !== undefined) stopped.push(`ZooKeeper member ${member.id} (pid ${pid}, ${clientAddress(member)})`);
  }
  const replaced = progress.prepared?.details.replace === true;
  const described = [];
  for (const dir of membersHere(ctx).flatMap(memberDirsOf)) {
    const marker = await ownRestoreMarker(dir, { backupId: ctx.backup.backupId, spoolDir: ctx.spoolDir });
    const condition = progress.result || marker?.done ? 'restored' : marker ? 'partial' : 'untouched';
    described.push(dataDirCleanup(dir, condition, { backupId: ctx.backup.backupId, replaced, stopped: [] }));
  }
  // Members in different states (some replaced, some not) make an ensemble that is partly restored.
  const conditions = new Set(described.map((d) => d.target));
  const target = conditions.size === 1 ? described[0].target : 'partial';
  const detail = described.map((d) => d.detail).join('; ');
  return { target, detail: stopped.length > 0 ? `${detail}; stopped what the restore started: ${stopped.join(', ')}` : detail, stopped };
}
