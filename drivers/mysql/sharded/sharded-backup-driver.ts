/**
 * The backup side shared by stores spread over MySQL servers (Schemaless, Docstore): one node per
 * server, every server reached before any is dumped (a backup needs all of them), each server's
 * snapshot taken by the engine (`takeServerSnapshot`), validated by reading every chunk back where
 * it was written (sha256, then each table's rows and digest). Upload and cleanup are the spool ones.
 */
import type { ArtifactSink } from '../../../core/driver/artifact-sink';
import { ArtifactReader, artifactSink } from '../../../core/driver/artifact-sink';
import { SpoolBackupDriver } from '../../../core/driver/spool-backup-driver';
import type { BackupContext, NodeRef, ResumeVerdict, SnapshotRef, SnapshotTaken, ValidationCheck, ValidationReport } from '../../../core/driver/types';
import { notReadBackVerdict, rowsReadBack } from '../logical/chunks-as-written';
import { withConnection } from '../shared/connection';
import { mysqlEndpoint } from '../shared/connection-config';
import type { TableFacts } from '../shared/layout';
import { refuseUnfinishedRestores } from './shard-restore-marker';
import { unfinishedRestoresOn, type ShardMap, type TargetServer } from './target-shards';

/** What the shared driver needs of an engine's config. */
export interface ShardedConfig {
  servers: readonly TargetServer[];
  parallelism: number;
  streamToStore: boolean;
}

export abstract class ShardedBackupDriver<C extends ShardedConfig> extends SpoolBackupDriver<C> {
  /** The engine's name, for messages. */
  protected abstract readonly engine: string;

  /** Takes the snapshot of the server `ctx.node` names into `sink` (emptied already). */
  protected abstract takeServerSnapshot(ctx: BackupContext<C>, sink: ArtifactSink): Promise<SnapshotTaken>;

  /** Which shard database of the store is on which server. */
  protected abstract shardMap(config: C): ShardMap;

  /** Every dumped table a snapshot's facts list (their chunks are re-read by validation). */
  protected abstract tablesOf(snapshot: SnapshotRef): TableFacts[];

  /** The engine's own checks of a snapshot's facts (none by default). */
  protected engineChecks(_snapshot: SnapshotRef): ValidationCheck[] {
    return [];
  }

  /** Every server of the instance: what the circuit breaker protects. */
  endpoint(config: C): string {
    return config.servers.map((s) => mysqlEndpoint(s)).join(',');
  }

  /**
   * One node per server, named as the config names it (read over the network, from wherever the
   * step runs). Every server is reached first: an unreachable one or a refused login fails the
   * backup before any server is dumped, and so do shard databases a restore into did not finish
   * (shard-restore-marker.ts), every one named — each server's snapshot looks again once its read
   * view is open.
   */
  async listNodes(ctx: { config: C }): Promise<NodeRef[]> {
    const map = this.shardMap(ctx.config);
    const marked = await Promise.all(ctx.config.servers.map((server) => withConnection(server, {
      connecting: `(${this.engine} server ${server.name})`,
      doing: `checking ${this.engine} server ${server.name}`,
    }, (connection) => unfinishedRestoresOn(connection, server.name, map.shards.filter((s) => s.server === server.name).map((s) => s.database)))));
    refuseUnfinishedRestores(this.engine, marked.flat());
    return ctx.config.servers.map((s) => ({ name: s.name }));
  }

  async createSnapshot(ctx: BackupContext<C>): Promise<SnapshotTaken> {
    const sink = artifactSink(ctx, ctx.config.streamToStore);
    await sink.clear();
    return this.takeServerSnapshot(ctx, sink);
  }

  /** A completed snapshot is continued by re-validating it; an interrupted dump's read view died with its connections. */
  resumeVerdict(_config: C, snapshot: SnapshotRef | undefined): ResumeVerdict {
    return snapshot
      ? notReadBackVerdict(snapshot) ?? { resumable: true, reason: 'its snapshot completed: its chunks are re-validated where they are, and only what the store lacks is uploaded' }
      : { resumable: false, reason: "a dump's read view ended with its connections, so the server cannot be read at the same point again: a new snapshot is needed" };
  }

  async validateSnapshot(ctx: BackupContext<C>, snapshot: SnapshotRef): Promise<ValidationReport> {
    const reader = new ArtifactReader(snapshot.spoolDir, ctx.destination?.store);
    const tables = this.tablesOf(snapshot);
    const checks: ValidationCheck[] = [...this.engineChecks(snapshot), await rowsReadBack(tables, snapshot.artifacts, reader)];
    const damaged = await reader.verifyUnread(snapshot.artifacts);
    checks.unshift({ name: 'artifact-sha256', ok: damaged.length === 0, detail: damaged.length ? damaged.join('; ') : `${snapshot.artifacts.length} artifacts` });
    return { ok: checks.every((c) => c.ok), checks };
  }
}
