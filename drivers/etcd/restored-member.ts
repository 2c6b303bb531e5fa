/**
 * The members a restore finds, stops and starts on its target data dir, under the rules of
 * core/host/started-servers.ts: started and recorded as this restore's own, and stopped only when
 * this restore started it or the target allows it (`stopRunningServer`) — an etcd member already
 * running on the data dir is never stopped behind the operator's back.
 */
import path from 'node:path';
import type { RestoreContext } from '../../core/driver/types';
import { restoreServers, type RestoreServers } from '../../core/host/started-servers';
import type { EtcdRestoreTarget } from './config';
import { memberPid, memberPidFile, startMember, stopMember, type RunningMember, type StartMemberOptions } from './member';

/** The members of the restore `ctx` describes. */
export function restoreMembers(ctx: RestoreContext<EtcdRestoreTarget>): RestoreServers<StartMemberOptions, RunningMember> {
  const permission = { restoreId: ctx.restoreId, explicitly: ctx.target.stopRunningServer, flag: 'stopRunningServer', engine: 'etcd', logger: ctx.logger };
  return restoreServers(permission, function memberOn(dataDir) {
    const pidFile = memberPidFile(dataDir);
    return { pidFile, what: `the etcd member of ${path.resolve(dataDir)}`, pid: () => memberPid(pidFile), stop: () => stopMember(pidFile) };
  }, startMember);
}
