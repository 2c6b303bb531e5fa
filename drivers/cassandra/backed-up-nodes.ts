/**
 * A Cassandra backup as its nodes: each node's record (tokens, tables, digests) and its artifacts
 * under their own names (core prefixes a node's artifacts with its name when a backup has several).
 */
import type { BackupRecord, StoredArtifact } from '../../core/driver/types';
import { nodeRecords } from '../../core/catalog/manifest';
import { PermanentError } from '../../core/errors';
import { cassandraRecord, type CassandraConsistency, type CassandraFacts } from './records';

export interface BackedUpNode {
  consistency: CassandraConsistency;
  facts: CassandraFacts;
  artifacts: StoredArtifact[];
}

/** Every node of `backup`, in the order of its records. */
export function backedUpNodes(backup: BackupRecord): BackedUpNode[] {
  const records = nodeRecords(backup);
  return records.map((record) => {
    const typed = cassandraRecord(record);
    const prefix = record.node === undefined ? '' : `${record.node}/`;
    const artifacts = backup.artifacts.filter((a) => a.name.startsWith(prefix)).map((a) => ({ ...a, name: a.name.slice(prefix.length) }));
    return { ...typed, artifacts };
  });
}

/** Every token of the backed-up ring. */
export function ringTokens(nodes: readonly BackedUpNode[]): string[] {
  return nodes.flatMap((n) => n.consistency.tokens);
}

/** The backed-up node whose tokens are exactly `tokens`. */
export function nodeWithTokens(nodes: readonly BackedUpNode[], tokens: readonly string[]): BackedUpNode | undefined {
  const key = [...tokens].join(',');
  return nodes.find((n) => n.consistency.tokens.join(',') === key);
}

/** The schema artifact (the same on every node: the first node's). */
export function schemaArtifact(nodes: readonly BackedUpNode[]): StoredArtifact {
  const artifact = nodes[0]?.artifacts.find((a) => a.name === nodes[0].facts.schemaArtifact);
  if (!artifact) throw new PermanentError('the backup has no schema artifact', { code: 'INVALID_MANIFEST', engine: 'cassandra' });
  return artifact;
}
