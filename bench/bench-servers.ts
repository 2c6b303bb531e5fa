/** Throwaway MariaDB servers for a benchmark, each in its own folder of the run's work directory, on free ports. */
import path from 'node:path';
import { onFreePorts } from '../core/host/ports';
import { startLocalMariaDb, type RunningServer } from '../drivers/mysql/shared/local-server';

export interface BenchServers {
  /** Starts server `name` with `serverId`. */
  start(name: string, serverId: number): Promise<RunningServer>;
  /** Stops every server started. */
  stopAll(): Promise<void>;
}

export function benchServers(work: string): BenchServers {
  const servers: RunningServer[] = [];
  return {
    async start(name, serverId) {
      const server = await onFreePorts(1, ([port], attempt) => startLocalMariaDb({ dir: path.join(work, `${name}-${attempt}`), port, serverId }));
      servers.push(server);
      return server;
    },
    async stopAll() {
      for (const server of servers) await server.stop().catch(() => undefined);
    },
  };
}
