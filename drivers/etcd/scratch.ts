/** A scratch etcd for a restore drill: an empty data dir and two free ports; the restore starts the member there. */
import path from 'node:path';
import { freePort } from '../../core/host/ports';
import type { ScratchTargets } from '../../core/drill/scratch-target';

export const etcdScratch: ScratchTargets = {
  async start(workDir) {
    const dataDir = path.join(workDir, 'data');
    return {
      // Fast elections: the member lives only to be checked.
      target: { dataDir, clientUrl: `http://127.0.0.1:${await freePort()}`, peerUrl: `http://127.0.0.1:${await freePort()}`, fastElections: true },
      description: 'a scratch etcd member on this host',
    };
  },
};
