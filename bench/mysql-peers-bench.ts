/**
 * The MySQL logical path against mydumper/myloader, the parallel logical tools users who care
 * about speed run instead (Debian 12 ships 0.10; installed here if missing) — side by side on the
 * same server and data, in one run, each side's wall time as a user sees it:
 *
 * - `dbbackup backup mysql` (a process: the CLI starting, the state machine, dump, the validate
 *   step, manifest) vs `mydumper --threads 2 --compress` — goal ≥ 1.0×;
 * - `dbbackup restore` (download, load, index builds, restore validation — the read-back done as
 *   each table or key range is loaded) vs `myloader --threads 2`
 *   — goal ≥ 1.2×; both at myloader's default of keeping the restore out of the target's binary
 *   log (ours: `"binlog": false`, its default being to write it);
 *
 * at equal threads (2 — this machine's cores) and with compression on both sides, on three data
 * shapes: a few tables of small rows, one table of wide rows and BLOBs, a schema of 1 000 small
 * tables; and, without goals, the first shape again at four times the size (our fixed costs — the
 * CLI starting, the steps around the dump — weigh less there). Where our time goes is printed
 * beside it: the CLI loading, then each step as its handler logs it (`step returned`, the CLI's
 * own log at `--log-level info`), then the rest; and inside the restore's apply step, when its
 * downloads, tables and rows (loaded and read back) were done. And for each side, the CPU seconds
 * its run cost the tool (with everything it ran) and the server: on two cores, a side whose sum
 * over its wall time is well under two left the machine partly idle, waiting on something else
 * (the sum leaves out the kernel's writing and the server's flushing after the run: at most that
 * much was idle).
 *
 * Each side runs three times (BENCH_MYSQL_PEERS_ROUNDS), in turns that alternate which goes first
 * (ours, theirs, then theirs, ours, …), and its fastest run counts; before each run every server
 * has written out its dirty pages (the fill's, the last restore's), and both tools were run once beforehand — so that neither side pays
 * for the fill, for the other side's writes or for starting from a cold disk cache (our CLI's first
 * start there took 1.0 s, later ones 0.4 s; run once each, whichever ran first paid).
 *
 * Size: BENCH_MYSQL_PEERS_MB (default 256) MB of table data per shape (the 1 000 tables hold a
 * tenth of it, the scaled shape four times it). Results go to bench/results/mysql-peers.json.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import mysql, { type Connection } from 'mysql2/promise';
import { ensureDebianPackages } from '../core/host/debian-packages';
import type { Bench, BenchRow } from './run';
import { benchServers } from './bench-servers';
import type { RunningServer } from '../drivers/mysql/shared/local-server';
import { asRoot, dbbackup, dropDatabase, rowCounts, type Ran } from './cli-run';
import { measured, type Cpu } from './probes';
import { sh } from './timing';

const MB = 1e6;
const THREADS = 2;
const REPO_ROOT = path.resolve(__dirname, '..');
const RESULTS_FILE = path.join(REPO_ROOT, 'bench', 'results', 'mysql-peers.json');

/** A data shape: its database and how to fill it with about `megabytes` MB. */
interface Shape {
  name: string;
  database: string;
  fill(connection: Connection, database: string, megabytes: number): Promise<void>;
  /**
   * Times the bench's size it is filled with, and then its ratios are reported without goals: how
   * the comparison goes once fixed costs (our CLI's start, the steps around the dump) weigh less.
   */
  scale?: number;
}

/** Four tables of 250-byte rows, about `megabytes` MB of them. */
async function fillRows(c: Connection, db: string, megabytes: number): Promise<void> {
  const rows = Math.ceil((megabytes * MB) / 250 / 4);
  for (let t = 1; t <= 4; t += 1) {
    await c.query(`CREATE TABLE ${db}.t${t} (id INT PRIMARY KEY, a INT NOT NULL, b VARCHAR(80) NOT NULL, c DOUBLE NULL, d DATETIME NOT NULL, pad CHAR(120) NOT NULL, KEY by_a (a)) ENGINE=InnoDB`);
    await c.query(`INSERT INTO ${db}.t${t} SELECT seq, seq * 7 MOD 100000, MD5(seq), IF(seq MOD 5 = 0, NULL, seq / 3), '2026-01-01' + INTERVAL seq SECOND, REPEAT(CHAR(65 + seq MOD 26), 120) FROM seq_1_to_${rows}`);
  }
}

const SHAPES: Shape[] = [
  { name: '4 tables of 250-byte rows', database: 'peers_rows', fill: fillRows },
  {
    name: '1 table of wide rows and BLOBs',
    database: 'peers_blobs',
    async fill(c, db, megabytes) {
      const rows = Math.ceil((megabytes * MB) / 11_500);
      await c.query(`CREATE TABLE ${db}.documents (id BIGINT PRIMARY KEY, title VARCHAR(200) NOT NULL, tags TEXT, meta JSON, thumbnail BLOB, payload MEDIUMBLOB, updated TIMESTAMP(6) NOT NULL, KEY by_title (title)) ENGINE=InnoDB`);
      await c.query(`INSERT INTO ${db}.documents SELECT seq, CONCAT('Dokument №', seq, ' — ', MD5(seq)), REPEAT(CONCAT('tag', seq MOD 97, ','), 20),
        JSON_OBJECT('n', seq, 'owner', CONCAT('user', seq MOD 1000), 'ok', seq MOD 2 = 0), RANDOM_BYTES(1000),
        CONCAT(RANDOM_BYTES(1024), RANDOM_BYTES(1024), REPEAT(UNHEX(MD5(seq)), 500)), TIMESTAMP'2026-01-01 00:00:00' + INTERVAL seq SECOND FROM seq_1_to_${rows}`);
    },
  },
  {
    name: '1 000 small tables',
    database: 'peers_many',
    async fill(c, db, megabytes) {
      const rows = Math.max(1, Math.ceil((megabytes * MB) / 10 / 1000 / 120));
      for (let t = 1; t <= 1000; t += 1) {
        // Columns of its own, as the tables of a real schema have (a client may cache per shape of result).
        await c.query(`CREATE TABLE ${db}.t${String(t).padStart(4, '0')} (id INT PRIMARY KEY, name_${t} VARCHAR(60) NOT NULL, amount_${t} DECIMAL(12,2), at_${t} DATETIME NOT NULL) ENGINE=InnoDB`);
        await c.query(`INSERT INTO ${db}.t${String(t).padStart(4, '0')} SELECT seq, CONCAT('name ', seq, ' ', MD5(seq)), seq / 7, '2026-01-01' + INTERVAL seq MINUTE FROM seq_1_to_${rows}`);
      }
    },
  },
  { name: '4 tables of 250-byte rows, 4× the data', database: 'peers_rows_x4', fill: fillRows, scale: 4 },
];

/**
 * Where a run's time went: the CLI loading (its start to its first log line, less that line's
 * step), each step (the durations its handler logs, a step's invocations summed), and the rest (the
 * state machine between steps, the exit).
 */
function phases(run: Ran): Array<[string, number]> {
  // The first line is often the first step's `step returned`: its time is that step's, not the CLI's.
  const first = run.logs[0];
  const loading = first ? first.at - (first.message === 'step returned' ? first.ms ?? 0 : 0) : run.ms;
  const steps = new Map<string, number>();
  for (const entry of run.logs) {
    if (entry.message === 'step returned' && entry.step && entry.ms !== undefined) steps.set(entry.step, (steps.get(entry.step) ?? 0) + entry.ms);
  }
  const inSteps = [...steps.values()].reduce((sum, ms) => sum + ms, 0);
  return [['CLI start', loading], ...[...steps].map(([step, ms]): [string, number] => [step.replace(/^(backup|restore)-/, ''), ms]), ['rest', Math.max(0, run.ms - loading - inSteps)]];
}

/**
 * Inside the restore's apply step, when each part was done, counted from the step's start: the
 * downloads (which run beside the rest unless `force`), the tables created, the rows loaded and
 * read back (each table or key range read back as soon as it is in).
 */
function restoreTimeline(run: Ran): Array<[string, number]> {
  const at = (message: string) => run.logs.find((entry) => entry.message === message)?.ms;
  return ([['downloaded', at('mysql restore: downloaded')], ['tables created', at('mysql restore: tables created')], ['rows loaded and read back', at('mysql restore: rows loaded')]] as Array<[string, number | undefined]>)
    .filter((entry): entry is [string, number] => entry[1] !== undefined);
}

const fmtPhases = (list: Array<[string, number]>) => list.map(([label, ms]) => `${label} ${(ms / 1000).toFixed(1)}`).join(' / ');

/**
 * `run` with the CPU seconds it cost: the tool's process and what it ran (`tools`: our CLI, or the
 * peer's shell pipeline) and the server it worked against (`server`) — where a side's time went
 * when the machine, not the tool, is the limit.
 */
function withCpu<T extends { ms: number }>(server: RunningServer, run: () => Promise<T>): () => Promise<T & { cpu: Cpu }> {
  return async () => {
    const [value, , cpu] = await measured(server.pid, run);
    return { ...value, cpu };
  };
}

/** `client + server` CPU seconds of a run. */
const fmtCpu = (cpu: Cpu) => `${cpu.tools.toFixed(1)} + ${cpu.server.toFixed(1)}`;
/** A run's CPU seconds as the results file keeps them: the tool's (`client`) and the server's. */
const sides = (cpu: Cpu) => ({ client: cpu.tools, server: cpu.server });

/** How long {@link settle} waits for a server's dirty pages at most. */
const SETTLE_MS = 120_000;

/** Waits until each server has written out its dirty pages (at most {@link SETTLE_MS}): a run should not pay for the last one's writes, nor for the fill's. */
async function settle(servers: RunningServer[]): Promise<void> {
  for (const server of servers) {
    await asRoot(server, async (c) => {
      await c.query('SET GLOBAL innodb_max_dirty_pages_pct = 0'); // the page cleaner writes them out now, not at its idle pace
      for (const started = Date.now(); Date.now() - started < SETTLE_MS; await new Promise((resolve) => setTimeout(resolve, 200))) {
        const [[dirty]] = await c.query("SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_pages_dirty'") as [Array<{ Value: string }>, unknown];
        if (Number(dirty.Value) === 0) break;
      }
    });
  }
}

/**
 * How many times each side runs per comparison (BENCH_MYSQL_PEERS_ROUNDS, default 3): with two, the
 * wide-rows shape's ratios moved by a quarter from one bench to the next on the same machine
 * (backup 0.77–1.26, restore 1.02–1.32), both tools' times swinging alike.
 */
const ROUNDS = Math.max(1, Number(process.env.BENCH_MYSQL_PEERS_ROUNDS) || 3);

/**
 * Each side run {@link ROUNDS} times, in turns that alternate which goes first (ours, theirs;
 * theirs, ours; …), every server settled before each run: the fastest run of each side.
 */
async function fastestRuns<A extends { ms: number }, B extends { ms: number }>(servers: RunningServer[], ours: () => Promise<A>, theirs: () => Promise<B>): Promise<[A, B]> {
  const runs: { ours: A[]; theirs: B[] } = { ours: [], theirs: [] };
  const run = async (side: 'ours' | 'theirs') => {
    await settle(servers);
    if (side === 'ours') runs.ours.push(await ours());
    else runs.theirs.push(await theirs());
  };
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const side of round % 2 === 0 ? ['ours', 'theirs'] as const : ['theirs', 'ours'] as const) await run(side);
  }
  const faster = <T extends { ms: number }>(list: T[]) => list.reduce((best, r) => (r.ms < best.ms ? r : best));
  return [faster(runs.ours), faster(runs.theirs)];
}

async function runPeersBench(): Promise<BenchRow[]> {
  const megabytes = Number(process.env.BENCH_MYSQL_PEERS_MB) || 256;
  const log = (line: string) => process.stdout.write(`  ${line}\n`);
  ensureDebianPackages(['mariadbd', 'mariadb-install-db', 'mariadb'], ['mariadb-server', 'mariadb-client'], log);
  ensureDebianPackages(['mydumper', 'myloader'], ['mydumper'], log);
  const work = await mkdtemp(path.join(os.tmpdir(), 'dbbackup-mysql-peers-'));
  const { start, stopAll } = benchServers(work);
  try {
    const [source, oursTarget, toolTarget] = [await start('source', 1), await start('ours', 2), await start('tool', 3)];
    const control = await mysql.createConnection({ host: source.host, port: source.port, user: 'root', charset: 'utf8mb4' });
    const store = path.join(work, 'store');
    const rows: BenchRow[] = [];
    const results: Record<string, unknown>[] = [];
    // Both tools run once before anything is timed: neither's first timed run loads it from disk.
    await dbbackup(store, ['--version']);
    await sh('mydumper --version && myloader --version');
    const servers = [source, oursTarget, toolTarget];
    try {
      for (const shape of SHAPES) {
        await control.query(`CREATE DATABASE ${shape.database} CHARACTER SET utf8mb4`);
        await control.query(`USE ${shape.database}`);
        await shape.fill(control, shape.database, megabytes * (shape.scale ?? 1));
        const [tables] = await control.query({ sql: 'SELECT table_name FROM information_schema.tables WHERE table_schema = ?', values: [shape.database], rowsAsArray: true }) as [string[][], unknown];
        await control.query(`ANALYZE TABLE ${tables.map(([t]) => `${shape.database}.${t}`).join(', ')}`); // sizes as they are, not as last sampled
        const [[size]] = await control.query('SELECT SUM(data_length) AS data, SUM(index_length) AS indexes, COUNT(*) AS tables FROM information_schema.tables WHERE table_schema = ?', [shape.database]) as [Array<{ data: string; indexes: string; tables: number }>, unknown];
        log(`${shape.name}: ${(Number(size.data) / MB).toFixed(0)} MB of table data, ${(Number(size.indexes) / MB).toFixed(0)} MB of secondary indexes, ${size.tables} tables`);

        const address = { host: source.host, port: source.port, user: 'root', password: '' };
        const dumpDir = path.join(work, `mydumper-${shape.database}`);
        const [ours, { ms: toolMs, cpu: toolCpu }] = await fastestRuns(
          servers,
          withCpu(source, () => dbbackup(store, ['backup', 'mysql', '--instance', shape.database, '--config', JSON.stringify({ ...address, databases: [shape.database], parallelism: THREADS })])),
          async () => {
            await rm(dumpDir, { recursive: true, force: true });
            return withCpu(source, async () => ({ ms: await sh(`mydumper --host ${source.host} --port ${source.port} --user root --database ${shape.database} --threads ${THREADS} --compress --outputdir ${dumpDir}`) }))();
          },
        );
        const backupId = (JSON.parse(ours.stdout) as { backupId: string }).backupId;

        // myloader leaves its restore out of the binary log unless --enable-binlog: ours the same.
        // Both sides do the whole job each time, or the comparison means nothing.
        const expected = await rowCounts(source, shape.database);
        const checked = async <T>(side: string, server: RunningServer, restore: () => Promise<T>): Promise<T> => {
          await dropDatabase(server, shape.database);
          const restored = await restore();
          if (await rowCounts(server, shape.database) !== expected) throw new Error(`${shape.name}: the ${side} restore does not hold every table's rows`);
          return restored;
        };
        const target = { host: oursTarget.host, port: oursTarget.port, user: 'root', password: '', parallelism: THREADS, binlog: false };
        const [oursRestore, { ms: toolRestoreMs, cpu: toolRestoreCpu }] = await fastestRuns(
          servers,
          () => checked('ours', oursTarget, withCpu(oursTarget, () => dbbackup(store, ['restore', backupId, '--target', JSON.stringify(target)]))),
          () => checked('myloader', toolTarget, withCpu(toolTarget, async () => ({ ms: await sh(`myloader --host ${toolTarget.host} --port ${toolTarget.port} --user root --directory ${dumpDir} --threads ${THREADS} --overwrite-tables`) }))),
        );
        await rm(dumpDir, { recursive: true, force: true });

        const goal = (text: string, ok: boolean): Pick<BenchRow, 'goal' | 'ok'> => (shape.scale === undefined ? { goal: text, ok } : {});
        const backupRatio = toolMs / ours.ms;
        const restoreRatio = toolRestoreMs / oursRestore.ms;
        const backupPhases = phases(ours);
        const restorePhases = phases(oursRestore);
        log(`${shape.name}: backup ours ${(ours.ms / 1000).toFixed(1)} s, mydumper ${(toolMs / 1000).toFixed(1)} s; restore ours ${(oursRestore.ms / 1000).toFixed(1)} s, myloader ${(toolRestoreMs / 1000).toFixed(1)} s`);
        results.push({ shape: shape.name, dataBytes: Number(size.data), tables: size.tables, backupMs: ours.ms, mydumperMs: toolMs, restoreMs: oursRestore.ms, myloaderMs: toolRestoreMs, backupRatio, restoreRatio, backupPhases, restorePhases, restoreApplyTimeline: restoreTimeline(oursRestore),
          cpuSeconds: { backup: { ours: sides(ours.cpu), mydumper: sides(toolCpu) }, restore: { ours: sides(oursRestore.cpu), myloader: sides(toolRestoreCpu) } } });
        rows.push(
          { metric: `${shape.name}: data`, value: `${(Number(size.data) / MB).toFixed(0)} MB` },
          { metric: `${shape.name}: dbbackup backup / mydumper -t ${THREADS} -c`, value: `${(ours.ms / 1000).toFixed(1)} / ${(toolMs / 1000).toFixed(1)} s` },
          { metric: `${shape.name}: backup speed ratio (mydumper / ours)`, value: backupRatio.toFixed(2), ...goal('≥ 1.00', backupRatio >= 1) },
          { metric: `${shape.name}: backup, ours, phases (s)`, value: fmtPhases(backupPhases) },
          { metric: `${shape.name}: backup CPU (s), client + server: ours / mydumper`, value: `${fmtCpu(ours.cpu)} / ${fmtCpu(toolCpu)}` },
          { metric: `${shape.name}: dbbackup restore / myloader -t ${THREADS}`, value: `${(oursRestore.ms / 1000).toFixed(1)} / ${(toolRestoreMs / 1000).toFixed(1)} s` },
          { metric: `${shape.name}: restore speed ratio (myloader / ours)`, value: restoreRatio.toFixed(2), ...goal('≥ 1.20', restoreRatio >= 1.2) },
          { metric: `${shape.name}: restore, ours, phases (s)`, value: fmtPhases(restorePhases) },
          { metric: `${shape.name}: restore CPU (s), client + server: ours / myloader`, value: `${fmtCpu(oursRestore.cpu)} / ${fmtCpu(toolRestoreCpu)}` },
          { metric: `${shape.name}: restore, ours, apply step's parts done at (s)`, value: fmtPhases(restoreTimeline(oursRestore)) },
        );
        for (const server of [oursTarget, toolTarget]) await dropDatabase(server, shape.database);
        await control.query(`DROP DATABASE ${shape.database}`);
      }
    } finally {
      await control.end();
    }
    await mkdir(path.dirname(RESULTS_FILE), { recursive: true });
    await writeFile(RESULTS_FILE, `${JSON.stringify({ megabytes, threads: THREADS, shapes: results, loadAverage: os.loadavg(), cpus: os.cpus().length }, null, 2)}\n`);
    return rows;
  } finally {
    await stopAll();
    await rm(work, { recursive: true, force: true });
  }
}

export const mysqlPeersBench: Bench = { name: 'mysql-peers', run: runPeersBench };
