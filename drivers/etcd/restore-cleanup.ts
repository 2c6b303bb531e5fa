/**
 * After a failed etcd restore, on each node's host: stops every member this restore started there
 * (recorded as its own: core/host/started-servers.ts) and says what each data dir holds, by the
 * restore's marker beside it (core/host/restore-marker.ts: same spool directory). A member or data
 * dir that another restore or the operator put there is never stopped or described as this
 * restore's. A cluster target is `restored` when every member's data dir is, `untouched` when none
 * was written to, and `partial` otherwise; its sentence names each data dir.
 */
import { dataDirCleanup, type RestoreCleanup, type RestoreProgress, type TargetCondition } from '../../core/driver/restore-cleanup';
import type { RestoreContext } from '../../core/driver/types';
import { ownRestoreMarker } from '../../core/host/restore-marker';
import { restoreMembers } from './restored-member';
import { isClusterTarget, membersHere, type EtcdRestoreTarget, type TargetMember } from './restore-target';

type DataDirCondition = Exclude<TargetCondition, 'unknown'>;

/** Whether the prepare step found `dataDir` holding data (then the restore replaces it). */
function wasReplaced(progress: RestoreProgress, dataDir: string): boolean {
  const details = progress.prepared?.details;
  if (!details) return false;
  const members = Array.isArray(details.members) ? details.members : [details];
  return members.some((m) => typeof m === 'object' && m !== null && !Array.isArray(m) && m.dataDir === dataDir && m.replace === true);
}

/** What one member's cleanup found: its data dir's condition and what it stopped. */
interface MemberCleanup {
  member: TargetMember;
  condition: DataDirCondition;
  replaced: boolean;
  stopped: string[];
}

/** Stops `member` if this restore started it, and finds what its data dir holds. */
async function cleanupMember(ctx: RestoreContext<EtcdRestoreTarget>, progress: RestoreProgress, member: TargetMember): Promise<MemberCleanup> {
  const { dataDir } = member;
  const marker = await ownRestoreMarker(dataDir, { backupId: ctx.backup.backupId, spoolDir: ctx.spoolDir });
  const ours = marker !== undefined;
  const pid = await restoreMembers(ctx).stopOwn(dataDir);
  const stopped = pid === undefined ? [] : [`etcd member ${member.name} (pid ${pid}, ${member.clientUrl})`];
  const condition: DataDirCondition = progress.result || (ours && marker?.done) ? 'restored' : ours ? 'partial' : 'untouched';
  return { member, condition, replaced: wasReplaced(progress, dataDir), stopped };
}

export async function cleanupEtcdRestore(ctx: RestoreContext<EtcdRestoreTarget>, progress: RestoreProgress): Promise<RestoreCleanup> {
  const { backupId } = ctx.backup;
  const cleaned = await Promise.all(membersHere(ctx).map((member) => cleanupMember(ctx, progress, member)));
  const stopped = cleaned.flatMap((c) => c.stopped);
  if (!isClusterTarget(ctx.target)) return dataDirCleanup(cleaned[0].member.dataDir, cleaned[0].condition, { backupId, replaced: cleaned[0].replaced, stopped });
  const conditions = new Set(cleaned.map((c) => c.condition));
  const target: DataDirCondition = conditions.size === 1 ? cleaned[0].condition : 'partial';
  const each = cleaned.map((c) => `member ${c.member.name}: ${dataDirCleanup(c.member.dataDir, c.condition, { backupId, replaced: c.replaced, stopped: [] }).detail}`);
  const detail = `a cluster of ${cleaned.length} members; ${each.join('; ')}`;
  return { target, detail: stopped.length > 0 ? `${detail}; stopped what the restore started: ${stopped.join(', ')}` : detail, stopped };
}
