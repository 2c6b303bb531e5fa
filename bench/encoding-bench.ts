/**
 * Compression and client-side encryption (core/crypto), side by side in one run on the same data,
 * against real MariaDB servers started here (best of BENCH_ENCODING_ROUNDS alternating rounds, 3 by
 * default; BENCH_ENCODING_MB of table data, 256 by default):
 *
 * - MySQL logical through the CLI (the dump straight into the local store; its chunks zstd
 *   already, so encrypting adds the sealing only): backup and restore with `--encrypt-key` and with
 *   `--compress --encrypt-key` vs plain — goal ≥ 0.9 of the plain path's speed;
 * - a physical backup of the same server through the CLI, compressed and encrypted, vs
 *   `restic backup` of its data directory (Debian's restic: encrypted, deduplicated, compressed —
 *   repository format 2), with what each stores;
 * - a physical backup into S3 (s3rver) through the CLI, with sha256 and with compression, vs
 *   `mariabackup --stream=xbstream | rclone rcat` (Debian's rclone) to the same s3rver — goal ≥ 1.0
 *   compressed;
 * - the artifact codec (zstd level 3 + sealing, in process) vs `zstd -T0 -3` and `gzip -6` on the
 *   same bytes (the physical backup's uncompressed xbstream): MB/s and compression ratio.
 *
 * Results go to bench/results/encoding.json.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { encodingStages } from '../core/crypto/artifact-encoding';
import { ensureDebianPackages } from '../core/host/debian-packages';
import { chain } from '../core/store/transfer';
import { dbbackup, dropDatabase, rowCounts } from './cli-run';
import { startS3rver } from '../test/harness/s3rver';
import { mysqlConfigSchema } from '../drivers/mysql/config';
import { seed } from './mysql-bench';
import type { Bench, BenchRow } from './run';
import { benchServers } from './bench-servers';
import { sh, timed } from './timing';

const MB = 1e6;
const REPO_ROOT = path.resolve(__dirname, '..');
const RESULTS_FILE = path.join(REPO_ROOT, 'bench', 'results', 'encoding.json');
const DATABASE = 'encoding_bench';
const THREADS = 2;

/** The logical variants compared: the CLI's extra arguments for each. */
const VARIANTS = (keyFile: string): Array<[string, string[]]> => [
  ['plain', []],
  ['encrypted', ['--encrypt-key', `file:${keyFile}`]],
  ['compressed + encrypted', ['--compress', '--encrypt-key', `file:${keyFile}`]],
];

/** Bytes under `dir`, recursively. */
async function bytesUnder(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(path.join(entry.parentPath, entry.name))).size;
  }
  return total;
}

async function runEncodingBench(): Promise<BenchRow[]> {
  const megabytes = Number(process.env.BENCH_ENCODING_MB) || 256;
  const rounds = Number(process.env.BENCH_ENCODING_ROUNDS) || 3;
  const log = (line: string) => process.stdout.write(`  ${line}\n`);
  ensureDebianPackages(['mariadbd', 'mariadb-install-db', 'mariadb', 'mariabackup'], ['mariadb-server', 'mariadb-client', 'mariadb-backup'], log);
  ensureDebianPackages(['restic', 'zstd', 'rclone'], ['restic', 'zstd', 'rclone'], log);
  const work = await mkdtemp(path.join(os.tmpdir(), 'dbbackup-encoding-bench-'));
  const { start, stopAll } = benchServers(work);
  try {
    const [source, target] = [await start('source', 1), await start('target', 2)];
    const dataBytes = await seed(source, DATABASE, megabytes);
    const keyFile = path.join(work, 'backup.key');
    await writeFile(keyFile, randomBytes(32).toString('base64'), { mode: 0o600 });
    const store = path.join(work, 'store');
    const address = { host: source.host, port: source.port, user: 'root', password: '' };
    const expected = await rowCounts(source, DATABASE);
    log(`${(dataBytes / MB).toFixed(0)} MB of table data in ${DATABASE}`);

    // Logical: each variant backed up and restored, the variants alternating within each round.
    const best = new Map<string, { backup: number; restore: number }>();
    for (let round = 1; round <= rounds; round += 1) {
      for (const [variant, args] of VARIANTS(keyFile)) {
        const instance = `logical-${variant.replace(/\W+/g, '-')}`;
        const backup = await dbbackup(store, ['backup', 'mysql', '--instance', instance, '--config', JSON.stringify({ ...address, databases: [DATABASE], parallelism: THREADS }), ...args]);
        const { backupId } = JSON.parse(backup.stdout) as { backupId: string };
        await dropDatabase(target, DATABASE);
        const keys = args.length > 0 ? ['--key', `file:${keyFile}`] : [];
        const restore = await dbbackup(store, ['restore', backupId, '--target', JSON.stringify({ host: target.host, port: target.port, user: 'root', password: '', parallelism: THREADS, binlog: false }), ...keys]);
        if (await rowCounts(target, DATABASE) !== expected) throw new Error(`the ${variant} restore does not hold every table's rows`);
        const was = best.get(variant) ?? { backup: Infinity, restore: Infinity };
        best.set(variant, { backup: Math.min(was.backup, backup.ms), restore: Math.min(was.restore, restore.ms) });
        log(`round ${round}, ${variant}: backup ${(backup.ms / 1000).toFixed(2)} s, restore ${(restore.ms / 1000).toFixed(2)} s`);
      }
    }
    const plain = best.get('plain')!;

    // Physical, compressed and encrypted, vs restic backup of the data directory.
    const physicalConfig = JSON.stringify({ ...address, mode: 'physical', physical: { prepareCheck: false } });
    let physicalMs = Infinity;
    let resticMs = Infinity;
    let physicalStored = 0;
    let resticStored = 0;
    let physicalPlain = 0;
    for (let round = 1; round <= rounds; round += 1) {
      const physicalStore = path.join(work, 'physical-store');
      await rm(physicalStore, { recursive: true, force: true });
      const ours = await dbbackup(physicalStore, ['backup', 'mysql', '--instance', 'physical', '--config', physicalConfig, '--compress', '--encrypt-key', `file:${keyFile}`]);
      const summary = JSON.parse(ours.stdout) as { bytes: number };
      physicalMs = Math.min(physicalMs, ours.ms);
      physicalStored = await bytesUnder(physicalStore);
      physicalPlain = summary.bytes;
      const repo = path.join(work, 'restic-repo');
      await rm(repo, { recursive: true, force: true });
      const restic = `RESTIC_PASSWORD=bench RESTIC_REPOSITORY=${repo} restic`;
      await sh(`${restic} init --repository-version 2 --quiet`);
      resticMs = Math.min(resticMs, await sh(`${restic} backup --quiet ${source.dataDir}`));
      resticStored = await bytesUnder(repo);
      log(`round ${round}, physical: ours ${(ours.ms / 1000).toFixed(2)} s, restic ${(resticMs / 1000).toFixed(2)} s`);
    }

    // Physical into S3 (s3rver): ours with sha256, and compressed, vs mariabackup | rclone rcat.
    const s3 = await startS3rver('backups');
    let s3Ms = { sha256: Infinity, compressed: Infinity, rclone: Infinity };
    try {
      const env = { AWS_ENDPOINT_URL_S3: s3.endpoint, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' };
      // Without the machine's AWS_CA_BUNDLE: rclone cannot take a custom CA bundle on its plain-HTTP transport.
      const rclone = `env -u AWS_CA_BUNDLE RCLONE_CONFIG_BENCH_TYPE=s3 RCLONE_CONFIG_BENCH_PROVIDER=Other RCLONE_CONFIG_BENCH_ENDPOINT=${s3.endpoint} RCLONE_CONFIG_BENCH_ACCESS_KEY_ID=S3RVER RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY=S3RVER RCLONE_CONFIG_BENCH_REGION=us-east-1 rclone`;
      const { parallel } = mysqlConfigSchema.parse(JSON.parse(physicalConfig)).physical;
      for (let round = 1; round <= rounds; round += 1) {
        const sha = await dbbackup(`s3://backups/ours-${round}`, ['backup', 'mysql', '--instance', 'physical-s3', '--config', physicalConfig], env);
        const compressed = await dbbackup(`s3://backups/ours-z-${round}`, ['backup', 'mysql', '--instance', 'physical-s3', '--config', physicalConfig, '--compress'], env);
        const targetDir = path.join(work, `xb-${round}`);
        await mkdir(targetDir, { recursive: true });
        const tool = await sh(`mariabackup --backup --stream=xbstream --parallel=${parallel} --user=root --host=${source.host} --port=${source.port} --target-dir=${targetDir} | ${rclone} rcat bench:backups/rclone-${round}/backup.xbstream`);
        s3Ms = { sha256: Math.min(s3Ms.sha256, sha.ms), compressed: Math.min(s3Ms.compressed, compressed.ms), rclone: Math.min(s3Ms.rclone, tool) };
        log(`round ${round}, physical into s3rver: ours ${(sha.ms / 1000).toFixed(2)} s, compressed ${(compressed.ms / 1000).toFixed(2)} s, mariabackup | rclone rcat ${(tool / 1000).toFixed(2)} s`);
      }
    } finally {
      await s3.stop();
    }

    // The codec on the same bytes: a plain physical backup's xbstream.
    const plainStore = path.join(work, 'plain-physical-store');
    await dbbackup(plainStore, ['backup', 'mysql', '--instance', 'physical-plain', '--config', physicalConfig]);
    const xbstream = (await readdir(plainStore, { withFileTypes: true, recursive: true })).find((e) => e.isFile() && e.name.endsWith('.xbstream'))!;
    const sample = path.join(xbstream.parentPath, xbstream.name);
    const sampleBytes = (await stat(sample)).size;
    let encodedBytes = 0;
    const codec = encodingStages({ compression: { level: 3 }, key: { dataKey: randomBytes(32), wrapped: { provider: 'key-file', keyId: 'bench', wrapped: 'bench', context: {} } } }, 'backup.xbstream', 'bench/backup.xbstream');
    const [, codecMs] = await timed(async () => {
      for await (const chunk of chain(createReadStream(sample, { highWaterMark: 1 << 20 }), codec)) encodedBytes += (chunk as Buffer).length;
    });
    const out = path.join(work, 'codec-out');
    const zstdMs = await sh(`zstd -q -T0 -3 -c ${sample} > ${out}`);
    const zstdBytes = (await stat(out)).size;
    const gzipMs = await sh(`gzip -6 -c ${sample} > ${out}`);
    const gzipBytes = (await stat(out)).size;
    const rate = (ms: number) => `${(sampleBytes / MB / (ms / 1000)).toFixed(0)} MB/s`;
    const ratio = (bytes: number) => `${(sampleBytes / bytes).toFixed(2)}×`;

    const speed = (variant: string, phase: 'backup' | 'restore') => plain[phase] / best.get(variant)![phase];
    const results = {
      megabytes, dataBytes, rounds, best: Object.fromEntries(best), physical: { oursMs: physicalMs, resticMs, oursStored: physicalStored, resticStored, plainBytes: physicalPlain }, s3: s3Ms,
      codec: { sampleBytes, codecMs, encodedBytes, zstdMs, zstdBytes, gzipMs, gzipBytes }, loadAverage: os.loadavg(), cpus: os.cpus().length,
    };
    await mkdir(path.dirname(RESULTS_FILE), { recursive: true });
    await writeFile(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
    const rows: BenchRow[] = [{ metric: 'table data', value: `${(dataBytes / MB).toFixed(0)} MB` }];
    for (const [variant] of VARIANTS(keyFile)) {
      const b = best.get(variant)!;
      rows.push({ metric: `logical, ${variant}: backup / restore`, value: `${(b.backup / 1000).toFixed(2)} / ${(b.restore / 1000).toFixed(2)} s` });
      if (variant === 'plain') continue;
      rows.push(
        { metric: `logical, ${variant}: backup speed vs plain`, value: speed(variant, 'backup').toFixed(2), goal: '≥ 0.90', ok: speed(variant, 'backup') >= 0.9 },
        { metric: `logical, ${variant}: restore speed vs plain`, value: speed(variant, 'restore').toFixed(2), goal: '≥ 0.90', ok: speed(variant, 'restore') >= 0.9 },
      );
    }
    rows.push(
      { metric: 'physical, compressed + encrypted: ours / restic backup of the data dir', value: `${(physicalMs / 1000).toFixed(2)} / ${(resticMs / 1000).toFixed(2)} s` },
      { metric: 'physical: speed ratio (restic / ours)', value: (resticMs / physicalMs).toFixed(2) },
      { metric: 'physical: stored, ours / restic', value: `${(physicalStored / MB).toFixed(0)} / ${(resticStored / MB).toFixed(0)} MB (of ${(physicalPlain / MB).toFixed(0)} MB)` },
      { metric: 'physical into S3: ours (sha256) / ours (compressed) / mariabackup | rclone rcat', value: `${(s3Ms.sha256 / 1000).toFixed(2)} / ${(s3Ms.compressed / 1000).toFixed(2)} / ${(s3Ms.rclone / 1000).toFixed(2)} s` },
      { metric: 'physical into S3: speed ratio (rclone / ours, sha256)', value: (s3Ms.rclone / s3Ms.sha256).toFixed(2) },
      { metric: 'physical into S3: speed ratio (rclone / ours, compressed)', value: (s3Ms.rclone / s3Ms.compressed).toFixed(2), goal: '≥ 1.00', ok: s3Ms.rclone / s3Ms.compressed >= 1 },
      { metric: `codec on ${(sampleBytes / MB).toFixed(0)} MB of xbstream: ours (zstd 3 + seal, in process)`, value: `${rate(codecMs)}, ${ratio(encodedBytes)}` },
      { metric: 'codec: zstd -T0 -3', value: `${rate(zstdMs)}, ${ratio(zstdBytes)}` },
      { metric: 'codec: gzip -6', value: `${rate(gzipMs)}, ${ratio(gzipBytes)}` },
    );
    return rows;
  } finally {
    await stopAll();
    await rm(work, { recursive: true, force: true });
  }
}

export const encodingBench: Bench = { name: 'encoding', run: runEncodingBench };
