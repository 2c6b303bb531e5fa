/**
 * A scratch Cassandra for a restore drill: a fresh local cluster of as many nodes as the backup
 * records, with evenly spaced tokens (what the local clusters of the demo and the tests use; a
 * backup of a ring with other tokens needs a drill target shaped like it).
 */
import path from 'node:path';
import { nodeRecords } from '../../core/catalog/manifest';
import { onFreePorts } from '../../core/host/ports';
import type { ScratchTargets } from '../../core/drill/scratch-target';
import { ensureCassandraDistribution } from './distribution';
import { clusterPortCount, restoreTargetOf, startLocalCassandraCluster } from './local-cluster';

export const cassandraScratch: ScratchTargets = {
  async start(workDir, backup, logger) {
    const home = ensureCassandraDistribution(undefined, (line) => logger.info(line));
    const count = nodeRecords(backup).length;
    const cluster = await onFreePorts(clusterPortCount(count), (ports, attempt) => startLocalCassandraCluster({
      dir: path.join(workDir, `attempt-${attempt}`), home, count, ports, clusterName: `scratch-${path.basename(workDir)}`,
    }));
    return {
      target: restoreTargetOf(cluster),
      description: `a scratch ${count}-node Cassandra on this host`,
    };
  },
};
