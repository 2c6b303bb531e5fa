/**
 * In-process retry for one call, with exponential backoff and decorrelated jitter (cockatiel).
 * Every thrown error is classified first, so only {@link TransientError} is retried and what finally
 * escapes is always a TransientError or PermanentError. State-machine retry policies remain the
 * outer layer; this one smooths short blips inside a single step.
 */
import { ExponentialBackoff, decorrelatedJitterGenerator, handleWhen, retry } from 'cockatiel';
import { classify, isTransient, PermanentError, type ClassifiedError, type ErrorMapper, type TransientError } from '../errors';

export interface RetryInfo {
  /** 1 for the first retry. */
  attempt: number;
  /** How long it waits before this retry, in milliseconds. */
  delayMs: number;
  error: TransientError;
}

export interface RetryOptions {
  /** Retries after the first call (as in cockatiel and Step Functions): the call runs at most `maxAttempts + 1` times. */
  maxAttempts: number;
  /** Scale of the first delay, in milliseconds. */
  initialDelayMs: number;
  /** Cap on any one delay, in milliseconds. */
  maxDelayMs: number;
  /** The engine's native-error mapper (a plugin's `mapError`). */
  mapError?: ErrorMapper;
  /** Engine named on errors that `classify` creates. */
  engine?: string;
  /** Called before each retry's delay (for logs and metrics). */
  onRetry?: (info: RetryInfo) => void;
  /** Stops retrying once aborted; the last error is thrown. */
  signal?: AbortSignal;
  /** Retries only the transient errors it accepts (default: every transient error). */
  retryWhen?: (error: TransientError) => boolean;
}

const OPTION_KEYS = new Set(['maxAttempts', 'initialDelayMs', 'maxDelayMs', 'mapError', 'engine', 'onRetry', 'signal', 'retryWhen']);

function checkOptions(options: RetryOptions): void {
  const unknown = Object.keys(options).filter((key) => !OPTION_KEYS.has(key));
  const problems = unknown.map((key) => `unknown option '${key}'`);
  if (!Number.isInteger(options.maxAttempts) || options.maxAttempts < 0) problems.push('maxAttempts must be an integer >= 0');
  if (!(options.initialDelayMs > 0)) problems.push('initialDelayMs must be > 0');
  if (!(options.maxDelayMs >= options.initialDelayMs)) problems.push('maxDelayMs must be >= initialDelayMs');
  if (problems.length > 0) throw new PermanentError(`invalid retry options: ${problems.join('; ')}`, { code: 'INVALID_OPTIONS' });
}

/**
 * Runs `fn`, retrying it while it fails with a transient error.
 *
 * @param fn receives the attempt number (1 for the first call).
 * @throws the last {@link TransientError} when retries run out, or the first {@link PermanentError}
 *   (unknown errors are classified as permanent, so a bug is never retried).
 * @example
 * ```ts
 * const status = await withRetry(() => client.maintenance.status(), {
 *   maxAttempts: 4, initialDelayMs: 200, maxDelayMs: 5_000, mapError: plugin.mapError, engine: 'etcd',
 * });
 * ```
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  checkOptions(options);
  const policy = retry(handleWhen((error) => isTransient(error) && (options.retryWhen?.(error as TransientError) ?? true)), {
    maxAttempts: options.maxAttempts,
    backoff: new ExponentialBackoff({
      generator: decorrelatedJitterGenerator,
      initialDelay: options.initialDelayMs,
      maxDelay: options.maxDelayMs,
    }),
  });
  const listener = policy.onRetry((event) => {
    if ('error' in event) options.onRetry?.({ attempt: event.attempt, delayMs: event.delay, error: event.error as TransientError });
  });
  try {
    return await policy.execute(async function classifiedAttempt({ attempt }) {
      try {
        return await fn(attempt + 1);
      } catch (error) {
        throw classify(error, options.mapError, options.engine);
      }
    }, options.signal);
  } catch (error) {
    throw classify(error, options.mapError, options.engine) satisfies ClassifiedError;
  } finally {
    listener.dispose();
  }
}
