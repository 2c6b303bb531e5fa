/**
 * The members a restore finds, stops and starts on its target data dirs, under the rules of
 * core/host/started-servers.ts: started and recorded as this restore's own, and stopped only when
 * this restore started it or the target allows it (`stopRunningServer`) — an etcd member already
 * running on a data dir is never stopped behind the operator's back.
 *
 * A member is recorded as this restore's the moment it runs, before it is ready: the members of a
 * cluster wait for each other's votes, and a step killed while they wait leaves members a retry
 * must recognise as its own.
 */
import path from 'node:path';
import type { RestoreContext } from '../../core/driver/types';
import { recordStartedServer, restoreServers, startTogether, type RestoreServers } from '../../core/host/started-servers';
import { memberPid, memberPidFile, startMember, stopMember, type RunningMember, type StartMemberOptions } from './member';
import type { EtcdRestoreTarget, TargetMember } from './restore-target';

/** The members of the restore `ctx` describes. */
export function restoreMembers(ctx: RestoreContext<EtcdRestoreTarget>): RestoreServers<StartMemberOptions, RunningMember> {
  const permission = { restoreId: ctx.restoreId, explicitly: ctx.target.stopRunningServer, flag: 'stopRunningServer', engine: 'etcd', logger: ctx.logger };
  return restoreServers(permission, function memberOn(dataDir) {
    const pidFile = memberPidFile(dataDir);
    return { pidFile, what: `the etcd member of ${path.resolve(dataDir)}`, pid: () => memberPid(pidFile), stop: () => stopMember(pidFile) };
  }, function startOwnMember(options) {
    const onSpawn = (pid: number) => recordStartedServer(memberPidFile(options.dataDir), ctx.restoreId, pid);
    return startMember({ ...options, onSpawn });
  });
}

/**
 * Starts `members` of one restored cluster together (a member alone has no quorum, so none is
 * ready before a majority runs), each with the whole `initialCluster`. When any fails, the others
 * are stopped again and the first failure is thrown (TransientError `ETCD_START_TIMEOUT`,
 * PermanentError `ETCD_START_FAILED`, as `startMember`).
 */
export function startRestoredMembers(
  ctx: RestoreContext<EtcdRestoreTarget>,
  members: readonly TargetMember[],
  cluster: { initialCluster: string; clusterToken: string },
): Promise<RunningMember[]> {
  return startTogether(restoreMembers(ctx), members.map((m) => ({ ...m, ...cluster, fastElections: ctx.target.fastElections })), (m) => m.dataDir);
}
