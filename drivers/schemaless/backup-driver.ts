/**
 * Backup side of the Schemaless driver: one node per MySQL server of the instance (the shared
 * sharded driver), each server's shards read from one read view and dumped (server-snapshot.ts);
 * full, or incremental from the instance's previous backup.
 */
import type { ArtifactSink } from '../../core/driver/artifact-sink';
import type { BackupContext, SnapshotRef, SnapshotTaken, ValidationCheck } from '../../core/driver/types';
import { listProblems } from '../../core/driver/validation-check';
import { ShardedBackupDriver } from '../mysql/sharded/sharded-backup-driver';
import type { TableFacts } from '../mysql/shared/layout';
import type { SchemalessConfig } from './config';
import type { ShardMap } from '../mysql/sharded/target-shards';
import { dumpedTables, ENGINE, recordedFacts } from './records';
import { takeServerSnapshot } from './server-snapshot';

export class SchemalessBackupDriver extends ShardedBackupDriver<SchemalessConfig> {
  protected readonly engine = ENGINE;

  protected takeServerSnapshot(ctx: BackupContext<SchemalessConfig>, sink: ArtifactSink): Promise<SnapshotTaken> {
    return takeServerSnapshot(ctx, sink);
  }

  protected shardMap(config: SchemalessConfig): ShardMap {
    return config;
  }

  protected tablesOf(snapshot: SnapshotRef): TableFacts[] {
    return dumpedTables(recordedFacts(snapshot));
  }

  /** `cells-dumped`: each shard's cell chunks hold exactly the cells its read view counted. */
  protected override engineChecks(snapshot: SnapshotRef): ValidationCheck[] {
    const facts = recordedFacts(snapshot);
    const wrong = facts.shards.flatMap((s) => {
      const cells = s.tables.find((t) => t.role === 'cells');
      const expected = s.newCells + s.lateCells;
      return cells?.rows === expected ? [] : [`shard ${s.shard}: ${cells?.rows ?? 'no'} cells dumped, ${expected} expected`];
    });
    const total = facts.shards.reduce((n, s) => n + s.newCells + s.lateCells, 0);
    return [{ name: 'cells-dumped', ok: wrong.length === 0, detail: wrong.length ? listProblems(wrong) : `${facts.shards.length} shards, ${total} cells` }];
  }
}
