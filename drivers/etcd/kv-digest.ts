/**
 * A content digest of an etcd key space at one revision. Taken at backup time (at the snapshot's
 * revision, which etcd's MVCC still serves while writes continue) and again on the restored
 * cluster; equal digests prove the restore holds exactly the data the snapshot captured.
 *
 * Reads are paged (`limit` keys per Range call, at a fixed revision so pages are mutually
 * consistent), so memory stays flat whatever the size of the key space.
 */
import { withRetry } from '../../core/resilience/retry';
import { mapEtcdError } from './errors';
import { createHash } from 'node:crypto';
import type { IRangeRequest, IRangeResponse } from 'etcd3';

/** The one call the digest needs: etcd3's low-level `client.kv.range`. */
export interface KvRangeClient {
  kv: { range(request: IRangeRequest): Promise<IRangeResponse> };
}

export interface KvDigest {
  /** Revision the key space was read at. */
  revision: number;
  /** Number of live keys at that revision. */
  keyCount: number;
  /** Lower-case hex sha256, see {@link computeKvDigest} for the exact framing. */
  digest: string;
}

export interface KvDigestOptions {
  /**
   * Most keys per Range call (default 1000). Pages shrink to about {@link KvDigestOptions.pageBytes}
   * from the sizes seen so far, and are halved when one is still too large for a gRPC message.
   */
  pageSize?: number;
  /** Target bytes per page (default 2 MiB, half of gRPC's default 4 MiB receive limit). */
  pageBytes?: number;
  signal?: AbortSignal;
  /** Called after each page with the running key count. */
  onProgress?: (keyCount: number) => void;
}

/** `\0`: as range_end it means "to the end of the key space". */
const ALL = Buffer.from([0]);

function u64(value: string | number): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigUInt64BE(BigInt(value));
  return out;
}

function u32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value);
  return out;
}

/** In-process retry of one page read: short, since the step itself is retried by the state machine. */
const PAGE_RETRY = { maxAttempts: 3, initialDelayMs: 200, maxDelayMs: 2000, mapError: mapEtcdError, engine: 'etcd' };

function isMessageTooLarge(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return /larger than max|message too large|RESOURCE_EXHAUSTED.*(received|message)/i.test(message);
}

/**
 * Reads every key at `revision` in key order and returns `{ revision, keyCount, digest }`.
 *
 * The digest is sha256 over, for each key in ascending byte order:
 * `u32be(len(key)) key u32be(len(value)) value u64be(create_revision) u64be(mod_revision) u64be(version)`.
 * Leases are not included (a restored cluster renews or expires them on its own clock).
 *
 * Use a client without a circuit breaker (see `createEtcdClient`): etcd3's default breaker counts an
 * oversized page as a failure and would block the smaller retry.
 *
 * Ranges are sent without a sort order: etcd returns them in key order from its index, and a
 * sort order would make etcd 3.4 fetch the whole remaining range for every page. The order is
 * still checked, so an unexpected order fails loudly instead of giving a wrong digest.
 *
 * @throws the client's error (map it with `mapEtcdError`), e.g. a compacted revision.
 */
export async function computeKvDigest(client: KvRangeClient, revision: number, options: KvDigestOptions = {}): Promise<KvDigest> {
  if (!Number.isSafeInteger(revision) || revision <= 0) {
    throw new RangeError(`kv digest needs a positive revision, got ${revision}`);
  }
  const hash = createHash('sha256');
  const maxPageSize = Math.max(1, options.pageSize ?? 1000);
  const pageBytes = Math.max(1, options.pageBytes ?? 2 * 1024 * 1024);
  let pageSize = maxPageSize;
  let bytesSeen = 0;
  let key: Buffer = ALL;
  let previous: Buffer | undefined;
  let keyCount = 0;
  for (;;) {
    options.signal?.throwIfAborted();
    let page: IRangeResponse;
    try {
      const limit = pageSize;
      // A blip on one page is retried here rather than redoing the whole snapshot.
      page = await withRetry(() => client.kv.range({ key, range_end: ALL, revision, limit }), PAGE_RETRY);
    } catch (error) {
      if (pageSize > 1 && isMessageTooLarge(error)) {
        pageSize = Math.max(1, Math.floor(pageSize / 2));
        continue;
      }
      throw error;
    }
    for (const kv of page.kvs) {
      if (previous && Buffer.compare(previous, kv.key) >= 0) {
        throw new Error(`etcd returned keys out of order at revision ${revision} (${JSON.stringify(kv.key.toString('latin1'))} after ${JSON.stringify(previous.toString('latin1'))})`);
      }
      hash.update(u32(kv.key.length));
      hash.update(kv.key);
      hash.update(u32(kv.value.length));
      hash.update(kv.value);
      hash.update(u64(kv.create_revision));
      hash.update(u64(kv.mod_revision));
      hash.update(u64(kv.version));
      previous = kv.key;
      keyCount += 1;
      bytesSeen += kv.key.length + kv.value.length;
    }
    if (keyCount > 0) {
      // Size the next page from the average key+value size so far: memory stays flat, messages small.
      pageSize = Math.max(1, Math.min(maxPageSize, Math.floor(pageBytes / Math.max(1, bytesSeen / keyCount))));
    }
    options.onProgress?.(keyCount);
    if (!page.more || page.kvs.length === 0) break;
    // Next page starts right after the last key returned: lastKey + "\0".
    key = Buffer.concat([page.kvs[page.kvs.length - 1].key, ALL]);
  }
  return { revision, keyCount, digest: hash.digest('hex') };
}
