/**
 * Schemaless benchmark (issue 14), side by side with the standard tools on the same data in one
 * run (ratios, not absolute times), on a throwaway MariaDB holding eight shards of cells
 * (schemaless-bench-data.ts: JSON profiles indexed by email, binary avatars, buffered writes):
 *
 * - full backup: our backup workflow (read view, watermarks and cell summaries, dump of cells,
 *   index and buffered-writes tables, validation, manifest; into a local directory store) vs
 *   `mariadb-dump --single-transaction --databases <shards> | gzip > file` — goal ≥ 1.5×; `gzip -1`
 *   beside it for information;
 * - incremental after 1 % new cells: its stored bytes ≤ 2 % of the full backup's, its time
 *   ≤ 10 % of the full backup's (goals);
 * - restore of the full backup, start → validated (summaries, byte-exact rows, index integrity
 *   across shards) vs `gunzip < file | mariadb`, each into empty databases of a second server —
 *   goal ≥ 1.5×. The dump names the source databases, so it cannot load beside them on the source
 *   server without being rewritten; both sides restore onto the same second server, emptied in
 *   between;
 * - the parallel tools users who care about speed run instead (issue 15): `mydumper --threads 2
 *   --compress` of the same shards (goal ≥ 1.0×) and `myloader --threads 2 --enable-binlog` of its
 *   dump (goal ≥ 1.2×; the binary log on, as ours and `mariadb` write it).
 *
 * Then, for the analysis of where our time goes, the parts of our work that read every body on the
 * server, timed alone on the source: the cell summaries (SHA2 of every body, taken by every backup
 * of the whole table, incrementals too), the cell tables' row digests and the index check (both
 * in the restore's validation).
 *
 * Size: SCHEMALESS_BENCH_MB (default 1024) MB of cell bodies; SCHEMALESS_BENCH_ROUNDS (default 1)
 * alternating rounds of the backup and restore comparisons, the best of each counting (each round
 * of ours a fresh instance). Results go to bench/results/schemaless.json; BENCH_LOG=info (or debug)
 * writes the steps' log lines to stderr.
 */
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createGunzip } from 'node:zlib';
import mysql, { type Connection } from 'mysql2/promise';
import { ensureDebianPackages } from '../core/host/debian-packages';
import { onFreePorts } from '../core/host/ports';
import { openDataConnection, quoteId } from '../drivers/mysql/shared/connection';
import { startLocalMariaDb, type RunningServer } from '../drivers/mysql/shared/local-server';
import { digestTable } from '../drivers/mysql/shared/table-reader';
import { summariseCells } from '../drivers/schemaless/cell-summary';
import { readCellTable } from '../drivers/schemaless/cell-table-read';
import { checkIndexes } from '../drivers/schemaless/index-check';
import { DEFAULT_PER_SERVER, mapShards } from '../drivers/mysql/sharded/shard-lanes';
import { SAMPLE_INDEX, createSampleShards, sampleConfig } from '../drivers/schemaless/sample-store';
import { benchWorkflows, measured, phases, type Run } from './probes';
import type { Bench, BenchRow } from './run';
import { AVERAGE_BODY_BYTES, fillCells } from './schemaless-bench-data';
import { sh, timed } from './timing';

const MB = 1e6;
const REPO_ROOT = path.resolve(__dirname, '..');
const RESULTS_FILE = path.join(REPO_ROOT, 'bench', 'results', 'schemaless.json');
const SHARDS = 8;

/** Where a backup's phases end: the read view open, the server's shards summarised and dumped, the manifest written. */
const BACKUP_MARKS = ['mysql backup: lock released', 'schemaless backup: server done', 'backup complete'];
/** Where a restore's phases end: every shard loaded, the indexes made whole, the report written. */
const RESTORE_MARKS = ['schemaless restore: shards loaded', 'schemaless restore: loaded', 'restore finished'];

/** Starts a throwaway MariaDB in `dir` on a free port. */
function startServer(dir: string, serverId: number): Promise<RunningServer> {
  return onFreePorts(1, ([port], attempt) => startLocalMariaDb({ dir: path.join(dir, `a${attempt}`), port, serverId }));
}

const connect = (server: RunningServer) => mysql.createConnection({ host: server.host, port: server.port, user: 'root', charset: 'utf8mb4', multipleStatements: true });

async function scalar(connection: Connection, sql: string): Promise<number> {
  const [rows] = await connection.query({ sql, rowsAsArray: true });
  return Number((rows as unknown[][])[0][0] ?? 0);
}

/** Rows and InnoDB bytes (data + indexes) of the databases `like` matches. */
async function sizeOf(connection: Connection, like: string): Promise<{ cells: number; innodbBytes: number }> {
  const innodbBytes = await scalar(connection, `SELECT SUM(data_length + index_length) FROM information_schema.tables WHERE table_schema LIKE '${like}'`);
  const [rows] = await connection.query({ sql: `SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE '${like}'`, rowsAsArray: true });
  let cells = 0;
  for (const [name] of rows as string[][]) cells += await scalar(connection, `SELECT COUNT(*) FROM ${quoteId(name)}.cell`);
  return { cells, innodbBytes };
}

/** Bytes of `file` gunzipped. */
async function gunzippedBytes(file: string): Promise<number> {
  let bytes = 0;
  for await (const chunk of createReadStream(file).pipe(createGunzip())) bytes += (chunk as Buffer).length;
  return bytes;
}

async function dropDatabases(connection: Connection, databases: readonly string[]): Promise<void> {
  for (const database of databases) await connection.query(`DROP DATABASE IF EXISTS ${quoteId(database)}`);
}

async function runSchemalessBench(): Promise<BenchRow[]> {
  const megabytes = Number(process.env.SCHEMALESS_BENCH_MB) || 1024;
  const rounds = Number(process.env.SCHEMALESS_BENCH_ROUNDS) || 1;
  const log = (line: string) => process.stdout.write(`  ${line}\n`);
  ensureDebianPackages(['mariadbd', 'mariadb-install-db', 'mariadb', 'mariadb-dump'], ['mariadb-server', 'mariadb-client'], log);
  ensureDebianPackages(['mydumper', 'myloader'], ['mydumper'], log);

  const work = await mkdtemp(path.join(os.tmpdir(), 'dbbackup-schemaless-bench-'));
  const servers: RunningServer[] = [];
  const connections: Connection[] = [];
  const { workflows, logger } = await benchWorkflows(work);
  try {
    servers.push(await startServer(path.join(work, 'source'), 1), await startServer(path.join(work, 'target'), 2));
    const [source, target] = servers;
    const config = sampleConfig([{ name: 'sl-1', host: source.host, port: source.port }], SHARDS, 'sl');
    const databases = config.shards.map((s) => s.database);
    const onTarget = sampleConfig([{ name: 'restored', host: target.host, port: target.port }], SHARDS, 'restored');
    const restoreTarget = { servers: onTarget.servers, shards: onTarget.shards };
    await createSampleShards(config);
    const control = await connect(source);
    const targetControl = await connect(target);
    const filler = await connect(source);
    connections.push(control, targetControl, filler);

    // ~megabytes of cell bodies, generated by the server on two connections (two cores).
    const cells = Math.ceil((megabytes * MB) / AVERAGE_BODY_BYTES);
    log(`filling ${SHARDS} shards with ${cells} cells (~${megabytes} MB of bodies), server-side`);
    const [bodyBytes, fillMs] = await timed(() => fillCells([control, filler], databases, 1, cells));
    await control.query(`ANALYZE TABLE ${databases.map((d) => `${quoteId(d)}.cell`).join(', ')}`);
    const sourceSize = await sizeOf(control, 'sl\\_%');
    const rowsOf = (table: string) => scalar(control, `SELECT SUM(n) FROM (${databases.map((d) => `SELECT COUNT(*) AS n FROM ${quoteId(d)}.${quoteId(table)}`).join(' UNION ALL ')}) AS t`);
    const indexEntries = await rowsOf(SAMPLE_INDEX.table);
    const buffered = await rowsOf('buffered_writes');
    log(`filled in ${(fillMs / 1000).toFixed(1)} s: ${sourceSize.cells} cells, ${(bodyBytes / MB).toFixed(0)} MB of bodies, ${indexEntries} index entries, ${buffered} buffered writes`);

    // Full backup: rounds alternating which side goes first; the best of each counts.
    const dumpFile = path.join(work, 'dump.sql.gz');
    const dumpFast = path.join(work, 'dump-1.sql.gz');
    const dump = (file: string, gzip: string) => measured(source.pid, () => sh(`mariadb-dump --single-transaction --databases ${databases.join(' ')} -h ${source.host} -P ${source.port} -u root | ${gzip} > ${file}`));
    let tool: Run = { ms: Infinity };
    let toolFast: Run = { ms: Infinity };
    let parallelTool: Run = { ms: Infinity };
    const mydumperDir = path.join(work, 'mydumper');
    const mydumper = () => measured(source.pid, () => sh(`rm -rf ${mydumperDir} && mydumper --host ${source.host} --port ${source.port} --user root `
      + `--regex '^(${databases.join('|')})\\.' --threads 2 --compress --outputdir ${mydumperDir}`));
    let full: Run & { backupId: string; instance: string; bytes: number } = { ms: Infinity, backupId: '', instance: '', bytes: 0 };
    for (let round = 1; round <= rounds; round += 1) {
      const ours = async () => {
        const instance = `bench-${round}`;
        const started = Date.now();
        const [summary, ms, cpu] = await measured(source.pid, () => workflows.backup({ engine: 'schemaless', instance, config }));
        if (!summary.validation.ok) throw new Error(`backup ${summary.backupId} not validated`);
        log(`round ${round}: ours ${(ms / 1000).toFixed(1)} s (${(summary.bytes / MB).toFixed(1)} MB stored)`);
        if (ms < full.ms) full = { ms, cpu, phases: phases(logger.marks, started, started + ms, BACKUP_MARKS), backupId: summary.backupId, instance, bytes: summary.bytes };
      };
      const tools = async () => {
        const [, ms, cpu] = await dump(dumpFile, 'gzip');
        const [, fastMs, fastCpu] = await dump(dumpFast, 'gzip -1');
        const [, parallelMs, parallelCpu] = await mydumper();
        log(`round ${round}: mariadb-dump | gzip ${(ms / 1000).toFixed(1)} s, | gzip -1 ${(fastMs / 1000).toFixed(1)} s, mydumper ${(parallelMs / 1000).toFixed(1)} s`);
        if (ms < tool.ms) tool = { ms, cpu };
        if (fastMs < toolFast.ms) toolFast = { ms: fastMs, cpu: fastCpu };
        if (parallelMs < parallelTool.ms) parallelTool = { ms: parallelMs, cpu: parallelCpu };
      };
      if (round % 2 === 1) { await tools(); await ours(); } else { await ours(); await tools(); }
    }
    const dumpBytes = (await stat(dumpFile)).size;
    const dumpFastBytes = (await stat(dumpFast)).size;
    const dumpPlain = await gunzippedBytes(dumpFile);

    // Restore of the full backup, ours (start → validated) vs gunzip | mariadb, onto the second server.
    let restore: Run = { ms: Infinity };
    let toolRestore: Run = { ms: Infinity };
    let parallelToolRestore: Run = { ms: Infinity };
    let validation = '';
    for (let round = 1; round <= rounds; round += 1) {
      const ours = async () => {
        const started = Date.now();
        const [report, ms, cpu] = await measured(target.pid, () => workflows.restore({ backupId: full.backupId, target: restoreTarget }));
        if (!report.validation.ok) throw new Error(`restore not validated: ${JSON.stringify(report.validation.checks)}`);
        validation = report.validation.checks.map((c) => c.name).join(', ');
        const restored = await sizeOf(targetControl, 'restored\\_%');
        if (restored.cells !== sourceSize.cells) throw new Error(`our restore holds ${restored.cells} cells, the source ${sourceSize.cells}`);
        await dropDatabases(targetControl, onTarget.shards.map((s) => s.database));
        log(`round ${round}: our restore ${(ms / 1000).toFixed(1)} s`);
        if (ms < restore.ms) restore = { ms, cpu, phases: phases(logger.marks, started, started + ms, RESTORE_MARKS) };
      };
      const tools = async () => {
        const [, ms, cpu] = await measured(target.pid, () => sh(`gunzip < ${dumpFile} | mariadb -h ${target.host} -P ${target.port} -u root`));
        const restored = await sizeOf(targetControl, 'sl\\_%');
        if (restored.cells !== sourceSize.cells) throw new Error(`the dump's restore holds ${restored.cells} cells, the source ${sourceSize.cells}`);
        await dropDatabases(targetControl, databases);
        log(`round ${round}: gunzip | mariadb ${(ms / 1000).toFixed(1)} s`);
        if (ms < toolRestore.ms) toolRestore = { ms, cpu };
        const [, parallelMs, parallelCpu] = await measured(target.pid, () => sh(`myloader --host ${target.host} --port ${target.port} --user root --directory ${mydumperDir} --threads 2 --enable-binlog`));
        const loaded = await sizeOf(targetControl, 'sl\\_%');
        if (loaded.cells !== sourceSize.cells) throw new Error(`myloader's restore holds ${loaded.cells} cells, the source ${sourceSize.cells}`);
        await dropDatabases(targetControl, databases);
        log(`round ${round}: myloader ${(parallelMs / 1000).toFixed(1)} s`);
        if (parallelMs < parallelToolRestore.ms) parallelToolRestore = { ms: parallelMs, cpu: parallelCpu };
      };
      if (round % 2 === 1) { await tools(); await ours(); } else { await ours(); await tools(); }
    }

    // Incremental after 1 % new cells (server-side again), extending the best full backup.
    const added = Math.ceil(cells / 100);
    log(`adding ${added} cells (1 %), then our incremental backup`);
    await fillCells([control, filler], databases, cells + 1, cells + added);
    const incrementalStarted = Date.now();
    const [incremental, incrementalMs, incrementalCpu] = await measured(source.pid, () => workflows.backup({ engine: 'schemaless', instance: full.instance, config, incremental: true }));
    if (incremental.extends !== full.backupId) throw new Error(`the incremental extends ${incremental.extends ?? 'nothing'}, not ${full.backupId}`);
    const incrementalPhases = phases(logger.marks, incrementalStarted, incrementalStarted + incrementalMs, BACKUP_MARKS);

    // The parts of our work that read every body server-side, alone on the source (after the runs).
    log('timing the parts that read every body: summaries, row digests, index check');
    const data = await Promise.all(databases.map(() => openDataConnection(config.servers[0])));
    connections.push(...data);
    const [, summariesMs] = await timed(() => Promise.all(databases.map((database, i) => summariseCells(data[i], { database, table: 'cell' }))).then(() => undefined));
    const [, summariesSerialMs] = await timed(async () => { for (const [i, database] of databases.entries()) await summariseCells(data[i], { database, table: 'cell' }); });
    const [, digestsMs] = await timed(async () => { for (const [i, database] of databases.entries()) await digestTable(data[i], { database, table: 'cell' }); });
    const [, cellReadsMs] = await timed(() => mapShards(config, config.shards, (s) => s.shard, (_, shard) => readCellTable(shard.connection, { database: shard.database, table: 'cell' })).then(() => undefined));
    const [, indexCheckMs] = await timed(() => checkIndexes(config, 'cell', config.indexes));

    const results = {
      megabytes, rounds, cells: sourceSize.cells, bodyBytes, innodbBytes: sourceSize.innodbBytes, indexEntries, buffered, fillMs,
      full, tool, toolFast, parallelTool, parallelToolRestore, dumpBytes, dumpFastBytes, dumpPlain,
      added, incremental: { ms: incrementalMs, cpu: incrementalCpu, phases: incrementalPhases, bytes: incremental.bytes }, restore, toolRestore, validation,
      backupMarks: BACKUP_MARKS, restoreMarks: RESTORE_MARKS, summariesMs, summariesSerialMs, digestsMs, cellReadsMs, indexCheckMs,
      backupRatio: tool.ms / full.ms, backupFastRatio: toolFast.ms / full.ms, restoreRatio: toolRestore.ms / restore.ms,
      mydumperRatio: parallelTool.ms / full.ms, myloaderRatio: parallelToolRestore.ms / restore.ms,
      incrementalBytesShare: incremental.bytes / full.bytes, incrementalTimeShare: incrementalMs / full.ms,
      loadAverage: os.loadavg(), cpus: os.cpus().length,
    };
    await mkdir(path.dirname(RESULTS_FILE), { recursive: true });
    await writeFile(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
    const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    const mb = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`;
    const rate = (ms: number) => `${(bodyBytes / MB / (ms / 1000)).toFixed(1)} MB/s, ${Math.round(sourceSize.cells / (ms / 1000))} cells/s`;
    const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
    const cpu = (run: Run, who: 'ours' | 'tools') => run.cpu ? `${(run.cpu[who]).toFixed(1)} + ${run.cpu.server.toFixed(1)} s` : '';
    const split = (values: number[] | undefined) => (values ?? []).map((ms) => (ms / 1000).toFixed(1)).join(' / ') + ' s';
    const best = rounds > 1 ? `, best of ${rounds}` : '';
    return [
      { metric: `data: ${sourceSize.cells} cells in ${SHARDS} shards (one server), ${indexEntries} index entries, ${buffered} buffered writes`, value: `${mb(bodyBytes)} of bodies` },
      { metric: 'data: InnoDB size of the shards (data + indexes)', value: mb(sourceSize.innodbBytes) },
      { metric: `full backup, ours: the whole workflow (read view, summaries, dump, validate, manifest)${best}`, value: s(full.ms) },
      { metric: 'full backup, ours: throughput', value: rate(full.ms) },
      { metric: `mariadb-dump --single-transaction --databases <8 shards> | gzip > file${best}`, value: s(tool.ms) },
      { metric: 'full backup speed-up (mariadb-dump | gzip / ours)', value: results.backupRatio.toFixed(2), goal: '≥ 1.50', ok: results.backupRatio >= 1.5 },
      { metric: `mariadb-dump … | gzip -1 > file${best}`, value: s(toolFast.ms) },
      { metric: 'full backup speed-up against gzip -1 (for information)', value: results.backupFastRatio.toFixed(2) },
      { metric: `mydumper --threads 2 --compress of the 8 shards${best}`, value: s(parallelTool.ms) },
      { metric: 'full backup speed-up against mydumper (mydumper / ours)', value: results.mydumperRatio.toFixed(2), goal: '≥ 1.00', ok: results.mydumperRatio >= 1 },
      { metric: 'full backup CPU: ours (this process) + server', value: cpu(full, 'ours') },
      { metric: 'full backup CPU: mariadb-dump + gzip + server (gzip -1: ' + cpu(toolFast, 'tools') + ')', value: cpu(tool, 'tools') },
      { metric: `full backup, ours, phases: to read view / summaries + dump / validate + manifest / rest`, value: split(full.phases) },
      { metric: 'stored: ours (zstd chunks of the full backup)', value: mb(full.bytes) },
      { metric: `stored: the dump | gzip (gzip -1: ${mb(dumpFastBytes)}; plain dump ${mb(dumpPlain)}, ×${(dumpPlain / dumpBytes).toFixed(2)} by gzip)`, value: mb(dumpBytes) },
      { metric: `incremental after 1 % new cells (${added}), ours: stored`, value: mb(incremental.bytes) },
      { metric: 'incremental bytes / full backup bytes', value: pct(results.incrementalBytesShare), goal: '≤ 2 %', ok: results.incrementalBytesShare <= 0.02 },
      { metric: 'incremental, ours: the whole workflow', value: s(incrementalMs) },
      { metric: 'incremental time / full backup time', value: pct(results.incrementalTimeShare), goal: '≤ 10 %', ok: results.incrementalTimeShare <= 0.1 },
      { metric: 'incremental, ours, phases: to read view / summaries + dump / validate + manifest / rest', value: split(incrementalPhases) },
      { metric: `restore of the full backup, ours: start → validated (${validation})${best}`, value: s(restore.ms) },
      { metric: 'restore, ours: throughput', value: rate(restore.ms) },
      { metric: `gunzip < dump | mariadb${best}`, value: s(toolRestore.ms) },
      { metric: 'restore speed-up (gunzip | mariadb / ours)', value: results.restoreRatio.toFixed(2), goal: '≥ 1.50', ok: results.restoreRatio >= 1.5 },
      { metric: `myloader --threads 2 --enable-binlog of mydumper's dump${best}`, value: s(parallelToolRestore.ms) },
      { metric: 'restore speed-up against myloader (myloader / ours)', value: results.myloaderRatio.toFixed(2), goal: '≥ 1.20', ok: results.myloaderRatio >= 1.2 },
      { metric: 'restore CPU: ours (this process) + target server', value: cpu(restore, 'ours') },
      { metric: 'restore CPU: gunzip + mariadb + target server', value: cpu(toolRestore, 'tools') },
      { metric: 'restore, ours, phases: to loaded (download, create, LOAD DATA) / indexes checked (repaired where wrong) / validate / rest', value: split(restore.phases) },
      { metric: 'part: cell summaries of the 8 shards (SHA2 of every body), 8 at once', value: s(summariesMs) },
      { metric: 'part: cell summaries, one shard after another (as the restore validates)', value: s(summariesSerialMs) },
      { metric: 'part: row digests of the 8 cell tables (every body to Node), one after another', value: s(digestsMs) },
      { metric: `part: one read of each cell table, row digest and summary in Node (as the restore validates), ${DEFAULT_PER_SERVER} at once`, value: s(cellReadsMs) },
      { metric: `part: index check across shards (every profile body's email read as JSON), ${DEFAULT_PER_SERVER} streams at once`, value: s(indexCheckMs) },
      { metric: 'load average (1 min) at the end / cores', value: `${os.loadavg()[0].toFixed(1)} / ${os.cpus().length}` },
    ];
  } finally {
    for (const connection of connections) await connection.end().catch(() => undefined);
    for (const server of servers) await server.stop().catch(() => undefined);
    await rm(work, { recursive: true, force: true });
  }
}

export const schemalessBench: Bench = { name: 'schemaless', run: runSchemalessBench };
