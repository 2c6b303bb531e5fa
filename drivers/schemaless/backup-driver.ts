/**
 * Backup side of the Schemaless driver: one node per MySQL server of the instance, each server's
 * shards read from one read view and dumped (server-snapshot.ts); full, or incremental from the
 * instance's previous backup. Upload and cleanup are the shared spool ones.
 */
import { ArtifactReader, artifactSink } from '../../core/driver/artifact-sink';
import { SpoolBackupDriver } from '../../core/driver/spool-backup-driver';
import type { BackupContext, NodeRef, ResumeVerdict, SnapshotRef, SnapshotTaken, ValidationCheck, ValidationReport } from '../../core/driver/types';
import { checkTableChunks } from '../mysql/logical/chunk-digest';
import { mysqlEndpoint } from '../mysql/shared/connection-config';
import { withConnection } from '../mysql/shared/connection';
import type { SchemalessConfig } from './config';
import { recordedFacts } from './records';
import { takeServerSnapshot } from './server-snapshot';

const failures = (items: string[], max = 10): string => `${items.slice(0, max).join('; ')}${items.length > max ? `; … ${items.length - max} more` : ''}`;

export class SchemalessBackupDriver extends SpoolBackupDriver<SchemalessConfig> {
  /** Every server of the instance: what the circuit breaker protects. */
  endpoint(config: SchemalessConfig): string {
    return config.servers.map((s) => mysqlEndpoint(s)).join(',');
  }

  /**
   * One node per server, named as the config names it (its shards are read over the network, from
   * wherever the step runs). Every server is reached first: a backup needs all of its shards, so
   * an unreachable server or a refused login fails the backup before any server is dumped.
   */
  async listNodes(ctx: { config: SchemalessConfig }): Promise<NodeRef[]> {
    await Promise.all(ctx.config.servers.map((server) => withConnection(server, {
      connecting: `(Schemaless server ${server.name})`,
      doing: `checking Schemaless server ${server.name}`,
    }, (connection) => connection.query('SELECT 1'))));
    return ctx.config.servers.map((s) => ({ name: s.name }));
  }

  async createSnapshot(ctx: BackupContext<SchemalessConfig>): Promise<SnapshotTaken> {
    const sink = artifactSink(ctx, ctx.config.streamToStore);
    await sink.clear();
    return takeServerSnapshot(ctx, sink);
  }

  /** A completed snapshot is continued by re-validating it; an interrupted dump's read view died with its connections. */
  resumeVerdict(_config: SchemalessConfig, snapshot: SnapshotRef | undefined): ResumeVerdict {
    return snapshot
      ? { resumable: true, reason: 'its snapshot completed: its chunks are re-validated where they are, and only what the store lacks is uploaded' }
      : { resumable: false, reason: "a dump's read view ended with its connections, so the shards cannot be read at the same point again: a new snapshot is needed" };
  }

  /**
   * Reads every chunk back where it was written (sha256 checked on the way) and recomputes each
   * table's rows and digest; checks each shard's cell table holds the cells its read view counted.
   */
  async validateSnapshot(ctx: BackupContext<SchemalessConfig>, snapshot: SnapshotRef): Promise<ValidationReport> {
    const facts = recordedFacts(snapshot);
    const reader = new ArtifactReader(snapshot.spoolDir, ctx.destination?.store);
    const tables = facts.shards.flatMap((s) => s.tables);
    const { wrongRows, wrongDigests } = await checkTableChunks(tables, snapshot.artifacts, reader, Math.max(2, ctx.config.parallelism));
    const wrongCells = facts.shards.flatMap((s) => {
      const cells = s.tables.find((t) => t.role === 'cells');
      const expected = s.newCells + s.lateCells;
      return cells?.rows === expected ? [] : [`shard ${s.shard}: ${cells?.rows ?? 'no'} cells dumped, ${expected} expected`];
    });
    const checks: ValidationCheck[] = [
      { name: 'cells-dumped', ok: wrongCells.length === 0, detail: wrongCells.length ? failures(wrongCells) : `${facts.shards.length} shards, ${facts.shards.reduce((n, s) => n + s.newCells + s.lateCells, 0)} cells` },
      { name: 'row-counts', ok: wrongRows.length === 0, detail: wrongRows.length ? failures(wrongRows) : `${tables.length} tables` },
      { name: 'table-digests', ok: wrongDigests.length === 0, detail: wrongDigests.length ? failures(wrongDigests) : `${tables.length} digests match` },
    ];
    const damaged = await reader.verifyUnread(snapshot.artifacts);
    checks.unshift({ name: 'artifact-sha256', ok: damaged.length === 0, detail: damaged.length ? damaged.join('; ') : `${snapshot.artifacts.length} artifacts` });
    return { ok: checks.every((c) => c.ok), checks };
  }
}
