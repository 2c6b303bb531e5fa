/** A scratch Docstore for a restore drill: every partition of the backup in one fresh MariaDB. */
import { nodeRecords } from '../../core/catalog/manifest';
import type { ScratchTargets } from '../../core/drill/scratch-target';
import { startScratchServer } from '../mysql/sharded/scratch-server';
import { recordedFacts } from './records';

export const docstoreScratch: ScratchTargets = {
  start: (workDir, backup) => startScratchServer(workDir, recordedFacts(nodeRecords(backup)[0]).partitionCount, 'partitions', (server, count) => ({
    servers: [server],
    partitions: Array.from({ length: count }, (_, partition) => ({ partition, server: server.name, database: `partition_${partition}` })),
  })),
};
