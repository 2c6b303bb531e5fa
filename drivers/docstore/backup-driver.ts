/**
 * Backup side of the Docstore driver: one node per MySQL server of the instance (the shared
 * sharded driver), each server's partitions read from one read view and dumped (server-snapshot.ts).
 */
import type { ArtifactSink } from '../../core/driver/artifact-sink';
import type { BackupContext, SnapshotRef, SnapshotTaken } from '../../core/driver/types';
import { ShardedBackupDriver } from '../mysql/sharded/sharded-backup-driver';
import type { TableFacts } from '../mysql/shared/layout';
import { asShardMap, type DocstoreConfig } from './config';
import type { ShardMap } from '../mysql/sharded/target-shards';
import { dumpedTables, ENGINE, recordedFacts, schemaOutlier } from './records';
import type { NodeRecord } from '../../core/catalog/manifest';
import { PermanentError } from '../../core/errors';
import { takeServerSnapshot } from './server-snapshot';

export class DocstoreBackupDriver extends ShardedBackupDriver<DocstoreConfig> {
  protected readonly engine = ENGINE;

  protected takeServerSnapshot(ctx: BackupContext<DocstoreConfig>, sink: ArtifactSink): Promise<SnapshotTaken> {
    return takeServerSnapshot(ctx, sink);
  }

  protected shardMap(config: DocstoreConfig): ShardMap {
    return asShardMap(config);
  }

  protected tablesOf(snapshot: SnapshotRef): TableFacts[] {
    return dumpedTables(recordedFacts(snapshot));
  }

  /**
   * Refuses servers whose snapshots read different schema tables: each server's snapshot compares
   * its schema with the first partition's as it is then, so a schema change that reaches every
   * server between two servers' snapshots passes each of them, yet no restore could take the backup.
   * @throws PermanentError `DOCSTORE_SCHEMA_DIFFERS` naming both servers
   */
  checkNodes(nodes: NodeRecord[]): void {
    const outlier = schemaOutlier(nodes.map((node) => ({ name: node.node ?? 'default', facts: recordedFacts(node) })));
    if (!outlier) return;
    throw new PermanentError(
      `the schema table ${outlier.node.name}'s snapshot read differs from the one ${outlier.first.name}'s read: the schema changed between the two servers' snapshots, and a restore needs one schema for every partition; back up again`,
      { code: 'DOCSTORE_SCHEMA_DIFFERS', engine: ENGINE },
    );
  }
}
