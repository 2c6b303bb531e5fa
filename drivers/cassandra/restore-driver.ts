/**
 * Restore side of the Cassandra driver, into a running cluster of the backup's topology (the same
 * tokens, node for node), every node at once:
 *
 *     prepare  every node: the rings match; the restored tables are empty (or `force`)
 *     stage    every node: its backed-up node's SSTables downloaded and verified (sha256)
 *     restore  first node: the schema created where missing; with `force`, the restored tables truncated
 *     start    every node: the SSTables placed in the live table directories, `nodetool refresh` per table
 *     validate once: counts and digests over every backed-up node's token ranges
 *
 * Nothing is truncated before every node holds its verified files, and no node loads a file
 * before the truncation is done.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Client } from 'cassandra-driver';
import { downloadArtifacts } from '../../core/driver/download';
import { nodesByHost } from '../../core/driver/node-ref';
import type { NodeRef, PreparedTarget, RestoreContext, RestoreDriver, RestoreResult, StagedFiles, TransferOptions, ValidationReport } from '../../core/driver/types';
import { PermanentError } from '../../core/errors';
import { resolveInside } from '../../core/io/resolve-inside';
import { backedUpNodes, schemaArtifact, type BackedUpNode } from './backed-up-nodes';
import { nodetoolTarget } from './backup-driver';
import { cassandraEndpoint } from './config';
import { refresh } from './nodetool';
import type { TableFacts } from './records';
import { matchTopology, plansOn, restoredTables, type NodePlan } from './restore-plan';
import type { CassandraRestoreTarget } from './restore-target';
import { validateRestoredTables } from './restore-validation';
import { readRing, withCluster } from './ring';
import { createMissingSchema, liveTableIds, type KeyspaceSchema } from './schema-cql';
import { placeSSTables } from './sstable-placement';

type Ctx = RestoreContext<CassandraRestoreTarget>;

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
const tableKey = (t: Pick<TableFacts, 'keyspace' | 'table'>) => `${t.keyspace}.${t.table}`;

/** The restored tables of the target that hold rows. */
async function tablesWithRows(client: Client, tables: readonly TableFacts[]): Promise<string[]> {
  const found: string[] = [];
  for (const table of tables) {
    if (!client.metadata.keyspaces[table.keyspace]) continue;
    const exists = await client.metadata.getTable(table.keyspace, table.table);
    if (!exists) continue;
    const rows = await client.execute(`SELECT * FROM ${quote(table.keyspace)}.${quote(table.table)} LIMIT 1`);
    if (rows.rowLength > 0) found.push(tableKey(table));
  }
  return found;
}

/** The spool directory of a target node's staged files. */
const stagedDir = (ctx: Ctx, plan: NodePlan) => resolveInside(ctx.spoolDir, `node-${plan.target.address.replace(/[^A-Za-z0-9.-]/g, '_')}`);

async function plan(ctx: Ctx, client: Client): Promise<{ nodes: BackedUpNode[]; plans: NodePlan[]; tables: TableFacts[] }> {
  const nodes = backedUpNodes(ctx.backup);
  const plans = matchTopology(ctx.target, readRing(client), nodes);
  return { nodes, plans, tables: restoredTables(ctx.target, nodes) };
}

export class CassandraRestoreDriver implements RestoreDriver<CassandraRestoreTarget> {
  endpoint(target: CassandraRestoreTarget): string {
    return cassandraEndpoint(target);
  }

  /** One node per host the target's nodes name (`host`). */
  targetNodes(target: CassandraRestoreTarget): NodeRef[] {
    return nodesByHost(target.nodes);
  }

  /** No host path is replaced: a forced restore truncates tables over CQL. */
  replacedPaths(): string[] {
    return [];
  }

  /** A forced restore truncates the restored tables of the target cluster. */
  replacedServers(target: CassandraRestoreTarget): string[] {
    return [cassandraEndpoint(target)];
  }

  private isFirst(ctx: Ctx): boolean {
    return this.targetNodes(ctx.target)[0]?.name === ctx.node.name;
  }

  async prepareTarget(ctx: Ctx): Promise<PreparedTarget> {
    return withCluster(ctx.target, async (client) => {
      const { plans, tables } = await plan(ctx, client);
      const withRows = await tablesWithRows(client, tables);
      if (withRows.length > 0 && !ctx.force) {
        throw new PermanentError(`cassandra: the target's tables ${withRows.join(', ')} hold rows; restore with force to truncate them first`, { code: 'TARGET_NOT_EMPTY', engine: 'cassandra' });
      }
      return { details: { nodes: plansOn(ctx.target, plans, ctx.node).map((p) => p.target.address), tables: tables.length, withRows } };
    });
  }

  /** Downloads (sha256 verified) the SSTables of each backed-up node whose tokens a node on this host has, and the schema. */
  async stage(ctx: Ctx, transfer: TransferOptions): Promise<StagedFiles> {
    return withCluster(ctx.target, async (client) => {
      const { nodes, plans, tables } = await plan(ctx, client);
      const wanted = new Set(tables.map(tableKey));
      let bytes = 0;
      for (const p of plansOn(ctx.target, plans, ctx.node)) {
        const artifacts = p.source.artifacts.filter((a) => wanted.has(a.name.split('/').slice(1, 3).join('.')));
        bytes += (await downloadArtifacts(artifacts, stagedDir(ctx, p), { store: transfer.store, rateLimit: transfer.rateLimit, onProgress: transfer.onProgress, concurrency: 4 })).bytes;
      }
      bytes += (await downloadArtifacts([schemaArtifact(nodes)], ctx.spoolDir, { store: transfer.store })).bytes;
      return { bytes };
    });
  }

  /** On the first node: the backup's schema where the target lacks it; with `force`, the restored tables that hold rows truncated. */
  async restore(ctx: Ctx, _prepared: PreparedTarget, _transfer: TransferOptions): Promise<RestoreResult> {
    const started = Date.now();
    if (!this.isFirst(ctx)) return { endpoint: { contactPoints: ctx.target.contactPoints, nativePort: ctx.target.nativePort }, bytes: 0, durationMs: 0 };
    return withCluster(ctx.target, async (client) => {
      const { nodes, tables } = await plan(ctx, client);
      const schema = JSON.parse(await readFile(path.join(ctx.spoolDir, schemaArtifact(nodes).name), 'utf8')) as KeyspaceSchema[];
      const wanted = new Set(tables.map(tableKey));
      const restored = schema.map((ks) => ({ ...ks, tables: ks.tables.filter((t) => wanted.has(tableKey(t))) })).filter((ks) => ks.tables.length > 0);
      const created = await createMissingSchema(client, restored);
      const withRows = ctx.force ? await tablesWithRows(client, tables) : [];
      for (const key of withRows) {
        const [keyspace, table] = key.split('.');
        await client.execute(`TRUNCATE ${quote(keyspace)}.${quote(table)}`);
      }
      ctx.logger.info('cassandra restore: schema and tables ready', { created, truncated: withRows });
      return { endpoint: { contactPoints: ctx.target.contactPoints, nativePort: ctx.target.nativePort }, bytes: 0, durationMs: Date.now() - started };
    });
  }

  /** Every node on this host: its staged SSTables placed under the tables' live ids and loaded (`nodetool refresh`). */
  async start(ctx: Ctx, result: RestoreResult): Promise<RestoreResult> {
    const started = Date.now();
    return withCluster(ctx.target, async (client) => {
      const { plans, tables } = await plan(ctx, client);
      const wanted = new Set(tables.map(tableKey));
      const liveIds = new Map<string, string>();
      for (const keyspace of new Set(tables.map((t) => t.keyspace))) {
        for (const [table, id] of await liveTableIds(client, keyspace)) liveIds.set(`${keyspace}.${table}`, id);
      }
      let bytes = 0;
      for (const p of plansOn(ctx.target, plans, ctx.node)) {
        const dir = stagedDir(ctx, p);
        const staged: Record<string, string> = {};
        for (const artifact of p.source.artifacts) if (wanted.has(artifact.name.split('/').slice(1, 3).join('.'))) { staged[artifact.name] = resolveInside(dir, artifact.name); bytes += artifact.size; }
        const placed = await placeSSTables(staged, p.target, wanted, liveIds);
        for (const key of placed) {
          const [keyspace, table] = key.split('.');
          await refresh(nodetoolTarget(ctx.target, p.target), keyspace, table);
        }
        ctx.logger.info('cassandra restore: SSTables loaded', { node: p.target.address, tables: placed.length });
      }
      return { ...result, bytes: result.bytes + bytes, durationMs: result.durationMs + Date.now() - started };
    });
  }

  async validateRestore(ctx: Ctx): Promise<ValidationReport> {
    return withCluster(ctx.target, async (client) => {
      const { nodes, tables } = await plan(ctx, client);
      const checks = await validateRestoredTables(client, nodes, tables);
      return { ok: checks.every((c) => c.ok), checks };
    });
  }
}
