/**
 * Backup side of the Cassandra driver. One node of the backup per node of the ring, each on its
 * host (SSM in AWS):
 *
 *  0. a keyspace holding the mark of a restore into it that is not proven refused (restore-marks.ts),
 *     here and again once the snapshot is taken;
 *  1. count and digest the node's primary token spans of every table (CQL: memtables and SSTables);
 *  2. `nodetool snapshot -t <backup id>` (the same tag on every node), which flushes the tables
 *     first (2.1 to 4.x, unless told `--skip-flush`): a `nodetool flush` before it would cost a
 *     JVM start and change nothing;
 *  3. count and digest again, while step 4 runs: equal, and the snapshot holds exactly those rows (`stable`);
 *  4. every SSTable component of the snapshot, in every data directory, into the instance's
 *     content-addressed pool, four at a time (one at a time under a rate limit, which is per
 *     upload): an SSTable already there from an earlier backup is not sent again; components
 *     Cassandra rewrites in place are copied before they are hashed;
 *  5. cleanup (success or failure, every node): `nodetool clearsnapshot -t <backup id>`.
 *
 * The manifest (core) lists each node's components by pool key, with the token map and digests.
 */
import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { Client } from 'cassandra-driver';
import type { KeyspaceMetadata } from './schema-text';
import { both } from '../../core/concurrency';
import { spoolSink } from '../../core/driver/artifact-sink';
import { SpoolBackupDriver } from '../../core/driver/spool-backup-driver';
import type { ArtifactRef, BackupContext, NodeRef, SnapshotRef, SnapshotTaken, ValidationCheck, ValidationReport } from '../../core/driver/types';
import { PermanentError } from '../../core/errors';
import { cassandraEndpoint, type CassandraConfig } from './config';
import { digestedSpans, digestTableSpans, primarySpans } from './node-digest';
import { clearSnapshot, nodetoolTarget, snapshot, type NodetoolTarget } from './nodetool';
import { poolSnapshotFiles } from './pool-files';
import { cassandraFactsSchema, cassandraRecord, type TableDigest, type TableFacts } from './records';
import { nodeOfName, planNodes, readRing, withCluster } from './ring';
import { readSchema, tableDirName, type TableSchema } from './schema-cql';
import { refuseUnfinishedRestores } from './restore-marks';
import { sstablesIncomplete, verifyStoredArtifacts } from './snapshot-checks';
import { assertSnapshotHoldsRows, assertSSTablesComplete, listSnapshotFiles } from './snapshot-files';
import type { TokenSpan } from './table-digest';


/** The artifact holding the schema: each keyspace and table with its CQL and id (schema-cql.ts `KeyspaceSchema`). */
export const SCHEMA_ARTIFACT = 'schema.json';

/**
 * The artifacts a Cassandra node's record names (the plugin's `recordSchemas.artifactsNamed`): its
 * schema artifact, by the name its facts record (the restore reads it by that name:
 * backed-up-nodes.ts). Its SSTables' components are named by generations the facts do not record
 * (only each table's count of SSTables and bytes), so none of them is named. None for facts that
 * do not parse (checking the record says why).
 */
export function artifactsNamedBy(record: { facts: unknown }): string[] {
  const parsed = cassandraFactsSchema.safeParse(record.facts);
  return parsed.success ? [parsed.data.schemaArtifact] : [];
}

/** Bytes of the live SSTables of `table` in `dataDirs` (what decides between a full digest and a sample). */
async function liveBytes(dataDirs: readonly string[], table: TableSchema): Promise<number> {
  let bytes = 0;
  for (const dataDir of dataDirs) {
    const dir = path.join(dataDir, table.keyspace, tableDirName(table));
    const files = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const file of files) if (file.isFile() && file.name.endsWith('Data.db')) bytes += (await stat(path.join(dir, file.name))).size;
  }
  return bytes;
}

type Digests = Map<string, { rows: number; sha256: string; spans: number; expiring?: true }>;

/** Each table's digest; with `findExpiring`, whether its rows read hold cells that will expire. */
async function digestTables(client: Client, tables: readonly TableSchema[], spans: readonly TokenSpan[], modes: Map<string, TableDigest['mode']>, options: { signal?: AbortSignal; findExpiring?: boolean } = {}): Promise<Digests> {
  const digests: Digests = new Map();
  for (const table of tables) {
    options.signal?.throwIfAborted();
    const key = `${table.keyspace}.${table.table}`;
    const read = digestedSpans(spans, table, modes.get(key)!);
    digests.set(key, { ...await digestTableSpans(client, table, read, { findExpiring: options.findExpiring, signal: options.signal }), spans: read.length });
  }
  return digests;
}

/** Takes snapshot `tag` of `keyspaces`; one an earlier attempt of this backup left is taken again. */
async function takeSnapshot(target: NodetoolTarget, tag: string, keyspaces: readonly string[]): Promise<void> {
  try {
    await snapshot(target, tag, keyspaces);
  } catch (error) {
    if ((error as PermanentError).code !== 'CASSANDRA_SNAPSHOT_EXISTS') throw error;
    await clearSnapshot(target, tag);
    await snapshot(target, tag, keyspaces);
  }
}

export class CassandraBackupDriver extends SpoolBackupDriver<CassandraConfig> {
  endpoint(config: CassandraConfig): string {
    return cassandraEndpoint(config);
  }

  /** Every node of the ring, each on its host; refused when the config and the ring disagree or a node is down. */
  async listNodes(ctx: Omit<BackupContext<CassandraConfig>, 'node' | 'spoolDir'>): Promise<NodeRef[]> {
    const planned = await withCluster(ctx.config, async (client) => planNodes(ctx.config, readRing(client)));
    ctx.logger.info('cassandra backup: ring', { nodes: planned.map((n) => ({ address: n.address, dataCenter: n.dataCenter, rack: n.rack, tokens: n.tokens.length })) });
    return planned.map((n) => ({ name: n.name, ...(n.config.host ? { host: n.config.host } : {}) }));
  }

  configHosts(config: CassandraConfig): string[] {
    return config.nodes.flatMap((n) => (n.host ? [n.host] : []));
  }

  async createSnapshot(ctx: BackupContext<CassandraConfig>): Promise<SnapshotTaken> {
    const pool = ctx.pool;
    if (!pool) throw new PermanentError('a cassandra backup uploads its SSTables into the store\'s pool, and this step was given no store', { code: 'STORE_REQUIRED', engine: 'cassandra' });
    const node = nodeOfName(ctx.config, ctx.node.name);
    const target = nodetoolTarget(ctx.config, node);
    const tag = ctx.backupId;
    return withCluster(ctx.config, async (client) => {
      const ring = readRing(client);
      const me = ring.find((n) => n.address === node.address);
      if (!me) throw new PermanentError(`cassandra: ${node.address} is no longer in the ring`, { code: 'CASSANDRA_RING_MISMATCH', engine: 'cassandra' });
      const schema = await readSchema(client, ctx.config.keyspaces);
      const keyspaces = schema.map((k) => k.keyspace);
      const tables = schema.flatMap((k) => k.tables);
      const spans = primarySpans(ring.flatMap((n) => n.tokens), me.tokens);

      const modes = new Map<string, TableDigest['mode']>();
      for (const table of tables) modes.set(`${table.keyspace}.${table.table}`, await liveBytes(node.dataDirs, table) <= ctx.config.fullDigestMaxBytes ? 'full' : 'sample');
      await refuseUnfinishedRestores(client, keyspaces);
      const before = await digestTables(client, tables, spans, modes, { findExpiring: true });
      await takeSnapshot(target, tag, keyspaces);
      await refuseUnfinishedRestores(client, keyspaces); // a restore that began while the snapshot was taken
      ctx.logger.info('cassandra backup: snapshot taken', { node: node.address, tag, keyspaces, tables: tables.length });

      const files = await listSnapshotFiles(node.dataDirs, tables.map((t) => ({ keyspace: t.keyspace, table: t.table, dirName: tableDirName(t) })), tag);
      // Only where the keyspace keeps replicas in this node's data center: elsewhere its rows are counted over the node's spans but stored on other nodes.
      const servedHere = tables.filter((t) => replicatesIn(client, t.keyspace, me.dataCenter)).map((t) => `${t.keyspace}.${t.table}`);
      assertSnapshotHoldsRows(files, new Map(servedHere.map((table) => [table, before.get(table)!.rows])), { node: node.address, dataDirs: node.dataDirs, tag });
      const sstables = await assertSSTablesComplete(files);
      const components = files.filter((f) => f.sstable !== undefined);
      // The second digest (CQL: the node's work) runs while the files are pooled (ours).
      let poolMs = 0;
      const [after, pooled] = await both(
        (signal) => digestTables(client, tables, spans, modes, { signal }),
        async (signal) => {
          const started = Date.now();
          const done = await poolSnapshotFiles(pool, components, { spoolDir: ctx.spoolDir, logger: ctx.logger, signal });
          poolMs = Date.now() - started;
          return done;
        },
        ctx.signal,
      );
      const artifacts: ArtifactRef[] = pooled.map((p) => p.artifact);
      const uploadedBytes = pooled.reduce((sum, p) => sum + p.sentBytes, 0);
      const script = `${JSON.stringify(schema, null, 1)}\n`;
      artifacts.push(await spoolSink(ctx.spoolDir).write(SCHEMA_ARTIFACT, Readable.from([script])));

      const tableFacts = tables.map((table): TableFacts => {
        const key = `${table.keyspace}.${table.table}`;
        const own = files.filter((f) => f.keyspace === table.keyspace && f.table === table.table && f.sstable !== undefined);
        const b = before.get(key)!;
        const a = after.get(key)!;
        return {
          keyspace: table.keyspace, table: table.table, id: table.id, counter: table.counter, partitionKeys: table.partitionKeys,
          sstables: new Set(own.map((f) => f.sstable)).size, bytes: own.reduce((sum, f) => sum + f.size, 0),
          digest: { mode: modes.get(key)!, spans: a.spans, rows: a.rows, sha256: a.sha256, stable: a.rows === b.rows && a.sha256 === b.sha256, ...(b.expiring ? { expiring: true } : {}), mapKeys: 'exact', decimals: 'exact' },
        };
      });
      const bytes = components.reduce((sum, f) => sum + f.size, 0);
      ctx.logger.info('cassandra backup: SSTables pooled', { node: node.address, sstables, bytes, uploadedBytes, poolMs });
      return {
        artifacts,
        pooledSentBytes: uploadedBytes,
        consistency: {
          tag, address: me.address, hostId: me.hostId, dataCenter: me.dataCenter, rack: me.rack,
          releaseVersion: me.releaseVersion, tokens: me.tokens, dataDirs: node.dataDirs,
        },
        facts: {
          schemaArtifact: SCHEMA_ARTIFACT, schemaSha256: createHash('sha256').update(script).digest('hex'), keyspaces,
          tables: tableFacts, sstables, bytes, uploadedBytes, poolMs,
        },
      };
    });
  }

  /**
   * Every SSTable has each component its TOC lists; every pooled component is in the store with
   * its recorded size and sha256 (as the store recorded it, else re-hashed); the schema artifact
   * re-hashed where it is.
   */
  async validateSnapshot(ctx: BackupContext<CassandraConfig>, snap: SnapshotRef): Promise<ValidationReport> {
    const { facts } = cassandraRecord(snap);
    const checks: ValidationCheck[] = [];
    const problems = await verifyStoredArtifacts(ctx, snap);
    checks.push({ name: 'artifact-sha256', ok: problems.length === 0, detail: problems.length ? problems.join('; ') : `${snap.artifacts.length} artifacts, ${facts.bytes} SSTable bytes` });
    const incomplete = await sstablesIncomplete(ctx, snap);
    checks.push({ name: 'sstables-complete', ok: incomplete.length === 0, detail: incomplete.length ? incomplete.join('; ') : `${facts.sstables} SSTables, each with every component its TOC lists` });
    const unstable = facts.tables.filter((t) => !t.digest.stable).map((t) => `${t.keyspace}.${t.table}`);
    checks.push({
      name: 'digests-recorded', ok: true,
      detail: unstable.length ? `written while the snapshot was taken (no digest to compare on restore): ${unstable.join(', ')}` : `${facts.tables.length} tables counted and digested before and after the snapshot, equal`,
    });
    return { ok: checks.every((c) => c.ok), checks };
  }

  /** Clears the snapshot tag on the node (whatever the backup got to); the spool goes with SpoolBackupDriver's cleanup. */
  override async cleanup(ctx: BackupContext<CassandraConfig>, snap: Pick<SnapshotRef, 'spoolDir' | 'consistency'>): Promise<void> {
    const node = nodeOfName(ctx.config, ctx.node.name);
    await clearSnapshot(nodetoolTarget(ctx.config, node), ctx.backupId);
    await super.cleanup(ctx, snap);
  }
}

/** Whether `keyspace` keeps replicas in data center `dataCenter`: NetworkTopologyStrategy names its data centers; the other strategies replicate everywhere. */
function replicatesIn(client: Client, keyspace: string, dataCenter: string): boolean {
  const meta = (client.metadata.keyspaces as Record<string, KeyspaceMetadata | undefined>)[keyspace];
  if (!meta || !meta.strategy.includes('NetworkTopologyStrategy')) return true;
  return Number(meta.strategyOptions?.[dataCenter] ?? 0) > 0;
}
