/**
 * Bandwidth limiting for transfers. One {@link TokenBucket} is shared by every concurrent part of a
 * transfer, so `rateLimit` caps the transfer as a whole, not each connection.
 *
 * The bucket schedules by virtual time (GCRA): each `take(n)` reserves the next `n / rate` seconds
 * of the link and waits until its slot has passed. Timer jitter therefore never accumulates, and at
 * most `burstSeconds` of unused capacity can be saved up while idle.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

/** Default burst: 50 ms worth of bytes. */
const DEFAULT_BURST_SECONDS = 0.05;
/** Largest slice a throttled stream releases at once. */
const MAX_SLICE_BYTES = 64 * 1024;

/** A byte-rate limiter shared by all streams of one transfer. */
export class TokenBucket {
  /** Bytes per second. */
  readonly rate: number;
  /** Largest slice a throttled stream should pass in one go (≤ the burst size). */
  readonly sliceBytes: number;
  private readonly burstSeconds: number;
  /** Virtual time (seconds, monotonic clock) at which the link is next free. */
  private nextFree: number;

  constructor(bytesPerSecond: number, burstSeconds = DEFAULT_BURST_SECONDS) {
    if (!(bytesPerSecond > 0) || !Number.isFinite(bytesPerSecond)) {
      throw new RangeError(`rate limit must be a positive number of bytes per second, got ${bytesPerSecond}`);
    }
    this.rate = bytesPerSecond;
    this.burstSeconds = burstSeconds;
    this.sliceBytes = Math.max(1024, Math.min(MAX_SLICE_BYTES, Math.floor(bytesPerSecond * burstSeconds)));
    this.nextFree = nowSeconds();
  }

  /** Waits until `bytes` may be sent. Concurrent callers are served in call order. */
  async take(bytes: number): Promise<void> {
    const now = nowSeconds();
    this.nextFree = Math.max(this.nextFree, now - this.burstSeconds) + bytes / this.rate;
    const waitMs = (this.nextFree - now) * 1000;
    if (waitMs >= 1) await sleep(waitMs);
  }
}

/**
 * A rate limit as transfer options take it: bytes per second (0 = unlimited), or a bucket already
 * shared with other transfers, so that several transfers running at once stay within one limit
 * together instead of each getting the whole of it.
 */
export type RateLimit = number | TokenBucket;

/** The bucket to throttle by: `limit` itself when it is a shared bucket, a new one for a positive rate, undefined for 0/undefined (= unlimited). */
export function createRateLimiter(limit: RateLimit | undefined): TokenBucket | undefined {
  if (typeof limit === 'object') return limit;
  return limit && limit > 0 ? new TokenBucket(limit) : undefined;
}

/** A pass-through stream that releases bytes no faster than `bucket` allows, in small slices. */
export function throttle(bucket: TokenBucket): Transform {
  return new Transform({
    transform: function throttleChunk(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
      releaseSlices(this, bucket, chunk).then(() => callback(), callback);
    },
  });
}

/** `[throttle(bucket)]`, or `[]` when unlimited: spread into a pipeline so unlimited costs nothing. */
export function throttleStages(bucket: TokenBucket | undefined): Transform[] {
  return bucket ? [throttle(bucket)] : [];
}

/** Pushes `chunk` downstream slice by slice, each after its tokens are granted. */
async function releaseSlices(stream: Transform, bucket: TokenBucket, chunk: Buffer): Promise<void> {
  for (let offset = 0; offset < chunk.length; offset += bucket.sliceBytes) {
    const slice = chunk.subarray(offset, Math.min(chunk.length, offset + bucket.sliceBytes));
    await bucket.take(slice.length);
    if (stream.destroyed) return;
    stream.push(slice);
  }
}

function nowSeconds(): number {
  return performance.now() / 1000;
}
