/**
 * The nodes (servers) of a backup of a sharded store as a restore reads them: each node's record
 * (consistency and facts), and the stored artifact behind each chunk name its facts list (a
 * multi-node manifest prefixes artifact names with the node's).
 */
import { nodeRecords, type NodeRecord } from '../../../core/catalog/manifest';
import type { BackupRecord, StoredArtifact } from '../../../core/driver/types';
import { PermanentError } from '../../../core/errors';
import { chunkArtifactsOf, type TableFacts } from '../shared/layout';

export interface RecordedNode extends NodeRecord {
  /** The stored artifact of a chunk this node's facts name. @throws PermanentError `INVALID_MANIFEST` when the backup has none. */
  artifact(chunk: string): StoredArtifact;
}

export function recordedNodes(record: BackupRecord, engine: string): RecordedNode[] {
  const byName = new Map(record.artifacts.map((a) => [a.name, a]));
  return nodeRecords(record).map((node) => {
    const prefix = node.node === undefined ? '' : `${node.node}/`;
    return {
      ...node,
      artifact(chunk) {
        const found = byName.get(`${prefix}${chunk}`);
        if (!found) throw new PermanentError(`backup ${record.backupId} lists chunk ${prefix}${chunk} but has no such artifact`, { code: 'INVALID_MANIFEST', engine });
        return found;
      },
    };
  });
}

/**
 * The `recordSchemas.artifactsNamed` of a store spread over MySQL servers: every chunk of every table
 * a node's facts record (`tablesOf` them: its shards' or partitions'), each of which a restore asks
 * {@link RecordedNode.artifact} for — a server's snapshot writes nothing else. None for facts that
 * do not parse (checking the record says why).
 */
export function chunksNamedBy<F>(factsSchema: { safeParse(value: unknown): { success: true; data: F } | { success: false } }, tablesOf: (facts: F) => readonly TableFacts[]): (record: { facts: unknown }) => string[] {
  return (record) => {
    const parsed = factsSchema.safeParse(record.facts);
    return parsed.success ? chunkArtifactsOf(tablesOf(parsed.data)) : [];
  };
}
