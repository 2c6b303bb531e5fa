/**
 * The servers a physical restore finds, stops and starts on its target data dir, under the rules
 * of core/host/started-servers.ts: started and recorded as this restore's own, and stopped only
 * when this restore started it or the target allows it (`physical.stopRunningServer`) — a server
 * already running on the data dir is never stopped behind the operator's back — and the GTID
 * position a restored server is given to replicate from its source.
 */
import type { Connection } from 'mysql2/promise';
import type { RestoreContext } from '../../../core/driver/types';
import { restoreServers, type RestoreServers } from '../../../core/host/started-servers';
import type { MysqlRestoreTarget } from '../config';
import { mapMysqlError } from './errors';
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

/**
 * `SET GLOBAL gtid_slave_pos = gtid` on the restored server, through `connection` (logged in with
 * the target's account, one of the source's). An account that may not set it leaves it as it was:
 * what to run instead is logged as a warning and returned; undefined once it is set.
 */
export async function setGtidSlavePos(connection: Connection, gtid: string, ctx: Pick<RestoreContext<MysqlRestoreTarget>, 'target' | 'logger'>): Promise<string | undefined> {
  try {
    await connection.query('SET GLOBAL gtid_slave_pos = ?', [gtid]);
    return undefined;
  } catch (error) {
    if (mapMysqlError(error)?.code !== 'MYSQL_PRIVILEGES') throw error;
    const notSet = `user ${ctx.target.user} may not set gtid_slave_pos on the restored server (it needs REPLICATION SLAVE ADMIN, or SUPER before MariaDB 10.5.2); to replicate from the source, run as a user that may: SET GLOBAL gtid_slave_pos = '${gtid}'`;
    ctx.logger.warn('mysql restore: gtid_slave_pos not set', { reason: notSet });
    return notSet;
  }
}
