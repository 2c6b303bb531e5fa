/**
 * Child process of the store benchmark: uploads one file with S3Store.putFile and prints
 * `{ maxRssKiB, ms }`. With an empty `file` it only loads the modules (the baseline).
 * Run as `node --import tsx store-rss-child.ts '<json>'`.
 */
import { S3Store, type S3StoreOptions } from '../core/store/s3-store';

interface RssJob {
  options: S3StoreOptions;
  key: string;
  file: string;
  checkpointPath: string;
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '{}') as RssJob;
  const store = new S3Store(job.options);
  const started = performance.now();
  if (job.file) await store.putFile(job.key, job.file, { checkpointPath: job.checkpointPath });
  const ms = performance.now() - started;
  store.destroy();
  process.stdout.write(`${JSON.stringify({ maxRssKiB: process.resourceUsage().maxRSS, ms })}\n`);
}

main().catch(function fail(error: unknown) {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
