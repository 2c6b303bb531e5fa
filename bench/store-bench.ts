/**
 * Store benchmark, one run against a freshly started s3rver and one 200 MiB random file:
 *  1. throughput of S3Store.putFile (sha256 verified) vs a plain lib-storage `Upload` of the same
 *     file with the same part size and concurrency (goal: ratio ≥ 0.9);
 *  2. rate-limit accuracy of putFile at 10, 25 and 50 MB/s, from the call to the last acknowledged
 *     byte (goal: measured / target within 3 %);
 *  3. peak RSS of a child process uploading 50 MiB vs 200 MiB (goal: flat, ratio ≤ 1.15).
 * Results go to bench/results/store.json.
 */
import { writeRandomFile } from '../test/fixtures/store/files';
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Upload } from '@aws-sdk/lib-storage';
import { S3Store } from '../core/store/s3-store';
import { DEFAULT_CONCURRENCY, DEFAULT_PART_SIZE } from '../core/store/s3-file-upload';
import { s3rverStoreOptions, startS3rver, type S3rverHandle } from '../test/harness/s3rver';
import type { Bench, BenchRow } from './run';

const MiB = 1024 * 1024;
const MB = 1_000_000;
const FILE_SIZE = 200 * MiB;
const THROUGHPUT_ROUNDS = 3;
const RATE_TARGETS_MBPS = [10, 25, 50];
/** Seconds of data per rate-limit measurement. */
const RATE_SECONDS = 4;
const RSS_SIZES = [50 * MiB, 200 * MiB];
const REPO_ROOT = path.resolve(__dirname, '..');
const RESULTS_FILE = path.join(REPO_ROOT, 'bench', 'results', 'store.json');

/** The store benchmark. */
export const storeBench: Bench = { name: 'store', run: runStoreBench };

interface StoreBenchResults {
  fileBytes: number;
  partSize: number;
  concurrency: number;
  throughput: { putFileMBps: number[]; uploadMBps: number[]; ratio: number };
  /**
   * `seconds`: from the call to the last part acknowledged (the transfer the limiter governs);
   * `wallSeconds` adds CompleteMultipartUpload, in which s3rver copies every part into the object.
   */
  rateLimit: { targetMBps: number; bytes: number; seconds: number; wallSeconds: number; measuredMBps: number; ratio: number }[];
  rss: { bytes: number; maxRssMiB: number }[];
}

async function runStoreBench(): Promise<BenchRow[]> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'store-bench-'));
  const server = await startS3rver('bench');
  const store = new S3Store(s3rverStoreOptions(server));
  try {
    const file = path.join(work, 'random.bin');
    const sha256 = await writeRandomFile(file, FILE_SIZE);
    const throughput = await measureThroughput(store, file, sha256, work);
    const rateLimit = await measureRateLimits(store, file, work);
    const rss = await measureRss(server, file, work);
    const results: StoreBenchResults = {
      fileBytes: FILE_SIZE, partSize: DEFAULT_PART_SIZE, concurrency: DEFAULT_CONCURRENCY, throughput, rateLimit, rss,
    };
    await mkdir(path.dirname(RESULTS_FILE), { recursive: true });
    await writeFile(RESULTS_FILE, `${JSON.stringify({ bench: 'store', date: new Date().toISOString(), ...results }, null, 2)}\n`);
    return toRows(results);
  } finally {
    store.destroy();
    await server.stop();
    await rm(work, { recursive: true, force: true });
  }
}

/** Alternates our putFile and a plain lib-storage Upload; compares median throughputs. */
async function measureThroughput(store: S3Store, file: string, sha256: string, work: string): Promise<StoreBenchResults['throughput']> {
  const ours: number[] = [];
  const plain: number[] = [];
  for (let round = 0; round < THROUGHPUT_ROUNDS; round += 1) {
    ours.push(await timedMBps(FILE_SIZE, () => store.putFile('tp/ours.bin', file, {
      checkpointPath: path.join(work, 'tp.checkpoint.json'), expectedSha256: sha256,
      partSize: DEFAULT_PART_SIZE, concurrency: DEFAULT_CONCURRENCY,
    })));
    plain.push(await timedMBps(FILE_SIZE, () => new Upload({
      client: store.client,
      params: { Bucket: store.bucket, Key: 'tp/plain.bin', Body: createReadStream(file) },
      partSize: DEFAULT_PART_SIZE,
      queueSize: DEFAULT_CONCURRENCY,
    }).done()));
    await store.delete(['tp/ours.bin', 'tp/plain.bin']);
  }
  return { putFileMBps: ours, uploadMBps: plain, ratio: median(ours) / median(plain) };
}

/** Uploads RATE_SECONDS worth of data at each target rate; compares the achieved rate. */
async function measureRateLimits(store: S3Store, file: string, work: string): Promise<StoreBenchResults['rateLimit']> {
  const results: StoreBenchResults['rateLimit'] = [];
  for (const targetMBps of RATE_TARGETS_MBPS) {
    const bytes = Math.min(FILE_SIZE, targetMBps * MB * RATE_SECONDS);
    const slice = bytes === FILE_SIZE ? file : await copyPrefix(file, path.join(work, `rate-${targetMBps}.bin`), bytes);
    let lastByteAt = Number.NaN;
    const started = performance.now();
    await store.putFile(`rate/${targetMBps}.bin`, slice, {
      checkpointPath: path.join(work, 'rate.checkpoint.json'),
      rateLimit: targetMBps * MB,
      onProgress: (moved) => {
        if (moved === bytes) lastByteAt = performance.now();
      },
    });
    const wallSeconds = (performance.now() - started) / 1000;
    const seconds = (lastByteAt - started) / 1000;
    const measuredMBps = bytes / MB / seconds;
    results.push({ targetMBps, bytes, seconds, wallSeconds, measuredMBps, ratio: measuredMBps / targetMBps });
    await store.delete([`rate/${targetMBps}.bin`]);
    if (slice !== file) await rm(slice);
  }
  return results;
}

/** Peak RSS of a fresh child per upload size, plus a child that only loads the modules. */
async function measureRss(server: S3rverHandle, file: string, work: string): Promise<StoreBenchResults['rss']> {
  const results: StoreBenchResults['rss'] = [];
  for (const bytes of [0, ...RSS_SIZES]) {
    const source = bytes === 0 ? '' : bytes === FILE_SIZE ? file : await copyPrefix(file, path.join(work, `rss-${bytes}.bin`), bytes);
    const job = { options: s3rverStoreOptions(server), key: `rss/${bytes}.bin`, file: source, checkpointPath: path.join(work, 'rss.checkpoint.json') };
    const output = await runChild(path.join(REPO_ROOT, 'bench', 'store-rss-child.ts'), JSON.stringify(job));
    const { maxRssKiB } = JSON.parse(output) as { maxRssKiB: number };
    results.push({ bytes, maxRssMiB: maxRssKiB / 1024 });
    if (source && source !== file) await rm(source);
  }
  return results;
}

function toRows(results: StoreBenchResults): BenchRow[] {
  const { throughput, rateLimit, rss } = results;
  const rssOf = (bytes: number) => rss.find((entry) => entry.bytes === bytes)?.maxRssMiB ?? Number.NaN;
  const rssRatio = rssOf(200 * MiB) / rssOf(50 * MiB);
  return [
    { metric: `putFile, sha256 on (median of ${THROUGHPUT_ROUNDS}, 200 MiB)`, value: `${median(throughput.putFileMBps).toFixed(1)} MB/s` },
    { metric: `lib-storage Upload, same parts (median of ${THROUGHPUT_ROUNDS})`, value: `${median(throughput.uploadMBps).toFixed(1)} MB/s` },
    { metric: 'putFile / Upload throughput', value: throughput.ratio.toFixed(3), goal: '≥ 0.90', ok: throughput.ratio >= 0.9 },
    ...rateLimit.map((entry) => ({
      metric: `rate limit ${entry.targetMBps} MB/s: measured / target (${entry.measuredMBps.toFixed(2)} MB/s)`,
      value: entry.ratio.toFixed(3),
      goal: '0.97 – 1.03',
      ok: entry.ratio >= 0.97 && entry.ratio <= 1.03,
    })),
    ...rss.map((entry) => ({
      metric: entry.bytes === 0 ? 'peak RSS, modules loaded, no upload' : `peak RSS, putFile ${entry.bytes / MiB} MiB`,
      value: `${entry.maxRssMiB.toFixed(0)} MiB`,
    })),
    { metric: 'peak RSS 200 MiB / 50 MiB', value: rssRatio.toFixed(3), goal: '≤ 1.15', ok: rssRatio <= 1.15 },
  ];
}

async function timedMBps(bytes: number, action: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await action();
  return bytes / MB / ((performance.now() - started) / 1000);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}


/** Copies the first `bytes` of `source` to `target`. */
async function copyPrefix(source: string, target: string, bytes: number): Promise<string> {
  const input = await open(source, 'r');
  const output = await open(target, 'w');
  try {
    const buffer = Buffer.allocUnsafe(4 * MiB);
    for (let done = 0; done < bytes; ) {
      const { bytesRead } = await input.read(buffer, 0, Math.min(buffer.length, bytes - done), done);
      await output.write(buffer, 0, bytesRead);
      done += bytesRead;
    }
  } finally {
    await Promise.all([input.close(), output.close()]);
  }
  return target;
}

/** Runs a TypeScript file in one node process; resolves with its stdout. */
function runChild(script: string, arg: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, arg], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(stdout.trim().split('\n').at(-1) ?? '') : reject(new Error(`${script} exited ${code}: ${stderr}`))));
  });
}
