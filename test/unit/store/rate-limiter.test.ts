import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { TokenBucket, createRateLimiter, throttle, throttleStages } from '../../../core/store/rate-limiter';

/** Pushes `total` bytes in `chunkSize` chunks through `throttle(bucket)`; resolves with elapsed ms. */
async function timeThrottledTransfer(bucket: TokenBucket, total: number, chunkSize: number): Promise<{ ms: number; bytes: number }> {
  let bytes = 0;
  const started = performance.now();
  await pipeline(
    Readable.from(chunks(total, chunkSize)),
    throttle(bucket),
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        bytes += chunk.length;
        callback();
      },
    }),
  );
  return { ms: performance.now() - started, bytes };
}

function* chunks(total: number, chunkSize: number): Generator<Buffer> {
  for (let sent = 0; sent < total; sent += chunkSize) yield Buffer.alloc(Math.min(chunkSize, total - sent), 7);
}

describe('rate limiter', () => {
  it('holds one stream to the configured rate (1.5 s of data, including chunks far larger than the burst)', async () => {
    // Prepare
    const rate = 2_000_000;
    const total = 3_000_000;
    const bucket = new TokenBucket(rate);

    // Act
    const { ms, bytes } = await timeThrottledTransfer(bucket, total, 1024 * 1024);

    // Assess
    const expectedMs = (total / rate) * 1000;
    expect(bytes).toBe(total);
    expect(ms).toBeGreaterThanOrEqual(0.95 * expectedMs);
    expect(ms).toBeLessThan(2 * expectedMs);
  });

  it('shares one budget between concurrent streams using the same bucket', async () => {
    // Prepare
    const rate = 2_000_000;
    const perStream = 1_000_000;
    const bucket = new TokenBucket(rate);
    const started = performance.now();

    // Act
    await Promise.all([0, 1, 2].map(() => timeThrottledTransfer(bucket, perStream, 64 * 1024)));

    // Assess
    const elapsed = performance.now() - started;
    const expectedMs = ((3 * perStream) / rate) * 1000;
    expect(elapsed).toBeGreaterThanOrEqual(0.95 * expectedMs);
    expect(elapsed).toBeLessThan(2 * expectedMs);
  });

  it('releases data in slices no larger than the burst allows', async () => {
    // Prepare
    const bucket = new TokenBucket(1_000_000);
    const sizes: number[] = [];

    // Act
    await pipeline(
      Readable.from([Buffer.alloc(200_000)]),
      throttle(bucket),
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          sizes.push(chunk.length);
          callback();
        },
      }),
    );

    // Assess
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(200_000);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(bucket.sliceBytes);
    expect(bucket.sliceBytes).toBeLessThanOrEqual(50_000);
  });

  it('treats 0 and undefined as unlimited: no bucket and no stream stage', () => {
    // Act
    const none = [createRateLimiter(0), createRateLimiter(undefined)];
    const stages = throttleStages(undefined);

    // Assess
    expect(none).toEqual([undefined, undefined]);
    expect(stages).toEqual([]);
    expect(createRateLimiter(1000)).toBeInstanceOf(TokenBucket);
  });

  it('refuses a negative or non-finite rate', () => {
    // Act
    const negative = () => new TokenBucket(-1);
    const infinite = () => new TokenBucket(Number.POSITIVE_INFINITY);

    // Assess
    expect(negative).toThrow(RangeError);
    expect(infinite).toThrow(RangeError);
  });
});
