/**
 * A scratch MariaDB for a restore drill. A logical backup is loaded into a fresh, empty server
 * started here; a physical one is restored into an empty data dir, on which the restore starts
 * the server itself (with the source's accounts: the drill connects as `root` without a password,
 * as the local servers of the demo and the tests have it — a source whose root has a password
 * needs a drill target with its credentials).
 */
import path from 'node:path';
import { freePort, onFreePorts } from '../../core/host/ports';
import type { ScratchTargets } from '../../core/drill/scratch-target';
import { startLocalMariaDb } from './shared/local-server';

export const mysqlScratch: ScratchTargets = {
  async start(workDir, backup) {
    if ((backup.facts as { mode?: unknown }).mode === 'physical') {
      const datadir = path.join(workDir, 'datadir');
      return {
        target: { host: '127.0.0.1', port: await freePort(), user: 'root', password: '', physical: { datadir } },
        description: 'a scratch data dir on this host (the restore starts its server)',
      };
    }
    const server = await onFreePorts(1, ([port]) => startLocalMariaDb({ dir: path.join(workDir, 'server'), port, serverId: 2 }));
    return {
      target: { host: server.host, port: server.port, user: 'root', password: '' },
      description: 'a scratch MariaDB on this host',
    };
  },
};
