/**
 * The validation step of an etcd restore: connects to every restored member (starting the members
 * for the check alone when the target says `start: false`) and runs the checks of
 * restore-checks.ts. A single-member target gets `new-cluster`, `revision`, `key-count` and
 * `kv-digest`; a cluster target gets `new-cluster`, `cluster-id`, `leader`, `member-list`, then
 * `revision:<name>`, `key-count:<name>` and `kv-digest:<name>` for each member.
 */
import type { RestoreContext, RestoreResult, ValidationReport } from '../../core/driver/types';
import { isListening } from '../../core/host/ports';
import { createEtcdClient } from './client';
import { memberLogFile, waitForEtcd, type RunningMember } from './member';
import { clusterChecks, memberDataChecks, memberStatus, newClusterCheck, type CheckedMember } from './restore-checks';
import { startRestoredMembers } from './restored-member';
import {
  clusterTokenFor, initialCluster, isClusterTarget, targetMembers, urlAddress, type EtcdRestoreTarget, type TargetMember,
} from './restore-target';

/** The members to check: the target's (a single member at the client URL the restore step reported). */
function membersToCheck(ctx: RestoreContext<EtcdRestoreTarget>, result: RestoreResult): TargetMember[] {
  const members = targetMembers(ctx.target);
  const reported = result.endpoint.clientUrl;
  if (isClusterTarget(ctx.target) || typeof reported !== 'string') return members;
  return [{ ...members[0], clientUrl: reported }];
}

/**
 * Members of a `start: false` target that do not run, started for the check (recorded as this
 * restore's like any member it starts: should the step die here, the failure path's cleanup knows
 * it may stop them).
 */
async function startForCheck(ctx: RestoreContext<EtcdRestoreTarget>, members: TargetMember[]): Promise<RunningMember[]> {
  if (ctx.target.start) return [];
  const stopped: TargetMember[] = [];
  for (const member of members) if (!(await isListening(urlAddress(member.clientUrl), 500))) stopped.push(member);
  if (stopped.length === 0) return [];
  return startRestoredMembers(ctx, stopped, { initialCluster: initialCluster(members), clusterToken: clusterTokenFor(ctx.target, ctx.backup.backupId) });
}

/**
 * Compares the restored member(s) with the backup. Mismatches give `ok: false`; an unreachable
 * member throws (TransientError).
 */
export async function validateEtcdRestore(ctx: RestoreContext<EtcdRestoreTarget>, result: RestoreResult): Promise<ValidationReport> {
  const { target, backup } = ctx;
  const members = membersToCheck(ctx, result);
  const temporary = await startForCheck(ctx, members);
  const clients = members.map((m) => createEtcdClient(m.clientUrl, { username: target.username, password: target.password }));
  try {
    const checked: CheckedMember[] = [];
    for (const [i, member] of members.entries()) {
      await waitForEtcd(member.clientUrl, { timeoutMs: 30_000, logFile: memberLogFile(member.dataDir), peerUrl: member.peerUrl });
      checked.push({ member, client: clients[i], status: await memberStatus(clients[i]) });
    }
    const cluster = isClusterTarget(target);
    const checks = [newClusterCheck(backup, checked[0].status), ...(cluster ? await clusterChecks(checked) : [])];
    for (const one of checked) checks.push(...await memberDataChecks(backup, one, cluster ? `:${one.member.name}` : '', ctx.signal));
    return { ok: checks.every((c) => c.ok), checks };
  } finally {
    for (const client of clients) client.close();
    await Promise.all(temporary.map((m) => m.stop()));
  }
}
