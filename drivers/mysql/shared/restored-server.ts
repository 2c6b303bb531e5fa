/**
 * The servers a physical restore finds, stops and starts on its target data dir, under the rules
 * of core/host/started-servers.ts: started and recorded as this restore's own, and stopped only
 * when this restore started it or the target allows it (`physical.stopRunningServer`) — a server
 * already running on the data dir is never stopped behind the operator's back.
 */
import type { RestoreContext } from '../../../core/driver/types';
import { restoreServers, type RestoreServers } from '../../../core/host/started-servers';
import type { MysqlRestoreTarget } from '../config';
import { ENGINE } from './layout';
import { serverPaths, serverPid, startServer, stopServer, type RunningServer, type StartServerOptions } from './local-server';

/** The servers of the restore `ctx` describes. */
export function restoreServersOf(ctx: RestoreContext<MysqlRestoreTarget>): RestoreServers<StartServerOptions, RunningServer> {
  const permission = {
    restoreId: ctx.restoreId, explicitly: ctx.target.physical?.stopRunningServer ?? false, flag: 'physical.stopRunningServer', engine: ENGINE, logger: ctx.logger,
  };
  return restoreServers(permission, function serverOn(datadir) {
    const { pidFile, dataDir } = serverPaths(datadir);
    return { pidFile, what: `the server of data dir ${dataDir}`, pid: () => serverPid(pidFile), stop: () => stopServer(pidFile) };
  }, startServer);
}
