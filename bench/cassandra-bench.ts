/**
 * Cassandra benchmark, side by side with the tools users pick instead, on the same data in one run
 * (ratios, not absolute times), against a real one-node Cassandra 2.1 started here:
 *
 * - per-node upload throughput: every SSTable component of a snapshot pooled into a fresh pool in a
 *   local store as the backup pools them (poolSnapshotFiles: hashed, fsynced), alone as tar runs,
 *   vs `tar c <snapshot dirs> | zstd -T0 -3 > file` on the same snapshot — goal ≥ 1.0; inside the
 *   workflow (the node's `poolMs`, the second CQL digest beside it) reported too; and the whole: our backup workflow (digests before and
 *   after, snapshot, pool, validate, manifest, clearsnapshot) vs `nodetool snapshot` + that tar +
 *   `nodetool clearsnapshot`, and vs the same with `restic backup` of the snapshot directories
 *   into a local repository (Debian's restic: deduplicating, encrypted).
 *   Autocompaction is off while the bench runs, so that every tool reads the same SSTables;
 * - differential: a second backup after 1 % new writes uploads ≤ 5 % of the first's bytes (goal),
 *   vs a full tar of the snapshot (what tar sends every time) and restic's second run (what it added);
 * - restore, from start to validated: into a node of the same token (in place, `nodetool refresh`)
 *   and into a node of other tokens (vnodes: streamed by sstableloader), in MB/s of SSTables.
 *
 * Size: BENCH_CASSANDRA_MB (default 400) of rows (about half of it on disk: LZ4); the backup
 * comparison runs BENCH_CASSANDRA_ROUNDS (default 3) alternating rounds, the best of each counting,
 * ours into a fresh instance each round. Results go to bench/results/cassandra.json;
 * BENCH_LOG=info (or debug) writes the steps' log lines to stderr.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Client } from 'cassandra-driver';
import { createRuntime } from '../core/config/runtime';
import { letHeapGrowWithStreams } from '../core/io/heap-growth';
import { ensureDebianPackages } from '../core/host/debian-packages';
import { onFreePorts } from '../core/host/ports';
import { poolPrefix } from '../core/catalog/layout';
import { consoleLogger, silentLogger } from '../core/logger';
import { LocalDirectoryStore } from '../core/store/local-directory-store';
import { builtinPlugins } from '../drivers';
import { cqlClient } from '../drivers/cassandra/cql-client';
import { ensureCassandraDistribution } from '../drivers/cassandra/distribution';
import { CASSANDRA_JAVA_PACKAGE } from '../drivers/cassandra/host-requirements';
import { clusterDescription, clusterPortCount, restoreTargetOf, startLocalCassandraCluster, type LocalCassandraCluster } from '../drivers/cassandra/local-cluster';
import { clearSnapshot, flush, nodetool, snapshot } from '../drivers/cassandra/nodetool';
import { poolSnapshotFiles } from '../drivers/cassandra/pool-files';
import { listSnapshotFiles } from '../drivers/cassandra/snapshot-files';
import { localWorkflows } from '../statemachines/local/local-workflows';
import type { Bench, BenchRow } from './run';
import { sh, timed } from './timing';

const MB = 1e6;
const REPO_ROOT = path.resolve(__dirname, '..');
const RESULTS_FILE = path.join(REPO_ROOT, 'bench', 'results', 'cassandra.json');
const KEYSPACE = 'bench';
/** Bytes of payload per row: half random (incompressible), half repeated text. */
const ROW_BYTES = 4096;
const CONCURRENCY = 64;

/** Writes rows `from` … `from + count - 1` of `bench.rows`. */
async function writeRows(client: Client, from: number, count: number): Promise<void> {
  const query = `INSERT INTO ${KEYSPACE}.rows (id, kind, payload) VALUES (?, ?, ?)`;
  let next = from;
  const worker = async () => {
    for (let id = next++; id < from + count; id = next++) {
      const payload = Buffer.concat([randomBytes(ROW_BYTES / 2), Buffer.alloc(ROW_BYTES / 2, `row ${id % 97} `)]);
      await client.execute(query, [id, `k${id % 13}`, payload], { prepare: true });
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

/** The snapshot directories of `tag` under the node's data dirs. */
async function snapshotDirs(cluster: LocalCassandraCluster, tag: string): Promise<string[]> {
  const dirs: string[] = [];
  for (const dataDir of cluster.nodes[0].dataDirs) {
    for (const table of await readdir(path.join(dataDir, KEYSPACE)).catch(() => [] as string[])) {
      const dir = path.join(dataDir, KEYSPACE, table, 'snapshots', tag);
      if (await stat(dir).then((s) => s.isDirectory(), () => false)) dirs.push(dir);
    }
  }
  return dirs;
}

async function dirBytes(dirs: readonly string[]): Promise<number> {
  let total = 0;
  for (const dir of dirs) for (const name of await readdir(dir)) total += (await stat(path.join(dir, name))).size;
  return total;
}

/** restic's summary of a `backup --json` run: what it added to the repository. */
async function resticBackup(repo: string, dirs: readonly string[], out: string): Promise<{ ms: number; added: number }> {
  const ms = await sh(`RESTIC_PASSWORD=bench restic -q -r ${repo} backup --json ${dirs.join(' ')} > ${out}`);
  const summary = (await readFile(out, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { message_type?: string; data_added?: number }).find((l) => l.message_type === 'summary');
  return { ms, added: summary?.data_added ?? NaN };
}

async function runCassandraBench(): Promise<BenchRow[]> {
  const megabytes = Number(process.env.BENCH_CASSANDRA_MB) || 400;
  const rounds = Number(process.env.BENCH_CASSANDRA_ROUNDS) || 3;
  const log = (line: string) => process.stdout.write(`  ${line}\n`);
  ensureDebianPackages(['java'], [CASSANDRA_JAVA_PACKAGE], log);
  ensureDebianPackages(['zstd', 'restic'], ['zstd', 'restic'], log);
  const home = ensureCassandraDistribution(undefined, log);

  const work = await mkdtemp(path.join(os.tmpdir(), 'dbbackup-cassandra-bench-'));
  const clusters: LocalCassandraCluster[] = [];
  const start = async (name: string, vnodes?: number) => {
    const cluster = await onFreePorts(clusterPortCount(1), (ports, attempt) => startLocalCassandraCluster({
      dir: path.join(work, name, `a${attempt}`), home, ports, clusterName: `bench-${name}`, vnodes, heap: { initialMb: 512, maxMb: 1024 },
    }));
    clusters.push(cluster);
    return cluster;
  };
  const stop = async (cluster: LocalCassandraCluster) => {
    await cluster.stop();
    clusters.splice(clusters.indexOf(cluster), 1);
  };
  // BENCH_LOG=info|debug: the steps' log lines on stderr, with their times (where a run's time goes).
  const logLevel = process.env.BENCH_LOG === 'info' || process.env.BENCH_LOG === 'debug' ? process.env.BENCH_LOG : 'error';
  letHeapGrowWithStreams(); // as the CLI does: the workflows run in this process
  const runtime = await createRuntime(
    { storeUrl: path.join(work, 'store'), spoolRoot: path.join(work, 'spool'), logLevel, env: {}, restoreRoots: [work], restoreServers: ['127.0.0.1:*'] },
    logLevel === 'error' ? silentLogger : consoleLogger(logLevel), { builtins: builtinPlugins() },
  );
  const workflows = localWorkflows(runtime, { waitMs: 10 });
  try {
    log(`filling a one-node Cassandra with ~${megabytes} MB of rows`);
    const source = await start('source');
    const node = source.nodes[0];
    const target = source.nodetoolTarget(node);
    const client = cqlClient({ contactPoints: source.contactPoints, port: source.nativePort });
    await client.connect();
    const rows = Math.ceil((megabytes * MB) / ROW_BYTES);
    try {
      await client.execute(`CREATE KEYSPACE ${KEYSPACE} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`);
      await client.execute(`CREATE TABLE ${KEYSPACE}.rows (id int PRIMARY KEY, kind text, payload blob)`);
      // No compaction while the bench runs: the tools and ours read the same SSTables.
      await nodetool(target, ['disableautocompaction', KEYSPACE]);
      await writeRows(client, 0, rows);
      await flush(target, KEYSPACE);
      const config = { ...clusterDescription(source), keyspaces: [KEYSPACE] };

      // Rounds, alternating: each tool on a snapshot of the same SSTables (archive, then
      // clearsnapshot: what a script runs), restic into a fresh repository, and ours into a fresh
      // instance (an empty pool); the best of each counts.
      const tarFile = path.join(work, 'snapshot.tar.zst');
      const toolRound = async (round: number, archive: (dirs: string[]) => Promise<number>) => {
        const tag = `tools-${round}`;
        const [, snapshotMs] = await timed(() => snapshot(target, tag, [KEYSPACE]));
        const dirs = await snapshotDirs(source, tag);
        const archiveMs = await archive(dirs);
        const [, clearMs] = await timed(() => clearSnapshot(target, tag));
        return { ms: snapshotMs + archiveMs + clearMs, dirs };
      };
      let tarMs = Infinity;
      let tarOnlyMs = Infinity;
      let tarSyncedMs = Infinity;
      let tarBytes = 0;
      let snapshotBytes = 0;
      let restic1 = { ms: Infinity, added: 0 };
      let firstMs = Infinity;
      let first: { backupId: string; instance: string } | undefined;
      let poolMs = Infinity;
      let poolAloneMs = Infinity;
      let poolAloneBytes = 0;
      for (let round = 1; round <= rounds; round += 1) {
        log(`round ${round}/${rounds}: nodetool snapshot + tar | zstd; + restic; ours (workflow: snapshot, pool, validate, manifest, cleanup)`);
        const tar = await toolRound(round, async (dirs) => {
          snapshotBytes = await dirBytes(dirs);
          const ms = await sh(`tar c ${dirs.join(' ')} 2>/dev/null | zstd -q -T0 -3 > ${tarFile}`);
          tarOnlyMs = Math.min(tarOnlyMs, ms);
          tarBytes = (await stat(tarFile)).size;
          await rm(tarFile);
          // The same, durable as our store's writes are (for information).
          tarSyncedMs = Math.min(tarSyncedMs, await sh(`tar c ${dirs.join(' ')} 2>/dev/null | zstd -q -T0 -3 > ${tarFile} && sync ${tarFile}`));
          await rm(tarFile);
          // Ours on the same snapshot, alone as tar runs: its SSTables pooled as the backup pools
          // them (poolSnapshotFiles) into a fresh pool, fsynced. In the workflow the second CQL
          // digest runs beside the pooling and shares the cores with it.
          const table = { keyspace: KEYSPACE, table: 'rows', dirName: path.basename(path.dirname(path.dirname(dirs[0]))) };
          const files = (await listSnapshotFiles(node.dataDirs, [table], `tools-${round}`)).filter((f) => f.sstable !== undefined);
          const alone = new LocalDirectoryStore(path.join(work, `pool-alone-${round}`));
          const [, aloneMs] = await timed(() => poolSnapshotFiles({ store: alone, prefix: poolPrefix('cassandra', `alone-${round}`) }, files, { spoolDir: path.join(work, 'spool-alone') }));
          poolAloneMs = Math.min(poolAloneMs, aloneMs);
          poolAloneBytes = files.reduce((sum, f) => sum + f.size, 0);
          await rm(path.join(work, `pool-alone-${round}`), { recursive: true, force: true });
          return ms;
        });
        tarMs = Math.min(tarMs, tar.ms);
        const repo = path.join(work, `restic-${round}`);
        await sh(`RESTIC_PASSWORD=bench restic -q init -r ${repo}`);
        let added = 0;
        const restic = await toolRound(round, async (dirs) => {
          const run = await resticBackup(repo, dirs, path.join(work, 'restic.json'));
          added = run.added;
          return run.ms;
        });
        if (restic.ms < restic1.ms) restic1 = { ms: restic.ms, added };
        if (round < rounds) await rm(repo, { recursive: true, force: true });
        const instance = `bench-${round}`;
        if (logLevel !== 'error') log(`ours starts at ${new Date().toISOString()}`);
        const [ours, oursMs] = await timed(() => workflows.backup({ engine: 'cassandra', instance, config }));
        if (logLevel !== 'error') log(`ours ends at ${new Date().toISOString()}`);
        if (oursMs < firstMs) { firstMs = oursMs; first = { backupId: ours.backupId, instance }; }
        poolMs = Math.min(poolMs, (await nodeFacts(runtime, instance, ours.backupId)).poolMs);
      }
      if (!first) throw new Error('no round ran');
      const firstFacts = await nodeFacts(runtime, first.instance, first.backupId);
      const repo = path.join(work, `restic-${rounds}`);

      log('1 % new writes, then the second backups');
      await writeRows(client, rows, Math.ceil(rows / 100));
      const [second, secondMs] = await timed(() => workflows.backup({ engine: 'cassandra', instance: first!.instance, config }));
      const secondFacts = await nodeFacts(runtime, first.instance, second.backupId);
      await flush(target, KEYSPACE);
      await snapshot(target, 'tools2', [KEYSPACE]);
      const dirs2 = await snapshotDirs(source, 'tools2');
      const fullTar2 = await dirBytes(dirs2);
      const restic2 = await resticBackup(repo, dirs2, path.join(work, 'restic-2.json'));
      await clearSnapshot(target, 'tools2');
      await stop(source);

      log('restore in place (refresh) into a fresh node of the same token');
      const same = await start('restore-refresh');
      const [refreshReport, refreshMs] = await timed(() => workflows.restore({ backupId: second.backupId, target: restoreTargetOf(same) }));
      if (!refreshReport.validation.ok) throw new Error(`refresh restore not validated: ${JSON.stringify(refreshReport.validation.checks)}`);
      await stop(same);
      log('restore by sstableloader into a fresh node of other tokens (16 vnodes)');
      const other = await start('restore-loader', 16);
      const [loaderReport, loaderMs] = await timed(() => workflows.restore({ backupId: second.backupId, target: restoreTargetOf(other) }));
      if (!loaderReport.validation.ok) throw new Error(`sstableloader restore not validated: ${JSON.stringify(loaderReport.validation.checks)}`);
      await stop(other);

      const rate = (bytes: number, ms: number) => bytes / MB / (ms / 1000);
      const restoredBytes = secondFacts.bytes;
      const results = {
        megabytes, rows, rounds, snapshotBytes, tarBytes, tarMs, restic1, restic2, fullTar2,
        firstMs, first: firstFacts, secondMs, second: secondFacts, refreshMs, loaderMs, restoredBytes,
        backupRatio: tarMs / firstMs, resticRatio: restic1.ms / firstMs, tarOnlyMs, tarSyncedMs, poolMs, poolAloneMs, poolAloneBytes,
        uploadThroughputRatio: (poolAloneBytes / poolAloneMs) / (snapshotBytes / tarOnlyMs),
        workflowUploadThroughputRatio: (firstFacts.bytes / poolMs) / (snapshotBytes / tarOnlyMs),
        secondShare: secondFacts.uploadedBytes / firstFacts.uploadedBytes,
        loadAverage: os.loadavg(), cpus: os.cpus().length,
      };
      await mkdir(path.dirname(RESULTS_FILE), { recursive: true });
      await writeFile(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
      const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
      const mb = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`;
      return [
        { metric: `SSTables of the node (${rows} rows of ${ROW_BYTES} B, LZ4 on disk)`, value: mb(snapshotBytes) },
        { metric: `backup, ours: the whole workflow (digests ×2, snapshot, pool, validate, manifest, clear), best of ${rounds}`, value: s(firstMs) },
        { metric: `nodetool snapshot + tar c | zstd -T0 -3 > file (${mb(tarBytes)}) + clearsnapshot`, value: s(tarMs) },
        { metric: `per-node upload, ours: the snapshot's SSTable components pooled (hashed, fsynced), alone as tar runs (best of ${rounds})`, value: `${rate(poolAloneBytes, poolAloneMs).toFixed(0)} MB/s` },
        { metric: `per-node upload, tar c snapshots | zstd -T0 -3 > file (best of ${rounds})`, value: `${rate(snapshotBytes, tarOnlyMs).toFixed(0)} MB/s` },
        { metric: 'per-node upload throughput ratio (ours / tar | zstd)', value: results.uploadThroughputRatio.toFixed(2), goal: '≥ 1.00', ok: results.uploadThroughputRatio >= 1 },
        { metric: 'per-node upload throughput ratio, both durable (ours / tar | zstd > file && sync file)', value: ((poolAloneBytes / poolAloneMs) / (snapshotBytes / tarSyncedMs)).toFixed(2) },
        { metric: `per-node upload, ours inside the workflow, the second CQL digest running beside it (best of ${rounds})`, value: `${rate(firstFacts.bytes, poolMs).toFixed(0)} MB/s` },
        { metric: 'per-node upload throughput ratio inside the workflow (ours / tar | zstd)', value: results.workflowUploadThroughputRatio.toFixed(2) },
        { metric: 'per-node backup, whole: ratio (snapshot + tar | zstd + clear / our workflow)', value: results.backupRatio.toFixed(2) },
        { metric: 'nodetool snapshot + restic backup into a local repository + clearsnapshot', value: s(restic1.ms) },
        { metric: 'per-node backup ratio (restic / ours)', value: results.resticRatio.toFixed(2) },
        { metric: 'backup throughput, ours, whole workflow', value: `${rate(firstFacts.bytes, firstMs).toFixed(1)} MB/s` },
        { metric: 'second backup after 1 % new writes, ours: uploaded', value: mb(secondFacts.uploadedBytes) },
        { metric: 'second backup: uploaded / first backup uploaded', value: `${(results.secondShare * 100).toFixed(1)} %`, goal: '≤ 5 %', ok: results.secondShare <= 0.05 },
        { metric: 'second backup, a full tar of the snapshot: sent', value: mb(fullTar2) },
        { metric: 'second backup, restic: added to its repository', value: mb(restic2.added) },
        { metric: 'second backup, ours: wall time', value: s(secondMs) },
        { metric: `restore in place (nodetool refresh), start → validated (${mb(restoredBytes)})`, value: s(refreshMs) },
        { metric: 'restore in place, throughput', value: `${rate(restoredBytes, refreshMs).toFixed(1)} MB/s` },
        { metric: 'restore by sstableloader into other tokens, start → validated', value: s(loaderMs) },
        { metric: 'restore by sstableloader, throughput', value: `${rate(restoredBytes, loaderMs).toFixed(1)} MB/s` },
        { metric: 'load average (1 min) at the end / cores', value: `${os.loadavg()[0].toFixed(1)} / ${os.cpus().length}` },
      ];
    } finally {
      await client.shutdown().catch(() => undefined);
    }
  } finally {
    for (const cluster of [...clusters]) await cluster.stop().catch(() => undefined);
    await rm(work, { recursive: true, force: true });
  }
}

/** The one node's facts of backup `backupId`. */
async function nodeFacts(runtime: Awaited<ReturnType<typeof createRuntime>>, instance: string, backupId: string): Promise<{ bytes: number; uploadedBytes: number; poolMs: number }> {
  const entry = (await runtime.catalog.list({ engine: 'cassandra', instance })).find((e) => e.backupId === backupId);
  type Facts = { bytes: number; uploadedBytes: number; poolMs: number };
  const recorded = entry?.manifest?.facts as (Facts & { nodes?: Record<string, Facts> }) | undefined;
  const facts = recorded?.nodes ? Object.values(recorded.nodes)[0] : recorded;
  if (!facts) throw new Error(`no complete backup ${backupId}`);
  return facts;
}

export const cassandraBench: Bench = { name: 'cassandra', run: runCassandraBench };
