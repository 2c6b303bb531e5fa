/**
 * MySQL/MariaDB benchmark, side by side with the standard tools on the same data in one run
 * (ratios, not absolute times), against real MariaDB servers started here:
 *
 * - logical backup: our dump (parallel tables, chunked, digests, zstd, each batch read back) vs
 *   `mariadb-dump --single-transaction | gzip` — goal ≥ 1.5×;
 * - logical restore: our download + parallel LOAD DATA vs `gunzip | mariadb` — goal ≥ 1.5×;
 * - physical backup: our mariabackup stream straight into the store (sha256 and every chunk's
 *   CRC-32 checked on the way, `physical.prepareCheck: false`) vs
 *   `mariabackup --stream=xbstream > file` with the same `--parallel`, best of
 *   BENCH_MYSQL_PHYSICAL_ROUNDS (default 3) alternating rounds — goal ≥ 0.9×. Our local store
 *   fsyncs what it writes (a backup must survive a power cut), `> file` leaves it in the page
 *   cache: the ratio against `> file && sync file` is reported beside it, for information, as is
 *   our whole pipeline with the prepare check (read back, extract, prepare, table digests);
 * - peak RSS of our dump at 1/4 and at full size — flat.
 *
 * Size: BENCH_MYSQL_MB (default 1024) of table data. Results go to bench/results/mysql.json.
 */
import { takeSnapshot } from '../core/driver/take-snapshot';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { silentLogger } from '../core/logger';
import { LocalDirectoryStore } from '../core/store/local-directory-store';
import type { BackupContext, BackupRecord, RestoreContext } from '../core/driver/types';
import { freePort } from '../core/host/ports';
import { plugin } from '../drivers/mysql';
import { mysqlConfigSchema, mysqlRestoreTargetSchema, type MysqlConfig, type MysqlRestoreTarget } from '../drivers/mysql/config';
import { startLocalMariaDb, type RunningServer } from '../drivers/mysql/shared/local-server';
import type { Bench, BenchRow } from './run';
import { sh, timed } from './timing';

const MB = 1e6;
const REPO_ROOT = path.resolve(__dirname, '..');
const RESULTS_FILE = path.join(REPO_ROOT, 'bench', 'results', 'mysql.json');
const TABLES = 4;
/** Rounds of the physical comparison (ours and the tool alternating); the best of each counts. */
const PHYSICAL_ROUNDS = Number(process.env.BENCH_MYSQL_PHYSICAL_ROUNDS) || 3;
const ROW_BYTES = 250;



/** `database` with TABLES InnoDB tables totalling about `megabytes` MB of row data. */
export async function seed(server: RunningServer, database: string, megabytes: number): Promise<number> {
  const connection = await mysql.createConnection({ host: server.host, port: server.port, user: 'root', multipleStatements: true });
  const rowsPerTable = Math.ceil((megabytes * MB) / ROW_BYTES / TABLES);
  try {
    await connection.query(`CREATE DATABASE ${database}`);
    for (let t = 1; t <= TABLES; t += 1) {
      await connection.query(`CREATE TABLE ${database}.t${t} (id INT PRIMARY KEY, a INT NOT NULL, b VARCHAR(80) NOT NULL, c DOUBLE NULL, d DATETIME NOT NULL, pad CHAR(120) NOT NULL) ENGINE=InnoDB`);
      await connection.query(`INSERT INTO ${database}.t${t} SELECT seq, seq * 7 MOD 100000, MD5(seq), IF(seq MOD 5 = 0, NULL, seq / 3), '2026-01-01' + INTERVAL seq SECOND, REPEAT(CHAR(65 + seq MOD 26), 120) FROM ${database}.seq_1_to_${rowsPerTable}`);
    }
    const [[size]] = await connection.query('SELECT SUM(data_length) AS bytes FROM information_schema.tables WHERE table_schema = ?', [database]) as [Array<{ bytes: string }>, unknown];
    return Number(size.bytes);
  } finally {
    await connection.end();
  }
}

/** Our logical dump of `database` in a child process; resolves to its peak RSS in bytes. */
function dumpRss(port: number, database: string, spoolDir: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'mysql-rss-child.ts'), String(port), database, spoolDir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString(); });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Number(out.trim())) : reject(new Error(`rss child exited ${code}`))));
  });
}

async function runMysqlBench(): Promise<BenchRow[]> {
  const megabytes = Number(process.env.BENCH_MYSQL_MB) || 1024;
  const work = await mkdtemp(path.join(os.tmpdir(), 'dbbackup-mysql-bench-'));
  const servers: RunningServer[] = [];
  const start = async (name: string, id: number) => {
    const server = await startLocalMariaDb({ dir: path.join(work, name), port: await freePort(), serverId: id });
    servers.push(server);
    return server;
  };
  try {
    const source = await start('source', 1);
    const dataBytes = await seed(source, 'bench', megabytes);
    await seed(source, 'bench_quarter', megabytes / 4);
    const store = new LocalDirectoryStore(path.join(work, 'store'));
    const mb = (ms: number) => dataBytes / MB / (ms / 1000);

    // Logical backup: ours vs mariadb-dump | gzip.
    const config = mysqlConfigSchema.parse({ host: source.host, port: source.port, user: 'root', password: '', databases: ['bench'], parallelism: 4 });
    const ctx: BackupContext<MysqlConfig> = { backupId: 'bench-logical', instance: 'bench', config, node: { name: 'default' }, spoolDir: path.join(work, 'spool-logical'), logger: silentLogger };
    const [snapshot, dumpMs] = await timed(() => takeSnapshot('mysql', plugin.backup!, ctx));
    const [uploaded, uploadMs] = await timed(() => plugin.backup!.upload(ctx, snapshot, { store, prefix: 'bench/logical' }));
    const dumpFile = path.join(work, 'dump.sql.gz');
    const toolDumpMs = await sh(`mariadb-dump --single-transaction --databases bench -h ${source.host} -P ${source.port} -u root | gzip > ${dumpFile}`);

    // Logical restore: ours vs gunzip | mariadb, each into a fresh server.
    const oursTarget = await start('restore-ours', 2);
    const toolTarget = await start('restore-tool', 3);
    const backup: BackupRecord = { backupId: 'bench-logical', engine: 'mysql', instance: 'bench', consistency: snapshot.consistency, facts: snapshot.facts, artifacts: uploaded.artifacts };
    const rctx: RestoreContext<MysqlRestoreTarget> = {
      backupId: 'bench-logical', instance: 'bench', restoreId: 'bench-restore', node: { name: 'default' }, backup, force: false, logger: silentLogger, spoolDir: path.join(work, 'spool-restore'),
      target: mysqlRestoreTargetSchema.parse({ host: oursTarget.host, port: oursTarget.port, user: 'root', password: '', parallelism: 4 }),
    };
    const [, restoreMs] = await timed(async () => plugin.restore!.restore(rctx, await plugin.restore!.prepareTarget(rctx), { store, prefix: '' }));
    const toolRestoreMs = await sh(`gunzip -c ${dumpFile} | mariadb -h ${toolTarget.host} -P ${toolTarget.port} -u root`);

    // Physical: ours straight into the store (stream + sha256 + CRC-32 of every chunk + store, no
    // prepare check) vs mariabackup > file; then, for information, our whole pipeline with the
    // prepare check (read back, extract, --prepare, table digests through a throwaway server).
    const physicalCtx = (label: string, prepareCheck: boolean): BackupContext<MysqlConfig> => ({
      backupId: `bench-${label}`, instance: 'bench', node: { name: 'default' }, logger: silentLogger,
      config: mysqlConfigSchema.parse({ host: source.host, port: source.port, user: 'root', password: '', mode: 'physical', physical: { prepareCheck } }),
      spoolDir: path.join(work, `spool-${label}`),
      destination: { store, prefix: `bench/${label}/data/default` },
    });
    const physicalRun = async (label: string, prepareCheck: boolean): Promise<[number, number]> => {
      const pctx = physicalCtx(label, prepareCheck);
      const [uploaded, ms] = await timed(async () => plugin.backup!.upload(pctx, await takeSnapshot('mysql', plugin.backup!, pctx), { store, prefix: pctx.destination!.prefix }));
      await plugin.backup!.cleanup(pctx, { spoolDir: pctx.spoolDir, consistency: {} });
      await store.delete(uploaded.artifacts.map((a) => a.key)); // the rounds need disk for one stream only
      return [ms, uploaded.bytes];
    };
    // The same tool invocation (same --parallel) writing to a plain file.
    const { parallel } = physicalCtx('tool', false).config.physical;
    const toolRun = async (label: string, durable: boolean): Promise<number> => {
      const targetDir = path.join(work, `xb-${label}`);
      const file = path.join(work, 'backup.xbstream');
      await mkdir(targetDir, { recursive: true });
      const ms = await sh(`mariabackup --backup --stream=xbstream --parallel=${parallel} --user=root --host=${source.host} --port=${source.port} --target-dir=${targetDir} > ${file}${durable ? ` && sync ${file}` : ''}`);
      await rm(file, { force: true });
      return ms;
    };
    // Best of PHYSICAL_ROUNDS alternating rounds: the stream is CPU- and cache-sensitive, and one
    // run of each is at the mercy of whatever else the host is doing.
    let physicalMs = Infinity;
    let toolPhysicalMs = Infinity;
    let toolPhysicalSyncedMs = Infinity;
    let physicalBytes = 0;
    for (let round = 0; round < PHYSICAL_ROUNDS; round += 1) {
      toolPhysicalMs = Math.min(toolPhysicalMs, await toolRun(`${round}`, false));
      toolPhysicalSyncedMs = Math.min(toolPhysicalSyncedMs, await toolRun(`${round}-synced`, true));
      const [ms, bytes] = await physicalRun(`physical-${round}`, false);
      physicalMs = Math.min(physicalMs, ms);
      physicalBytes = bytes;
    }
    const [physicalPipelineMs] = await physicalRun('physical-prepared', true);

    // Peak RSS of our dump at a quarter and at full size.
    const rssQuarter = await dumpRss(source.port, 'bench_quarter', path.join(work, 'rss-quarter'));
    const rssFull = await dumpRss(source.port, 'bench', path.join(work, 'rss-full'));

    const ratio = (tool: number, ours: number) => tool / ours;
    const results = {
      dataBytes, dumpMs, uploadMs, toolDumpMs, restoreMs, toolRestoreMs, physicalMs, physicalPipelineMs, toolPhysicalMs, toolPhysicalSyncedMs, physicalBytes, rssQuarter, rssFull,
      backupRatio: ratio(toolDumpMs, dumpMs), restoreRatio: ratio(toolRestoreMs, restoreMs), physicalRatio: ratio(toolPhysicalMs, physicalMs), physicalSyncedRatio: ratio(toolPhysicalSyncedMs, physicalMs),
    };
    await mkdir(path.dirname(RESULTS_FILE), { recursive: true });
    await writeFile(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
    const fmt = (ms: number) => `${mb(ms).toFixed(1)} MB/s`;
    return [
      { metric: `table data`, value: `${(dataBytes / MB).toFixed(0)} MB` },
      { metric: 'logical backup, ours (dump + digests + zstd, each batch read back)', value: fmt(dumpMs) },
      { metric: 'mariadb-dump --single-transaction | gzip', value: fmt(toolDumpMs) },
      { metric: 'logical backup speed-up', value: results.backupRatio.toFixed(2), goal: '≥ 1.50', ok: results.backupRatio >= 1.5 },
      { metric: 'logical restore, ours (download + parallel LOAD DATA)', value: fmt(restoreMs) },
      { metric: 'gunzip | mariadb', value: fmt(toolRestoreMs) },
      { metric: 'logical restore speed-up', value: results.restoreRatio.toFixed(2), goal: '≥ 1.50', ok: results.restoreRatio >= 1.5 },
      { metric: 'physical stream (xbstream bytes)', value: `${(physicalBytes / MB).toFixed(0)} MB` },
      { metric: 'physical, ours straight to the store (stream + sha256 + CRC-32 + store + fsync)', value: fmt(physicalMs) },
      { metric: 'mariabackup --stream=xbstream > file (same --parallel)', value: fmt(toolPhysicalMs) },
      { metric: 'physical speed ratio', value: results.physicalRatio.toFixed(2), goal: '≥ 0.90', ok: results.physicalRatio >= 0.9 },
      { metric: 'mariabackup --stream=xbstream > file && sync file', value: fmt(toolPhysicalSyncedMs) },
      { metric: 'physical speed ratio, both durable', value: results.physicalSyncedRatio.toFixed(2) },
      { metric: 'physical, ours with prepareCheck (+ read back, extract, prepare, table digests)', value: fmt(physicalPipelineMs) },
      { metric: 'peak RSS of the dump, 1/4 size', value: `${(rssQuarter / 2 ** 20).toFixed(0)} MiB` },
      { metric: 'peak RSS of the dump, full size', value: `${(rssFull / 2 ** 20).toFixed(0)} MiB` },
      { metric: 'peak RSS full / quarter', value: (rssFull / rssQuarter).toFixed(2), goal: '≤ 1.15', ok: rssFull / rssQuarter <= 1.15 },
    ];
  } finally {
    for (const server of servers) await server.stop().catch(() => undefined);
    await rm(work, { recursive: true, force: true });
  }
}

export const mysqlBench: Bench = { name: 'mysql', run: runMysqlBench };
