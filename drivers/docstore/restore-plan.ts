/**
 * What a restore of a Docstore backup loads into each partition (pure, no I/O): every table each
 * node recorded for it, with the artifacts behind its chunks, and the schema every node read.
 */
import type { BackupRecord, StoredArtifact } from '../../core/driver/types';
import { PermanentError } from '../../core/errors';
import { recordedNodes } from '../mysql/sharded/recorded-nodes';
import type { TableDefinition } from './layout';
import { ENGINE, recordedFacts, schemaOutlier, type DocstoreFacts, type PartitionFacts } from './records';


export interface RestorePlan {
  partitionCount: number;
  schemaTable: string;
  definitions: Record<string, TableDefinition>;
  valueEncoding: DocstoreFacts['valueEncoding'];
  partitions: Array<{ shard: number; tables: Array<PartitionFacts['tables'][number] & { chunkArtifacts: StoredArtifact[] }> }>;
  downloads: StoredArtifact[];
}

export function planRestore(backup: BackupRecord): RestorePlan {
  const nodes = recordedNodes(backup, ENGINE);
  const facts = nodes.map((node) => ({ node, facts: recordedFacts(node) }));
  const first = facts[0].facts;
  const outlier = schemaOutlier(facts);
  if (outlier) {
    const [node, first] = [outlier.node.node.node, outlier.first.node.node];
    throw new PermanentError(`backup ${backup.backupId}: the schema table on ${node} differs from ${first}'s (partitions were read with different schemas); restore needs one schema`, { code: 'DOCSTORE_SCHEMA_DIFFERS', engine: ENGINE });
  }
  const partitions: RestorePlan['partitions'] = [];
  const definitions: Record<string, TableDefinition> = {};
  for (const { node, facts: f } of facts) {
    Object.assign(definitions, f.definitions);
    for (const p of f.partitions) {
      partitions.push({ shard: p.partition, tables: p.tables.map((t) => ({ ...t, chunkArtifacts: t.chunks.map((c) => node.artifact(c)) })) });
    }
  }
  partitions.sort((a, b) => a.shard - b.shard);
  if (partitions.length !== first.partitionCount || partitions.some((p, i) => p.shard !== i)) {
    throw new PermanentError(`backup ${backup.backupId} records partitions ${partitions.map((p) => p.shard).join(', ')} of ${first.partitionCount}`, { code: 'INVALID_MANIFEST', engine: ENGINE });
  }
  const downloads = partitions.flatMap((p) => p.tables.flatMap((t) => t.chunkArtifacts));
  return { partitionCount: first.partitionCount, schemaTable: first.schemaTable, definitions, valueEncoding: first.valueEncoding, partitions, downloads };
}
