/**
 * A scratch ZooKeeper for a restore drill. A host-local backup is restored into a standalone
 * member's empty data dir on a free port (the restore starts the member); a logical one is
 * written into a fresh standalone server started here.
 */
import path from 'node:path';
import { onFreePorts } from '../../core/host/ports';
import type { ScratchTargets } from '../../core/drill/scratch-target';
import { startLocalZooKeeper } from './member';

export const zookeeperScratch: ScratchTargets = {
  async start(workDir, backup) {
    if ((backup.consistency as { mode?: unknown }).mode === 'logical') {
      const server = await onFreePorts(3, (ports, attempt) => startLocalZooKeeper({ dir: path.join(workDir, `server-${attempt}`), ports }));
      return {
        target: { mode: 'logical', servers: [server.connectString] },
        description: 'a scratch standalone ZooKeeper server on this host',
      };
    }
    const dataDir = path.join(workDir, 'data');
    const [clientPort] = await onFreePorts(1, async (ports) => ports);
    return {
      target: { members: [{ id: 1, dataDir, clientPort }] },
      description: 'a scratch standalone ZooKeeper member on this host',
    };
  },
};
