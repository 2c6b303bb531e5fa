/**
 * ZooKeeper benchmark, side by side with the standard tools on the same data in one run (ratios,
 * not absolute times), against real standalone ZooKeeper servers started here (member.ts):
 *
 * - host-local backup of a data dir of about BENCH_ZK_MB (default 200) MB — a snapshot (forced by
 *   a restart) and the logs before and after it: ours, given the store as the backup step gives
 *   it (createSnapshot: one read of each file that checks it, replays it, and writes it with its
 *   sha256 into a LocalDirectoryStore, fsynced; validateSnapshot: the stored bytes re-hashed;
 *   upload: confirms them) vs `tar c version-2 | zstd -T0 -3 > file`, best of BENCH_ZK_ROUNDS
 *   (default 3) rounds, which of the two runs first alternating — goal ≥ 1.0. Where our time goes is measured beside it, each
 *   part alone: the read with its checks and replay (nothing written), the writes into the store
 *   (sha256, fsync; nothing checked), the re-hash of what was stored;
 * - logical backup of BENCH_ZK_NODES (default 100 000) nodes (walk → artifact), and its restore
 *   into a fresh server (restoreTree, window 256: verify, create, ACLs; the restore step, which the
 *   speed-up compares; then the validate step's walk, timed and reported apart) vs one awaited
 *   create per node into another fresh server, timed on the first BENCH_ZK_BASELINE_NODES (default
 *   10 000) nodes — goal ≥ 5× the baseline's rate.
 *
 * Results go to bench/results/zookeeper.json.
 */
import { mkdir, mkdtemp, open, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { takeSnapshot } from '../core/driver/take-snapshot';
import { verifyArtifact } from '../core/driver/artifact-sink';
import type { BackupContext } from '../core/driver/types';
import { ensureDebianPackages } from '../core/host/debian-packages';
import { freePort } from '../core/host/ports';
import { silentLogger } from '../core/logger';
import { LocalDirectoryStore } from '../core/store/local-directory-store';
import { plugin } from '../drivers/zookeeper';
import { closeZooKeeper, openZooKeeper, zooKeeperConstants, type ZooKeeperClient } from '../drivers/zookeeper/client';
import { zookeeperConfigSchema, type ZooKeeperConfig } from '../drivers/zookeeper/config';
import { CHUNK_SIZE } from '../drivers/zookeeper/files/file-chunks';
import { replayDirectories } from '../drivers/zookeeper/files/replay';
import { LOGICAL_NODE, TREE_ARTIFACT } from '../drivers/zookeeper/logical-backup';
import { RESTORE_SESSIONS } from '../drivers/zookeeper/logical-restore';
import { readTreeArtifact } from '../drivers/zookeeper/logical/tree-artifact';
import { restoreTree } from '../drivers/zookeeper/logical/tree-restore';
import { treeSummary } from '../drivers/zookeeper/logical/tree-walk';
import { startZooKeeperMember, ZOOKEEPER_JAR, type RunningZooKeeper } from '../drivers/zookeeper/member';
import type { Bench, BenchRow } from './run';
import { sh, timed } from './timing';
import { createLargeNodes, createSmallTree, overwriteLargeNodes } from './zookeeper-bench-data';

const MB = 1e6;
const REPO_ROOT = path.resolve(__dirname, '..');
const RESULTS_FILE = path.join(REPO_ROOT, 'bench', 'results', 'zookeeper.json');
/** No snapshot of its own during the fill: the one snapshot is the restart's. */
const SNAP_COUNT = 10_000_000;
const RESTORE_WINDOW = 256;
/** The host-local source holds ~1/3 of BENCH_ZK_MB in its tree and 500 large proposals besides (member.ts heapMb). */
const SOURCE_HEAP_MB = 1024;



async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(dir)) total += (await stat(path.join(dir, name))).size;
  return total;
}

async function withClient<T>(server: RunningZooKeeper, fn: (client: ZooKeeperClient) => Promise<T>): Promise<T> {
  const client = await openZooKeeper({ connectString: `${server.address.host}:${server.address.port}`, sessionTimeoutMs: 60_000 });
  try {
    return await fn(client);
  } finally {
    closeZooKeeper(client);
  }
}

async function runZooKeeperBench(): Promise<BenchRow[]> {
  const megabytes = Number(process.env.BENCH_ZK_MB) || 200;
  const nodes = Number(process.env.BENCH_ZK_NODES) || 100_000;
  const baselineNodes = Math.min(nodes, Number(process.env.BENCH_ZK_BASELINE_NODES) || 10_000);
  const rounds = Number(process.env.BENCH_ZK_ROUNDS) || 3;
  const log = (line: string) => process.stdout.write(`  ${line}\n`);
  ensureDebianPackages(['java'], ['zookeeper'], log, [ZOOKEEPER_JAR]);
  ensureDebianPackages(['zstd'], ['zstd'], log);

  const work = await mkdtemp(path.join(os.tmpdir(), 'dbbackup-zookeeper-bench-'));
  const servers: RunningZooKeeper[] = [];
  const start = async (name: string, clientPort?: number, heapMb?: number) => {
    const server = await startZooKeeperMember({ id: 1, dataDir: path.join(work, name, 'data'), host: '127.0.0.1', clientPort: clientPort ?? await freePort(), snapCount: SNAP_COUNT, heapMb });
    servers.push(server);
    return server;
  };
  const stop = async (server: RunningZooKeeper) => {
    await server.stop();
    servers.splice(servers.indexOf(server), 1);
  };
  try {
    // Host-local data: a third of the bytes created (log 1), a restart (the snapshot: the tree),
    // a third overwritten (log 2). Restarted once more so the server holds no log open mid-write.
    log(`filling a ZooKeeper data dir with ~${megabytes} MB`);
    let source = await start('host-local', undefined, SOURCE_HEAP_MB);
    const third = (megabytes * MB) / 3;
    const large = await withClient(source, (client) => createLargeNodes(client, third));
    const port = source.address.port;
    await stop(source);
    source = await start('host-local', port, SOURCE_HEAP_MB);
    await withClient(source, (client) => overwriteLargeNodes(client, large, third));
    const version2 = path.join(source.dataDir, 'version-2');
    const dataDirBytes = await dirBytes(version2);

    const config: ZooKeeperConfig = zookeeperConfigSchema.parse({ members: [{ address: `127.0.0.1:${port}` }] });
    const [node] = await plugin.backup!.listNodes!({ backupId: 'bench', instance: 'bench', config, logger: silentLogger });
    const store = new LocalDirectoryStore(path.join(work, 'store'));
    const hostLocalRound = async (round: number) => {
      const prefix = `bench/${round}`;
      const ctx: BackupContext<ZooKeeperConfig> = { backupId: `bench-${round}`, instance: 'bench', config, node, spoolDir: path.join(work, 'spool-host-local'), destination: { store, prefix }, logger: silentLogger };
      const [snapshot, snapshotMs] = await timed(() => takeSnapshot('zookeeper', plugin.backup!, ctx));
      const [report, validateMs] = await timed(() => plugin.backup!.validateSnapshot(ctx, snapshot));
      if (!report.ok) throw new Error(`validation failed: ${JSON.stringify(report.checks)}`);
      const [uploaded, uploadMs] = await timed(() => plugin.backup!.upload(ctx, snapshot, { store, prefix }));
      await store.delete(uploaded.artifacts.map((a) => a.key));
      await plugin.backup!.cleanup(ctx, snapshot);
      return { snapshotMs, validateMs, uploadMs, totalMs: snapshotMs + validateMs + uploadMs, bytes: uploaded.bytes, facts: snapshot.facts };
    };
    const toolRound = async (synced: boolean) => {
      const file = path.join(work, 'version-2.tar.zst');
      const ms = await sh(`tar c -C ${source.dataDir} version-2 | zstd -q -T0 -3 > ${file}${synced ? ` && sync ${file}` : ''}`);
      const { size } = await stat(file);
      await rm(file, { force: true });
      return { ms, size };
    };
    let ours: Awaited<ReturnType<typeof hostLocalRound>> | undefined;
    let tool = Infinity;
    let toolSynced = Infinity;
    let toolBytes = 0;
    const runOurs = async (round: number) => {
      const o = await hostLocalRound(round);
      if (!ours || o.totalMs < ours.totalMs) ours = o;
    };
    const runTools = async () => {
      const t = await toolRound(false);
      tool = Math.min(tool, t.ms);
      toolBytes = t.size;
      toolSynced = Math.min(toolSynced, (await toolRound(true)).ms);
    };
    for (let round = 0; round < rounds; round += 1) {
      // Who runs first alternates: the one after a synced write shares the disk with its writeback.
      log(`host-local round ${round + 1}/${rounds}`);
      if (round % 2 === 0) {
        await runOurs(round);
        await runTools();
      } else {
        await runTools();
        await runOurs(round);
      }
    }
    if (!ours) throw new Error('no host-local round ran');

    // Where our time goes, each part alone, on the files the backup takes: the read that checks
    // and replays them (createSnapshot's, nothing written), their writes into the store (read,
    // sha256, write, fsync; nothing checked), and the re-hash of the stored bytes (validateSnapshot's).
    const [replayed, checkReplayMs] = await timed(() => replayDirectories({ snapDir: version2, mode: 'live' }));
    const files = [replayed.snapshot, ...replayed.logs].map((scan) => ({ file: scan.file, length: 'validLength' in scan ? scan.validLength : undefined }));
    const [written, storeWriteMs] = await timed(async () => {
      const out = [];
      for (const f of files) out.push(await writeThroughWriter(store, `breakdown/${path.basename(f.file)}`, f.file, f.length));
      return out;
    });
    const [, rehashMs] = await timed(async () => {
      for (const w of written) await verifyArtifact(work, { name: w.key, key: w.key, size: w.size, sha256: w.sha256 }, store);
    });
    await store.delete(written.map((w) => w.key));
    const snapshotBytes = written[0].size;
    const logBytes = written.slice(1).reduce((sum, w) => sum + w.size, 0);
    await stop(source);

    // Logical: a wide tree of small nodes, walked into an artifact, restored into fresh servers.
    log(`filling a ZooKeeper tree with ${nodes} nodes`);
    const logicalSource = await start('logical-source');
    await withClient(logicalSource, (client) => createSmallTree(client, nodes));
    const logicalConfig = zookeeperConfigSchema.parse({ mode: 'logical', members: [{ address: `127.0.0.1:${logicalSource.address.port}` }] });
    const lctx: BackupContext<ZooKeeperConfig> = { backupId: 'bench-logical', instance: 'bench', config: logicalConfig, node: { name: LOGICAL_NODE }, spoolDir: path.join(work, 'spool-logical'), logger: silentLogger };
    const [logical, logicalBackupMs] = await timed(() => takeSnapshot('zookeeper', plugin.backup!, lctx));
    const artifact = path.join(logical.spoolDir, TREE_ARTIFACT);
    const treeNodes = Number((logical.facts as { nodeCount: number }).nodeCount);
    await stop(logicalSource);

    log('restoring the tree (window 256)');
    const restoreTarget = await start('restore-ours');
    // restoreTree's own check (the restored tree walked, its summary equal to the artifact's),
    // done here so that the walk is timed apart from the rest.
    const [[restored, checkWalkMs], restoreMs] = await timed(() => withClient(restoreTarget, async (client) => {
      // As the driver's restore step does: its sessions, creates spread over them.
      const more = await Promise.all(Array.from({ length: RESTORE_SESSIONS - 1 }, () => openZooKeeper({ connectString: `${restoreTarget.address.host}:${restoreTarget.address.port}`, sessionTimeoutMs: 60_000 })));
      const result = await restoreTree(client, artifact, { window: RESTORE_WINDOW, check: false, moreSessions: more }).finally(() => more.forEach(closeZooKeeper));
      const [walked, walkMs] = await timed(() => treeSummary(client));
      if (walked.nodeCount !== result.expected.nodeCount || walked.digest !== result.expected.digest) {
        throw new Error(`the restored tree (${walked.nodeCount} nodes, ${walked.digest}) is not the artifact's (${result.expected.nodeCount}, ${result.expected.digest})`);
      }
      return [result, walkMs] as const;
    }));
    await stop(restoreTarget);

    log(`baseline: one awaited create per node, first ${baselineNodes} nodes`);
    const baselineTarget = await start('restore-baseline');
    const [baselineCreated, baselineMs] = await timed(() => withClient(baselineTarget, async (client) => {
      const { ZOO_PERSISTENT } = zooKeeperConstants();
      let created = 0;
      for await (const n of readTreeArtifact(artifact)) {
        if (n.path === '/') continue;
        if (created >= baselineNodes) break;
        await client.create(n.path, n.data, ZOO_PERSISTENT);
        created += 1;
      }
      return created;
    }));
    await stop(baselineTarget);

    const rate = (count: number, ms: number) => count / (ms / 1000);
    const results = {
      megabytes, dataDirBytes, backedUpBytes: ours.bytes, toolBytes, rounds, hostLocal: ours, toolMs: tool, toolSyncedMs: toolSynced,
      breakdown: { checkReplayMs, storeWriteMs, rehashMs, snapshotBytes, logBytes, logs: written.length - 1 },
      hostLocalRatio: tool / ours.totalMs, hostLocalSyncedRatio: toolSynced / ours.totalMs,
      treeNodes, logicalBackupMs, artifactBytes: logical.artifacts[0].size, restoreMs, restoreCreateMs: restored.createMs, checkWalkMs, loadAverage: os.loadavg(), cpus: os.cpus().length, restoreCreated: restored.created,
      baselineCreated, baselineMs,
      logicalBackupRate: rate(treeNodes, logicalBackupMs), restoreRate: rate(restored.created, restoreMs - checkWalkMs), restoreWithWalkRate: rate(restored.created, restoreMs), restoreCreateRate: rate(restored.created, restored.createMs), baselineRate: rate(baselineCreated, baselineMs),
    };
    const restoreSpeedup = results.restoreRate / results.baselineRate;
    await mkdir(path.dirname(RESULTS_FILE), { recursive: true });
    await writeFile(RESULTS_FILE, `${JSON.stringify({ ...results, restoreSpeedup }, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`);
    const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    const perS = (r: number) => `${Math.round(r)} nodes/s`;
    return [
      { metric: 'data dir (version-2: snapshot + logs, with preallocation)', value: `${(dataDirBytes / MB).toFixed(0)} MB` },
      { metric: `host-local backup, ours: bytes backed up (${results.breakdown.logs} logs)`, value: `${(ours.bytes / MB).toFixed(0)} MB` },
      { metric: 'host-local, ours: createSnapshot (one read: checks + replay + sha256 + write to the store, fsynced)', value: s(ours.snapshotMs) },
      { metric: 'host-local, ours: validateSnapshot (the stored bytes re-hashed)', value: s(ours.validateMs) },
      { metric: 'host-local, ours: upload (confirms what createSnapshot stored)', value: s(ours.uploadMs) },
      { metric: `host-local, ours total (best of ${rounds})`, value: s(ours.totalMs) },
      { metric: `tar c version-2 | zstd -T0 -3 > file (${(toolBytes / MB).toFixed(0)} MB)`, value: s(tool) },
      { metric: 'host-local speed ratio (tool / ours)', value: results.hostLocalRatio.toFixed(2), goal: '≥ 1.00', ok: results.hostLocalRatio >= 1 },
      { metric: 'tar | zstd > file && sync file', value: s(toolSynced) },
      { metric: 'host-local speed ratio, both durable', value: results.hostLocalSyncedRatio.toFixed(2) },
      { metric: 'what tar does not: every checksum read, tree digest replayed, sha256 written and re-checked', value: `${ours.facts.nodeCount} nodes` },
      { metric: `  of ours, alone: the read with every check and the replay (${((snapshotBytes + logBytes) / MB).toFixed(0)} MB)`, value: s(checkReplayMs) },
      { metric: `  of ours, alone: the writes into the store (its chunk writer, as the backup), sha256 + fsync (snapshot ${(snapshotBytes / MB).toFixed(0)} MB, logs ${(logBytes / MB).toFixed(0)} MB)`, value: s(storeWriteMs) },
      { metric: '  of ours, alone: the re-hash of the stored bytes', value: s(rehashMs) },
      { metric: `logical backup, ours (walk → artifact, ${treeNodes} nodes)`, value: perS(results.logicalBackupRate) },
      { metric: `logical restore step, ours (${RESTORE_SESSIONS} sessions × window ${RESTORE_WINDOW}: verify, create, ACLs, sequence bump)`, value: perS(results.restoreRate) },
      { metric: `  of which the creates (${s(restored.createMs)})`, value: perS(results.restoreCreateRate) },
      { metric: '  of which the rest (artifact verify pass, empty check, ACL pass)', value: s(restoreMs - restored.createMs - checkWalkMs) },
      { metric: 'validate step: walk of the restored tree (count + digest)', value: s(checkWalkMs) },
      { metric: 'restore step + validation walk', value: perS(results.restoreWithWalkRate) },
      { metric: `one awaited create per node (first ${baselineCreated} nodes)`, value: perS(results.baselineRate) },
      { metric: 'logical restore speed-up', value: restoreSpeedup.toFixed(2), goal: '≥ 5.00', ok: restoreSpeedup >= 5 },
      { metric: 'creates alone vs the baseline', value: (results.restoreCreateRate / results.baselineRate).toFixed(2) },
      { metric: 'load average (1 min) at the end / cores', value: `${os.loadavg()[0].toFixed(1)} / ${os.cpus().length}` },
    ];
  } finally {
    for (const server of [...servers]) await server.stop().catch(() => undefined);
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * The file's first `length` bytes written into the store as the backup writes them: CHUNK_SIZE
 * reads into a few reused buffers, handed to the store's chunk writer (sha256, positional writes,
 * fsync, rename), nothing checked.
 */
async function writeThroughWriter(store: LocalDirectoryStore, key: string, file: string, length?: number) {
  const writer = await store.openWriter(key);
  const handle = await open(file, 'r');
  const buffers = Array.from({ length: 4 }, () => Buffer.allocUnsafeSlow(CHUNK_SIZE));
  const inFlight: Array<Promise<void> | undefined> = [];
  try {
    const end = length ?? (await handle.stat()).size;
    for (let position = 0, i = 0; position < end; i += 1) {
      await inFlight[i % buffers.length];
      const { bytesRead } = await handle.read(buffers[i % buffers.length], 0, Math.min(CHUNK_SIZE, end - position), position);
      if (bytesRead === 0) break;
      inFlight[i % buffers.length] = writer.write(buffers[i % buffers.length].subarray(0, bytesRead));
      position += bytesRead;
    }
    return await writer.end();
  } catch (error) {
    await writer.abort();
    throw error;
  } finally {
    await handle.close();
  }
}

export const zookeeperBench: Bench = { name: 'zookeeper', run: runZooKeeperBench };
