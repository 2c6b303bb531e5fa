import { PermanentError, TransientError } from '../../../core/errors';
import { withRetry, type RetryInfo } from '../../../core/resilience/retry';

function transient(message = 'busy'): TransientError {
  return new TransientError(message, { code: 'BUSY', engine: 'fake' });
}

describe('withRetry', () => {
  it('retries transient failures with growing, really-waited delays until the call succeeds', async () => {
    // Prepare
    const calls: number[] = [];
    const retries: RetryInfo[] = [];
    const fn = async (attempt: number) => {
      calls.push(performance.now());
      if (attempt <= 5) throw transient(`attempt ${attempt}`);
      return `ok after ${attempt}`;
    };

    // Act
    const result = await withRetry(fn, { maxAttempts: 5, initialDelayMs: 10, maxDelayMs: 1_000, onRetry: (info) => retries.push(info) });

    // Assess
    expect(result).toBe('ok after 6');
    expect(calls).toHaveLength(6);
    expect(retries.map((r) => r.attempt)).toEqual([1, 2, 3, 4, 5]);
    expect(retries.map((r) => r.error.message)).toEqual(['attempt 1', 'attempt 2', 'attempt 3', 'attempt 4', 'attempt 5']);
    const delays = retries.map((r) => r.delayMs);
    // Decorrelated jitter is random per delay, but exponential overall: the last three together
    // always outweigh the first two (bounds: < 4 × scale vs >= 12 × scale).
    expect(delays[2] + delays[3] + delays[4]).toBeGreaterThan(delays[0] + delays[1]);
    // Node timers have whole-millisecond resolution against the event loop's cached clock, so a
    // wait may end up to 1 ms before the fractional delay's floor as performance.now() sees it.
    for (let i = 0; i < delays.length; i++) {
      expect(calls[i + 1] - calls[i]).toBeGreaterThanOrEqual(Math.floor(delays[i]) - 1);
    }
  });

  it('caps every delay at maxDelayMs', async () => {
    // Prepare
    const retries: RetryInfo[] = [];

    // Act
    const outcome = withRetry(async () => { throw transient(); }, {
      maxAttempts: 6, initialDelayMs: 10, maxDelayMs: 15, onRetry: (info) => retries.push(info),
    });

    // Assess
    await expect(outcome).rejects.toBeInstanceOf(TransientError);
    expect(retries).toHaveLength(6);
    expect(Math.max(...retries.map((r) => r.delayMs))).toBeLessThanOrEqual(15);
  });

  it('gives up after maxAttempts retries and throws the last TransientError', async () => {
    // Prepare
    let calls = 0;

    // Act
    const outcome = withRetry(async () => { calls += 1; throw transient(`failure ${calls}`); }, { maxAttempts: 2, initialDelayMs: 1, maxDelayMs: 5 });

    // Assess
    await expect(outcome).rejects.toMatchObject({ name: 'TransientError', code: 'BUSY', message: 'failure 3' });
    expect(calls).toBe(3);
  });

  it('never retries a PermanentError', async () => {
    // Prepare
    let calls = 0;
    const denied = new PermanentError('access denied', { code: 'AUTH' });

    // Act
    const outcome = withRetry(async () => { calls += 1; throw denied; }, { maxAttempts: 5, initialDelayMs: 1, maxDelayMs: 5 });

    // Assess
    await expect(outcome).rejects.toBe(denied);
    expect(calls).toBe(1);
  });

  it('converts an unknown error to a PermanentError, keeps it as the cause, and does not retry it', async () => {
    // Prepare
    let calls = 0;
    const bug = new TypeError('cannot read properties of undefined');

    // Act
    const outcome = withRetry(async () => { calls += 1; throw bug; }, { maxAttempts: 5, initialDelayMs: 1, maxDelayMs: 5, engine: 'fake' });

    // Assess
    await expect(outcome).rejects.toMatchObject({ name: 'PermanentError', code: 'UNKNOWN', engine: 'fake', cause: bug });
    expect(calls).toBe(1);
  });

  it("retries native errors the engine's mapper or the network classify as transient", async () => {
    // Prepare
    const native = [Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), Object.assign(new Error('leader changed'), { grpc: 14 })];
    let calls = 0;
    const mapError = (error: unknown) => ((error as { grpc?: number }).grpc === 14 ? new TransientError('unavailable', { code: 'UNAVAILABLE', cause: error }) : undefined);

    // Act
    const result = await withRetry(async () => {
      const failure = native[calls];
      calls += 1;
      if (failure) throw failure;
      return 'done';
    }, { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 5, mapError });

    // Assess
    expect(result).toBe('done');
    expect(calls).toBe(3);
  });

  it('retries only the transient errors retryWhen accepts, throwing the first it refuses', async () => {
    // Prepare
    const failures = [transient('lock conflict'), transient('lock conflict'), transient('connection lost')];
    let calls = 0;

    // Act
    const outcome = withRetry(async () => { throw failures[calls++]; }, {
      maxAttempts: 5, initialDelayMs: 1, maxDelayMs: 5, retryWhen: (error) => error.message === 'lock conflict',
    });

    // Assess
    await expect(outcome).rejects.toBe(failures[2]);
    expect(calls).toBe(3);
  });

  it('rejects invalid and unknown options', async () => {
    // Act
    const outcome = withRetry(async () => 1, { maxAttempts: -1, initialDelayMs: 10, maxDelayMs: 5, maxAttemps: 3 } as never);

    // Assess
    await expect(outcome).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
    await expect(outcome).rejects.toThrow(/unknown option 'maxAttemps'.*maxAttempts must be an integer.*maxDelayMs must be >= initialDelayMs/);
  });
});
