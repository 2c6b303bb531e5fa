/**
 * Backup side of the Docstore driver: one node per MySQL server of the instance (the shared
 * sharded driver), each server's partitions read from one read view and dumped (server-snapshot.ts).
 */
import type { ArtifactSink } from '../../core/driver/artifact-sink';
import type { BackupContext, SnapshotRef, SnapshotTaken } from '../../core/driver/types';
import { ShardedBackupDriver } from '../mysql/sharded/sharded-backup-driver';
import type { TableFacts } from '../mysql/shared/layout';
import type { DocstoreConfig } from './config';
import { ENGINE, recordedFacts } from './records';
import { takeServerSnapshot } from './server-snapshot';

export class DocstoreBackupDriver extends ShardedBackupDriver<DocstoreConfig> {
  protected readonly engine = ENGINE;

  protected takeServerSnapshot(ctx: BackupContext<DocstoreConfig>, sink: ArtifactSink): Promise<SnapshotTaken> {
    return takeServerSnapshot(ctx, sink);
  }

  protected tablesOf(snapshot: SnapshotRef): TableFacts[] {
    return recordedFacts(snapshot).partitions.flatMap((p) => p.tables);
  }
}
