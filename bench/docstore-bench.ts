/**
 * Docstore benchmark (issue 15), side by side with the parallel tools users who care about speed
 * run instead, on the same data in one run (ratios, not absolute times): a throwaway MariaDB
 * holding eight partitions of documents with their secondary indexes (docstore-bench-data.ts:
 * ~0.7 KB unicode JSON trips, rider profiles, index entries on their keys' partitions).
 *
 * - full backup: our backup workflow (read view, dump of every partition's document, index and
 *   schema tables, validation, manifest; into a local directory store) vs `mydumper --threads 2
 *   --compress` of the same partition databases — goal ≥ 1.0×;
 * - restore of it, start → validated (every table's rows and digests, every document's keys,
 *   typed columns and placement, every index entry) vs `myloader --threads 2 --enable-binlog` of
 *   mydumper's dump (the binary log on, as ours writes it), each into empty databases of a
 *   second server — goal ≥ 1.2×.
 *
 * Size: DOCSTORE_BENCH_MB (default 256) MB of trip documents; DOCSTORE_BENCH_ROUNDS (default 1)
 * alternating rounds, the best of each side counting (each round of ours a fresh instance).
 * Results go to bench/results/docstore.json; BENCH_LOG=info (or debug) writes the steps' log lines
 * to stderr.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import mysql, { type Connection } from 'mysql2/promise';
import { ensureDebianPackages } from '../core/host/debian-packages';
import { quoteId } from '../drivers/mysql/shared/connection';
import { createSamplePartitions, sampleConfig, SAMPLE_SCHEMA } from '../drivers/docstore/sample-store';
import { benchServers } from './bench-servers';
import { AVERAGE_TRIP_BYTES, fillDocuments } from './docstore-bench-data';
import { benchWorkflows, measured, phases, type Run } from './probes';
import type { Bench, BenchRow } from './run';
import { sh, timed } from './timing';

const MB = 1e6;
const REPO_ROOT = path.resolve(__dirname, '..');
const RESULTS_FILE = path.join(REPO_ROOT, 'bench', 'results', 'docstore.json');
const PARTITIONS = 8;
const THREADS = 2;

/** Where a backup's phases end: every server's partitions dumped, the manifest written. */
const BACKUP_MARKS = ['docstore backup: server done', 'backup complete'];
/** Where a restore's phases end: every partition loaded (documents and indexes checked), the report written. */
const RESTORE_MARKS = ['docstore restore: loaded', 'restore finished'];

const TABLES = Object.entries(SAMPLE_SCHEMA).flatMap(([table, definition]) => [table, ...definition.indexes.map((i) => i.table)]);

const connect = (server: { host: string; port: number }) => mysql.createConnection({ host: server.host, port: server.port, user: 'root', charset: 'utf8mb4', multipleStatements: true });

async function scalar(connection: Connection, sql: string): Promise<number> {
  const [rows] = await connection.query({ sql, rowsAsArray: true });
  return Number((rows as unknown[][])[0][0] ?? 0);
}

/** Rows per table of `databases` (every partition summed), as one comparable line. */
async function rowsOf(connection: Connection, databases: readonly string[]): Promise<string> {
  const counts = [];
  for (const table of TABLES) {
    counts.push(`${table}:${await scalar(connection, `SELECT SUM(n) FROM (${databases.map((d) => `SELECT COUNT(*) AS n FROM ${quoteId(d)}.${quoteId(table)}`).join(' UNION ALL ')}) AS t`)}`);
  }
  return counts.join(' ');
}

async function dropDatabases(connection: Connection, databases: readonly string[]): Promise<void> {
  for (const database of databases) await connection.query(`DROP DATABASE IF EXISTS ${quoteId(database)}`);
}

async function runDocstoreBench(): Promise<BenchRow[]> {
  const megabytes = Number(process.env.DOCSTORE_BENCH_MB) || 256;
  const rounds = Number(process.env.DOCSTORE_BENCH_ROUNDS) || 1;
  const log = (line: string) => process.stdout.write(`  ${line}\n`);
  ensureDebianPackages(['mariadbd', 'mariadb-install-db', 'mariadb'], ['mariadb-server', 'mariadb-client'], log);
  ensureDebianPackages(['mydumper', 'myloader'], ['mydumper'], log);

  const work = await mkdtemp(path.join(os.tmpdir(), 'dbbackup-docstore-bench-'));
  const { start, stopAll } = benchServers(work);
  const connections: Connection[] = [];
  const { workflows, logger } = await benchWorkflows(work);
  try {
    const [source, target] = [await start('source', 1), await start('target', 2)];
    const config = { ...sampleConfig([{ name: 'ds-1', host: source.host, port: source.port }], PARTITIONS, 'ds'), parallelism: THREADS };
    const databases = config.partitions.map((p) => p.database);
    const onTarget = sampleConfig([{ name: 'restored', host: target.host, port: target.port }], PARTITIONS, 'restored');
    const restoreTarget = { servers: onTarget.servers, partitions: onTarget.partitions, parallelism: THREADS };
    await createSamplePartitions(config);
    const [control, filler, targetControl] = [await connect(source), await connect(source), await connect(target)];
    connections.push(control, filler, targetControl);

    const trips = Math.ceil((megabytes * MB) / AVERAGE_TRIP_BYTES);
    log(`filling ${PARTITIONS} partitions with ${trips} trips (~${megabytes} MB of documents) and their riders and index entries, server-side`);
    const [documentBytes, fillMs] = await timed(() => fillDocuments([control, filler], databases, 1, trips));
    await control.query(`ANALYZE TABLE ${databases.flatMap((d) => TABLES.map((t) => `${quoteId(d)}.${quoteId(t)}`)).join(', ')}`);
    const innodbBytes = await scalar(control, "SELECT SUM(data_length + index_length) FROM information_schema.tables WHERE table_schema LIKE 'ds\\_%'");
    const sourceRows = await rowsOf(control, databases);
    log(`filled in ${(fillMs / 1000).toFixed(1)} s: ${(documentBytes / MB).toFixed(0)} MB of documents (${sourceRows}), ${(innodbBytes / MB).toFixed(0)} MB in InnoDB`);

    const mydumperDir = path.join(work, 'mydumper');
    let backup: Run & { backupId: string; bytes: number } = { ms: Infinity, backupId: '', bytes: 0 };
    let mydumper: Run = { ms: Infinity };
    for (let round = 1; round <= rounds; round += 1) {
      const ours = async () => {
        const started = Date.now();
        const [summary, ms, cpu] = await measured(source.pid, () => workflows.backup({ engine: 'docstore', instance: `bench-${round}`, config }));
        if (!summary.validation.ok) throw new Error(`backup ${summary.backupId} not validated`);
        log(`round ${round}: our backup ${(ms / 1000).toFixed(1)} s (${(summary.bytes / MB).toFixed(1)} MB stored)`);
        if (ms < backup.ms) backup = { ms, cpu, phases: phases(logger.marks, started, started + ms, BACKUP_MARKS), backupId: summary.backupId, bytes: summary.bytes };
      };
      const tool = async () => {
        const [, ms, cpu] = await measured(source.pid, () => sh(`rm -rf ${mydumperDir} && mydumper --host ${source.host} --port ${source.port} --user root `
          + `--regex '^(${databases.join('|')})\\.' --threads ${THREADS} --compress --outputdir ${mydumperDir}`));
        log(`round ${round}: mydumper ${(ms / 1000).toFixed(1)} s`);
        if (ms < mydumper.ms) mydumper = { ms, cpu };
      };
      if (round % 2 === 1) { await tool(); await ours(); } else { await ours(); await tool(); }
    }

    let restore: Run = { ms: Infinity };
    let myloader: Run = { ms: Infinity };
    let validation = '';
    for (let round = 1; round <= rounds; round += 1) {
      const ours = async () => {
        const started = Date.now();
        const [report, ms, cpu] = await measured(target.pid, () => workflows.restore({ backupId: backup.backupId, target: restoreTarget }));
        if (!report.validation.ok) throw new Error(`restore not validated: ${JSON.stringify(report.validation.checks)}`);
        validation = report.validation.checks.map((c) => c.name).join(', ');
        const restored = await rowsOf(targetControl, onTarget.partitions.map((p) => p.database));
        if (restored !== sourceRows) throw new Error(`our restore holds ${restored}, the source ${sourceRows}`);
        await dropDatabases(targetControl, onTarget.partitions.map((p) => p.database));
        log(`round ${round}: our restore ${(ms / 1000).toFixed(1)} s`);
        if (ms < restore.ms) restore = { ms, cpu, phases: phases(logger.marks, started, started + ms, RESTORE_MARKS) };
      };
      const tool = async () => {
        const [, ms, cpu] = await measured(target.pid, () => sh(`myloader --host ${target.host} --port ${target.port} --user root --directory ${mydumperDir} --threads ${THREADS} --enable-binlog`));
        const loaded = await rowsOf(targetControl, databases);
        if (loaded !== sourceRows) throw new Error(`myloader's restore holds ${loaded}, the source ${sourceRows}`);
        await dropDatabases(targetControl, databases);
        log(`round ${round}: myloader ${(ms / 1000).toFixed(1)} s`);
        if (ms < myloader.ms) myloader = { ms, cpu };
      };
      if (round % 2 === 1) { await tool(); await ours(); } else { await ours(); await tool(); }
    }

    const results = {
      megabytes, rounds, partitions: PARTITIONS, threads: THREADS, trips, documentBytes, innodbBytes, rows: sourceRows, fillMs,
      backup, mydumper, restore, myloader, validation, backupMarks: BACKUP_MARKS, restoreMarks: RESTORE_MARKS,
      backupRatio: mydumper.ms / backup.ms, restoreRatio: myloader.ms / restore.ms, loadAverage: os.loadavg(), cpus: os.cpus().length,
    };
    await mkdir(path.dirname(RESULTS_FILE), { recursive: true });
    await writeFile(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
    const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    const cpu = (run: Run, who: 'ours' | 'tools') => (run.cpu ? `${run.cpu[who].toFixed(1)} + ${run.cpu.server.toFixed(1)} s` : '');
    const split = (values: number[] | undefined) => `${(values ?? []).map((ms) => (ms / 1000).toFixed(1)).join(' / ')} s`;
    const best = rounds > 1 ? `, best of ${rounds}` : '';
    return [
      { metric: `data: ${PARTITIONS} partitions on one server (${sourceRows})`, value: `${(documentBytes / MB).toFixed(0)} MB of documents` },
      { metric: 'data: InnoDB size of the partitions (data + indexes)', value: `${(innodbBytes / MB).toFixed(0)} MB` },
      { metric: `full backup, ours: the whole workflow (read view, dump, validate, manifest) / mydumper --threads ${THREADS} --compress${best}`, value: `${s(backup.ms)} / ${s(mydumper.ms)}` },
      { metric: 'full backup speed ratio (mydumper / ours)', value: results.backupRatio.toFixed(2), goal: '≥ 1.00', ok: results.backupRatio >= 1 },
      { metric: 'full backup CPU: ours (this process) + server / mydumper + server', value: `${cpu(backup, 'ours')} / ${cpu(mydumper, 'tools')}` },
      { metric: 'full backup, ours, phases: to partitions dumped / validate + manifest / rest', value: split(backup.phases) },
      { metric: 'stored: ours (zstd chunks)', value: `${(backup.bytes / MB).toFixed(1)} MB` },
      { metric: `restore, ours: start → validated (${validation}) / myloader --threads ${THREADS} --enable-binlog${best}`, value: `${s(restore.ms)} / ${s(myloader.ms)}` },
      { metric: 'restore speed ratio (myloader / ours)', value: results.restoreRatio.toFixed(2), goal: '≥ 1.20', ok: results.restoreRatio >= 1.2 },
      { metric: 'restore CPU: ours (this process) + target server / myloader + target server', value: `${cpu(restore, 'ours')} / ${cpu(myloader, 'tools')}` },
      { metric: 'restore, ours, phases: to loaded and checked / validate + report / rest', value: split(restore.phases) },
      { metric: 'load average (1 min) at the end / cores', value: `${os.loadavg()[0].toFixed(1)} / ${os.cpus().length}` },
    ];
  } finally {
    for (const connection of connections) await connection.end().catch(() => undefined);
    await stopAll();
    await rm(work, { recursive: true, force: true });
  }
}

export const docstoreBench: Bench = { name: 'docstore', run: runDocstoreBench };
