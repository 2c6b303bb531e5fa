/**
 * A node's snapshot files into the instance's pool (core/driver/pool-upload.ts): a few at a time
 * (one at a time under a rate limit, which is the node's), the pool's sizes listed once first so
 * that a file the pool cannot hold yet is copied in one read where the store can.
 */
import { mapLimited } from '../../core/concurrency';
import { listPoolSizes, putPooled, type PooledUpload } from '../../core/driver/pool-upload';
import type { ArtifactDestination } from '../../core/driver/types';
import type { Logger } from '../../core/logger';
import type { SnapshotFile } from './snapshot-files';

/** Files pooled at once (measured with `npm run bench -- cassandra`: 2, 4 and 8 tried, 4 the fastest). */
const POOL_UPLOADS = 4;

/** Pools `files` (their artifact names as given), in order; resolves with each one's upload. */
export async function poolSnapshotFiles(
  pool: ArtifactDestination, files: readonly SnapshotFile[], options: { spoolDir: string; logger?: Logger; signal?: AbortSignal },
): Promise<PooledUpload[]> {
  const poolSizes = await listPoolSizes(pool);
  return mapLimited(files, pool.rateLimit ? 1 : POOL_UPLOADS, (file) => putPooled(pool, file.path, file.name, { ...options, mutable: file.mutable, poolSizes }));
}
