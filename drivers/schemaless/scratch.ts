/** A scratch Schemaless store for a restore drill: every shard of the backup in one fresh MariaDB. */
import { nodeRecords } from '../../core/catalog/manifest';
import type { ScratchTargets } from '../../core/drill/scratch-target';
import { startScratchServer } from '../mysql/sharded/scratch-server';
import { recordedFacts } from './records';

export const schemalessScratch: ScratchTargets = {
  start: (workDir, backup) => startScratchServer(workDir, recordedFacts(nodeRecords(backup)[0]).shardCount, 'shards', (server, count) => ({
    servers: [server],
    shards: Array.from({ length: count }, (_, shard) => ({ shard, server: server.name, database: `shard_${String(shard).padStart(3, '0')}` })),
  })),
};
