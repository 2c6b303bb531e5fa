/**
 * Restore side of the Cassandra driver, into a running cluster, every host at once. With the
 * backup's topology (the same tokens, node for node) each node loads its own backed-up node's
 * SSTables in place; into any other topology each host streams a share of the backed-up nodes
 * with sstableloader (restore-plan.ts):
 *
 *     prepare  every host: the plan; the restored tables the target has hold no rows and, on
 *              this host's nodes, no deletions (target-tables.ts), or the restore is `force`d
 *     stage    every host: the SSTables it loads downloaded and verified (sha256)
 *     restore  first host: the restored keyspaces marked as being restored (restore-marks.ts);
 *              a table the target has of another shape refused; the schema created
 *              where missing (replication fitted to the target's nodes); with `force`, every
 *              restored table the target had truncated
 *     start    every host: refresh — the SSTables placed in the live table directories and
 *              `nodetool refresh`ed per table (4.x: `nodetool import`ed from the spool);
 *              sstableloader — streamed, table by table
 *     validate once: counts and digests over every backed-up node's token ranges; passed, the marks removed
 *
 * Nothing is truncated before every host holds its verified files, and nothing is loaded before
 * the truncation is done.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Client } from 'cassandra-driver';
import { downloadArtifacts } from '../../core/driver/download';
import type { RestoreCleanup, RestoreProgress } from '../../core/driver/restore-cleanup';
import { beginWritingTarget, doneWritingTarget, targetWritesAfterFailure } from '../../core/driver/target-writes';
import type { JsonObject, NodeRef, PreparedTarget, RestoreContext, RestoreDriver, RestoreResult, StagedFiles, StoredArtifact, TransferOptions, ValidationCheck, ValidationReport } from '../../core/driver/types';
import { resolveInside } from '../../core/io/resolve-inside';
import { backedUpNodes, schemaArtifact, type BackedUpNode } from './backed-up-nodes';
import { cassandraEndpoint, nodeName } from './config';
import { cassandraHome, distributionRelease } from './distribution';
import { linkTableDirs } from './table-load-dirs';
import { importSSTables, nodetoolTarget, refresh } from './nodetool';
import { qualifiedName } from './cql-text';
import type { TableFacts } from './records';
import { fitReplication } from './replication-fit';
import { assertToolsFit, planRestore, plansOn, restoreHosts, restoredTables, shareOf, type NodePlan, type RestorePlan } from './restore-plan';
import type { CassandraRestoreTarget } from './restore-target';
import { validateRestoredTables } from './restore-validation';
import { majorVersion, nodesPerDataCenter, readRing, type RingNode, withCluster } from './ring';
import { assertSameShapes, createMissingSchema, liveTableIds, type KeyspaceSchema } from './schema-cql';
import { describeMark, markRestore, MARKS_TABLE, unmarkProvenRestore } from './restore-marks';
import { loadSSTables } from './sstable-loader';
import { placeSSTables, restoredArtifacts } from './sstable-placement';
import { cassandraScratch } from './scratch';
import { assertTablesEmpty, existingTables, tableKey } from './target-tables';

type Ctx = RestoreContext<CassandraRestoreTarget>;

/** The spool directory of a target node's staged files (refresh). */
const stagedDir = (ctx: Ctx, plan: NodePlan) => resolveInside(ctx.spoolDir, nodeName(plan.target.address));
/** The spool directory of a backed-up node's staged files (sstableloader). */
const sourceDir = (ctx: Ctx, source: BackedUpNode) => resolveInside(ctx.spoolDir, `from-${nodeName(source.consistency.address)}`);

/** What a step needs: the backup's nodes, the target's ring, the plan, the restored tables (and their `ks.table` keys). */
async function plan(ctx: Ctx, client: Client): Promise<{ nodes: BackedUpNode[]; ring: RingNode[]; restore: RestorePlan; tables: TableFacts[]; wanted: Set<string> }> {
  const nodes = backedUpNodes(ctx.backup);
  const ring = readRing(client);
  const tables = restoredTables(ctx.target, nodes);
  return { nodes, ring, restore: planRestore(ctx.target, ring, nodes), tables, wanted: new Set(tables.map(tableKey)) };
}

/** Each staged file of `artifacts` (of `wanted` tables) under `dir`, by artifact name; and their bytes. */
function stagedFiles(dir: string, artifacts: readonly StoredArtifact[], wanted: ReadonlySet<string>): { files: Record<string, string>; bytes: number } {
  const files: Record<string, string> = {};
  let bytes = 0;
  for (const artifact of restoredArtifacts(artifacts, wanted)) {
    files[artifact.name] = resolveInside(dir, artifact.name);
    bytes += artifact.size;
  }
  return { files, bytes };
}

/** sstableloader gets this long per table: 10 min, and 1 min more per 64 MiB. */
const loaderTimeoutMs = (bytes: number) => 600_000 + Math.ceil(bytes / (64 * 1024 * 1024)) * 60_000;

export class CassandraRestoreDriver implements RestoreDriver<CassandraRestoreTarget> {
  /** The empty target on this host a restore drill restores into. */
  readonly scratch = cassandraScratch;

  endpoint(target: CassandraRestoreTarget): string {
    return cassandraEndpoint(target);
  }

  /** One node per host the target's nodes name (`host`); at most MAX_RESTORE_NODES of them when the restore may stream (restore-plan.ts). */
  targetNodes(target: CassandraRestoreTarget): NodeRef[] {
    return restoreHosts(target);
  }

  /** No host path is replaced: a forced restore truncates tables over CQL. */
  replacedPaths(): string[] {
    return [];
  }

  /** A forced restore truncates the restored tables of the target cluster: each of its contact points, as `host:port`, must be allowed. */
  replacedServers(target: CassandraRestoreTarget): string[] {
    return target.contactPoints.map((host) => `${host}:${target.nativePort}`);
  }

  private isFirst(ctx: Ctx): boolean {
    return this.targetNodes(ctx.target)[0]?.name === ctx.node.name;
  }

  async prepareTarget(ctx: Ctx): Promise<PreparedTarget> {
    return withCluster(ctx.target, async (client) => {
      const { restore, tables } = await plan(ctx, client);
      assertToolsFit(restore, distributionRelease(ctx.target.cassandraHome ?? cassandraHome()));
      const existing = await existingTables(client, tables);
      if (!ctx.force) await assertTablesEmpty(ctx.target, ctx.node, client, existing);
      const here: JsonObject = restore.method === 'refresh'
        ? { nodes: plansOn(ctx.target, restore.plans, ctx.node).map((p) => p.target.address) }
        : { streams: shareOf(restore.shares, ctx.node).map((n) => n.consistency.address) };
      return { details: { method: restore.method, ...here, tables: tables.length, existing: existing.map(tableKey) } };
    });
  }

  /**
   * Downloads (sha256 verified) the restored tables' SSTables this host loads — of each backed-up
   * node whose tokens a node here has (refresh), or of its share of the backed-up nodes
   * (sstableloader) — and the schema.
   */
  async stage(ctx: Ctx, transfer: TransferOptions): Promise<StagedFiles> {
    return withCluster(ctx.target, async (client) => {
      const { nodes, restore, wanted } = await plan(ctx, client);
      const downloads = restore.method === 'refresh'
        ? plansOn(ctx.target, restore.plans, ctx.node).map((p) => ({ source: p.source, dir: stagedDir(ctx, p) }))
        : shareOf(restore.shares, ctx.node).map((source) => ({ source, dir: sourceDir(ctx, source) }));
      let bytes = 0;
      for (const { source, dir } of downloads) {
        const artifacts = restoredArtifacts(source.artifacts, wanted);
        bytes += (await downloadArtifacts(artifacts, dir, { ...transfer, concurrency: 4 })).bytes;
      }
      bytes += (await downloadArtifacts([schemaArtifact(nodes)], ctx.spoolDir, { store: transfer.store, openKey: transfer.openKey })).bytes;
      return { bytes };
    });
  }

  /**
   * On the first node: the backup's schema where the target lacks it; with `force`, every restored
   * table the target had truncated, whatever a read of it returns (a table whose rows were all
   * deleted reads as empty, and its tombstones would hide the loaded rows).
   */
  async restore(ctx: Ctx, _prepared: PreparedTarget, _transfer: TransferOptions): Promise<RestoreResult> {
    const started = Date.now();
    if (!this.isFirst(ctx)) return { endpoint: { contactPoints: ctx.target.contactPoints, nativePort: ctx.target.nativePort }, bytes: 0, durationMs: 0 };
    return withCluster(ctx.target, async (client) => {
      const { nodes, ring, tables, wanted } = await plan(ctx, client);
      const schema = JSON.parse(await readFile(path.join(ctx.spoolDir, schemaArtifact(nodes).name), 'utf8')) as KeyspaceSchema[];
      const perDataCenter = nodesPerDataCenter(ring);
      const lowered: string[] = [];
      // Every keyspace the target lacks fitted first (a refusal comes before anything is created or truncated).
      const restored = schema.map((ks) => {
        const tablesOf = ks.tables.filter((t) => wanted.has(tableKey(t)));
        if (tablesOf.length === 0 || client.metadata.keyspaces[ks.keyspace]) return { ...ks, tables: tablesOf };
        const fitted = fitReplication(ks.cql, perDataCenter);
        if (fitted.lowered.length > 0) lowered.push(`${ks.keyspace}: ${fitted.lowered.join(', ')}`);
        return { ...ks, cql: fitted.cql, tables: tablesOf };
      }).filter((ks) => ks.tables.length > 0);
      await assertSameShapes(client, restored);
      // Read before the schema is created: a table created now holds nothing to truncate.
      const truncated = ctx.force ? await existingTables(client, tables) : [];
      // Marked before the spool notes the writing began: marking writes nothing the report calls the target.
      await markRestore(client, ring, { restoreId: ctx.restoreId, backupId: ctx.backup.backupId }, tablesByKeyspace(tables));
      await beginWritingTarget(ctx);
      const created = await createMissingSchema(client, restored);
      for (const table of truncated) await client.execute(`TRUNCATE ${qualifiedName(table.keyspace, table.table)}`);
      ctx.logger.info('cassandra restore: schema and tables ready', { created, truncated: truncated.map(tableKey), replicationLowered: lowered });
      return { endpoint: { contactPoints: ctx.target.contactPoints, nativePort: ctx.target.nativePort }, bytes: 0, durationMs: Date.now() - started };
    });
  }

  /**
   * refresh: every node on this host gets its staged SSTables placed under the tables' live ids and
   * loaded (`nodetool refresh`). sstableloader: this host's share streamed into the cluster, table by table.
   */
  async start(ctx: Ctx, result: RestoreResult): Promise<RestoreResult> {
    return withCluster(ctx.target, async (client) => {
      const { restore, tables, wanted } = await plan(ctx, client);
      await beginWritingTarget(ctx);
      if (restore.method === 'refresh') await this.refreshNodes(ctx, client, restore, tables, wanted);
      else await this.streamShare(ctx, shareOf(restore.shares, ctx.node), restore.releaseVersion, wanted, ctx.rateLimit);
      await doneWritingTarget(ctx);
      // The bytes are the stage's download (counted there); the framework adds this step's time.
      return result;
    });
  }

  private async refreshNodes(ctx: Ctx, client: Client, restore: Extract<RestorePlan, { method: 'refresh' }>, tables: readonly TableFacts[], wanted: ReadonlySet<string>): Promise<void> {
    if (majorVersion(restore.releaseVersion) >= 4) return this.importNodes(ctx, restore.plans, wanted);
    const liveIds = new Map<string, string>();
    for (const keyspace of new Set(tables.map((t) => t.keyspace))) {
      for (const [table, id] of await liveTableIds(client, keyspace)) liveIds.set(`${keyspace}.${table}`, id);
    }
    for (const p of plansOn(ctx.target, restore.plans, ctx.node)) {
      const staged = stagedFiles(stagedDir(ctx, p), p.source.artifacts, wanted);
      const placed = await placeSSTables(staged.files, p.target, wanted, liveIds);
      for (const key of placed) {
        const [keyspace, table] = key.split('.');
        await refresh(nodetoolTarget(ctx.target, p.target), keyspace, table);
      }
      ctx.logger.info('cassandra restore: SSTables loaded', { node: p.target.address, tables: placed.length, bytes: staged.bytes });
    }
  }

  /** 4.x: each node on this host imports its staged SSTables, one `<ks>/<table>/` directory per table (`nodetool import --copy-data`). */
  private async importNodes(ctx: Ctx, plans: readonly NodePlan[], wanted: ReadonlySet<string>): Promise<void> {
    for (const p of plansOn(ctx.target, plans, ctx.node)) {
      const staged = stagedFiles(stagedDir(ctx, p), p.source.artifacts, wanted);
      const root = resolveInside(ctx.spoolDir, `import-${nodeName(p.target.address)}`);
      for (const dir of await linkTableDirs(root, [staged.files], wanted)) {
        const [keyspace, table] = path.relative(root, dir).split(path.sep);
        await importSSTables(nodetoolTarget(ctx.target, p.target), keyspace, table, dir);
      }
      ctx.logger.info('cassandra restore: SSTables imported', { node: p.target.address, bytes: staged.bytes });
    }
  }

  /** Streams this host's share, table by table, at most at the node's rate limit (bytes per second) when it has one. */
  private async streamShare(ctx: Ctx, sources: readonly BackedUpNode[], releaseVersion: string, wanted: ReadonlySet<string>, rateLimit: number | undefined): Promise<void> {
    const staged = sources.map((source) => stagedFiles(sourceDir(ctx, source), source.artifacts, wanted));
    const bytes = staged.reduce((sum, s) => sum + s.bytes, 0);
    const dirs = await linkTableDirs(resolveInside(ctx.spoolDir, 'load'), staged.map((s) => s.files), wanted);
    const { target } = ctx;
    const loader = {
      home: target.cassandraHome ?? cassandraHome(), contactPoints: target.contactPoints, releaseVersion,
      nativePort: target.nativePort, thriftPort: target.thriftPort, storagePort: target.storagePort, username: target.username, password: target.password,
      ...(rateLimit ? { rateLimit } : {}),
    };
    for (const dir of dirs) {
      await loadSSTables(loader, dir, { timeoutMs: loaderTimeoutMs(bytes), signal: ctx.signal });
      ctx.logger.info('cassandra restore: SSTables streamed', { table: path.relative(resolveInside(ctx.spoolDir, 'load'), dir), from: sources.map((s) => s.consistency.address) });
    }
  }

  /**
   * After a failed restore, from this host: untouched before the first host created or truncated
   * anything and before this host loaded anything; restored once this host's load finished; part
   * of the backup in between (the restore's schema, truncated tables, part of the SSTables).
   */
  cleanup(ctx: Ctx, progress: RestoreProgress): Promise<RestoreCleanup> {
    const tables = `the restored tables of ${ctx.target.contactPoints.join(', ')}`;
    return targetWritesAfterFailure(ctx, progress, {
      restored: `${tables} hold what this host loaded of backup ${ctx.backup.backupId}; the failure came after`,
      partial: `${tables} may hold part of backup ${ctx.backup.backupId} (its schema created, forced tables truncated, part of the SSTables loaded; their keyspaces keep this restore's mark in ${MARKS_TABLE}, so a backup of them is refused): restore it again with force`,
      untouched: `${tables} were not written to from this host`,
    });
  }

  async validateRestore(ctx: Ctx): Promise<ValidationReport> {
    return withCluster(ctx.target, async (client) => {
      const { nodes, tables } = await plan(ctx, client);
      const checks = await validateRestoredTables(client, nodes, tables);
      return { ok: checks.every((c) => c.ok), checks };
    });
  }

  /**
   * Once the restore is proven, its marks go (restore-marks.ts), and those of earlier restores
   * that wrote only tables it replaced; unproven, they stay, and a backup of the keyspaces is refused.
   */
  async afterValidation(ctx: Ctx, _result: RestoreResult, report: ValidationReport): Promise<ValidationCheck[]> {
    const restored = tablesByKeyspace(restoredTables(ctx.target, backedUpNodes(ctx.backup)));
    if (!report.ok) {
      return [{ name: 'restore-mark', ok: false, detail: `kept on keyspace ${[...restored.keys()].join(', ')} (${MARKS_TABLE}): a backup of it is refused until a restore into it is proven` }];
    }
    return withCluster(ctx.target, async (client) => {
      const left = await unmarkProvenRestore(client, ctx.restoreId, restored);
      return left.length === 0 ? [] : [{ name: 'restore-mark', ok: true, detail: `this restore's mark removed; marks of earlier restores that wrote other tables kept (${left.map(describeMark).join('; ')})` }];
    });
  }
}

/** The names of `tables` by keyspace. */
function tablesByKeyspace(tables: readonly TableFacts[]): Map<string, string[]> {
  const byKeyspace = new Map<string, string[]>();
  for (const t of tables) byKeyspace.set(t.keyspace, [...(byKeyspace.get(t.keyspace) ?? []), t.table]);
  return byKeyspace;
}
