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
import { PermanentError } from '../../../core/errors';
import { MARKER_TABLE } from '../logical/restore-marker';
import { unfinishedRestores } from './shard-restore-marker';
import type { ShardMap, TargetServer } from './target-shards';

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
   * backup before any server is dumped.
   */
  async listNodes(ctx: { config: C }): Promise<NodeRef[]> {
    await Promise.all(ctx.config.servers.map((server) => withConnection(server, {
      connecting: `(${this.engine} server ${server.name})`,
      doing: `checking ${this.engine} server ${server.name}`,
    }, (connection) => connection.query('SELECT 1'))));
    return ctx.config.servers.map((s) => ({ name: s.name }));
  }

  async createSnapshot(ctx: BackupContext<C>): Promise<SnapshotTaken> {
    await this.refuseUnfinishedRestores(ctx);
    const sink = artifactSink(ctx, ctx.config.streamToStore);
    await sink.clear();
    return this.takeServerSnapshot(ctx, sink);
  }

  /**
   * Refuses a server whose shard databases hold a restore's marker table (shard-restore-marker.ts):
   * a restore into them died part way, so they hold part of a store — a backup of them would be
   * complete, and hold part of one.
   * @throws PermanentError `<ENGINE>_UNFINISHED_RESTORE` naming the databases
   */
  private async refuseUnfinishedRestores(ctx: BackupContext<C>): Promise<void> {
    const map = this.shardMap(ctx.config);
    const server = map.servers.find((s) => s.name === ctx.node.name);
    const databases = map.shards.filter((s) => s.server === ctx.node.name).map((s) => s.database);
    if (!server || databases.length === 0) return;
    const marked = await withConnection(server, { connecting: `(${this.engine} server ${server.name})`, doing: `looking for unfinished restores on ${this.engine} server ${server.name}` },
      (connection) => unfinishedRestores(connection, databases));
    if (marked.length > 0) {
      throw new PermanentError(
        `${marked.join(', ')} on ${this.engine} server ${server.name} ${marked.length === 1 ? 'holds' : 'hold'} table ${MARKER_TABLE}: a restore into ${marked.length === 1 ? 'it' : 'them'} did not finish, so ${marked.length === 1 ? 'it holds' : 'they hold'} part of a store, not all of it; restore again (or drop the table, knowing what the database holds) before backing it up`,
        { code: `${this.engine.toUpperCase()}_UNFINISHED_RESTORE`, engine: this.engine },
      );
    }
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
