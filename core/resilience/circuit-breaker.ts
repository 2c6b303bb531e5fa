/**
 * A circuit breaker per target (the endpoint a driver connects to, see endpoint.ts) whose state outlives the process: each call
 * loads the breaker's state from a {@link DurableState}, runs through cockatiel's breaker, and
 * saves the new state. So a Lambda invocation, an SSM command and a CLI run all see the circuit
 * another one opened.
 *
 * Only transient failures count (classified first, like `withRetry`): bad input or bad credentials
 * do not trip it. While open, calls fail fast with PermanentError `CIRCUIT_OPEN` (permanent so that
 * no retry policy spends the run waiting on it; the CLI still exits 3, "try again later"), which
 * names the target, how long the circuit stays open, when the next attempt is allowed, and how to
 * try sooner.
 *
 * Concurrency: processes sharing a target race best-effort. There is no lock; the last writer wins,
 * so two processes failing at once may count one failure instead of two, and two may probe a
 * half-open circuit together. That is acceptable for a breaker, whose job is to stop sustained
 * hammering, not to count exactly. Unreadable state fails open (treated as closed, logged).
 *
 * Compose it outside `withRetry` (`breaker.execute(() => withRetry(fn, opts))`), so one exhausted
 * retry sequence counts as one failure.
 */
import { createHash } from 'node:crypto';
import { BrokenCircuitError, ConsecutiveBreaker, circuitBreaker, handleWhen, type CircuitBreakerPolicy } from 'cockatiel';
import { z } from 'zod';
import { classify, isTransient, PermanentError, TransientError, type ClassifiedError, type ErrorMapper } from '../errors';
import { silentLogger, type Logger } from '../logger';
import type { DurableState } from './durable-state';
import { parseBreakerTarget } from './endpoint';

/**
 * The state key of a target's breaker: `circuit-breakers/<engine>/<instance>/<sanitized endpoint>`
 * for an instance's target (endpoint.ts), `circuit-breakers/<sanitized target>` for any other (a
 * hash suffix keeps sanitized names distinct).
 */
export function circuitStateKey(target: string): string {
  if (target.length === 0) throw new PermanentError('circuit breaker target must not be empty', { code: 'INVALID_OPTIONS' });
  const scoped = parseBreakerTarget(target);
  return scoped ? `circuit-breakers/${scoped.engine}/${scoped.instance}/${sanitized(scoped.endpoint)}` : `circuit-breakers/${sanitized(target)}`;
}

function sanitized(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '').slice(0, 80);
  const suffix = safe === name ? '' : `${safe ? '-' : ''}${createHash('sha256').update(name).digest('hex').slice(0, 12)}`;
  return `${safe}${suffix}`;
}

/** cockatiel's `toJSON()` shape, checked before it is handed back to cockatiel. HalfOpen is saved as Open. */
const policyStateSchema = z.object({
  ownState: z.union([
    z.object({ value: z.literal(0) }).loose(),
    z.object({ value: z.literal(1), openedAt: z.number(), attemptNo: z.number().int() }).loose(),
  ]),
  breakerState: z.number().int().nonnegative(),
});

const recordSchema = z.object({
  target: z.string(),
  policy: policyStateSchema,
  lastFailure: z.object({ code: z.string(), message: z.string(), at: z.string() }).optional(),
  updatedAt: z.string(),
});

type CircuitRecord = z.infer<typeof recordSchema>;

export interface CircuitBreakerOptions {
  /** What the breaker protects, e.g. `mysql@10.0.0.5:3306`. Sanitized into the state key. */
  target: string;
  state: DurableState;
  /** Consecutive transient failures that open the circuit. */
  failureThreshold: number;
  /** How long the circuit stays open before one probe call is let through, in milliseconds. */
  halfOpenAfterMs: number;
  mapError?: ErrorMapper;
  engine?: string;
  logger?: Logger;
  /** How a user can try before the circuit closes, for the `CIRCUIT_OPEN` message (e.g. an env var to set). */
  override?: string;
}

export interface CircuitStatus {
  target: string;
  state: 'closed' | 'open' | 'half-open-allowed';
  consecutiveFailures: number;
  /** When open: when the next probe is allowed (ISO time). */
  retryAt?: string;
  lastFailure?: { code: string; message: string; at: string };
}

/**
 * A durable, per-target circuit breaker.
 *
 * @example
 * ```ts
 * const breaker = new PersistentCircuitBreaker({
 *   target: 'etcd/prod', state: fileState('/var/lib/dbbackup/state'), failureThreshold: 5, halfOpenAfterMs: 60_000,
 * });
 * const snapshot = await breaker.execute(() => withRetry(() => driver.createSnapshot(ctx), retryOptions));
 * ```
 */
export class PersistentCircuitBreaker {
  readonly key: string;
  private readonly logger: Logger;

  constructor(private readonly options: CircuitBreakerOptions) {
    if (!Number.isInteger(options.failureThreshold) || options.failureThreshold < 1) {
      throw new PermanentError('failureThreshold must be an integer >= 1', { code: 'INVALID_OPTIONS' });
    }
    if (!(options.halfOpenAfterMs >= 0)) throw new PermanentError('halfOpenAfterMs must be >= 0', { code: 'INVALID_OPTIONS' });
    this.key = circuitStateKey(options.target);
    this.logger = options.logger ?? silentLogger;
  }

  /**
   * Runs `fn` unless the circuit is open.
   * @throws PermanentError `CIRCUIT_OPEN` while open; otherwise `fn`'s error, classified.
   */
  async execute<T>(fn: () => Promise<T>): Promise<T> {
    const { mapError, engine } = this.options;
    const record = await this.load();
    const policy = this.policy(record);
    const before = JSON.stringify(policy.toJSON());
    let failure: ClassifiedError | undefined;
    try {
      return await policy.execute(async function guardedCall() {
        try {
          return await fn();
        } catch (error) {
          failure = classify(error, mapError, engine);
          throw failure;
        }
      });
    } catch (error) {
      if (error instanceof BrokenCircuitError) throw this.openError(record);
      throw classify(error, mapError, engine);
    } finally {
      await this.save(policy, before, record, failure);
    }
  }

  /** The current state as stored, for `dbbackup show` and dashboards. */
  async status(): Promise<CircuitStatus> {
    const record = await this.load();
    const policy = record?.policy ?? { ownState: { value: 0 as const }, breakerState: 0 };
    const base = { target: this.options.target, consecutiveFailures: policy.breakerState, ...(record?.lastFailure ? { lastFailure: record.lastFailure } : {}) };
    if (policy.ownState.value === 0) return { ...base, state: 'closed' };
    const retryAt = policy.ownState.openedAt + this.options.halfOpenAfterMs;
    return { ...base, state: Date.now() < retryAt ? 'open' : 'half-open-allowed', retryAt: new Date(retryAt).toISOString() };
  }

  /** Closes the circuit and forgets the failures, as an operator override (the next call goes through). */
  async reset(): Promise<void> {
    const record: CircuitRecord = { target: this.options.target, policy: { ownState: { value: 0 }, breakerState: 0 }, updatedAt: new Date().toISOString() };
    await this.options.state.write(this.key, record);
  }

  private policy(record: CircuitRecord | undefined): CircuitBreakerPolicy {
    return circuitBreaker(handleWhen(isTransient), {
      halfOpenAfter: this.options.halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(this.options.failureThreshold),
      initialState: record?.policy,
    });
  }

  private async load(): Promise<CircuitRecord | undefined> {
    let raw: unknown;
    try {
      raw = await this.options.state.read(this.key);
    } catch (error) {
      this.logger.warn('circuit breaker state unreadable; treating the circuit as closed', { target: this.options.target, error: String(error) });
      return undefined;
    }
    if (raw === undefined) return undefined;
    const parsed = recordSchema.safeParse(raw);
    if (!parsed.success) {
      this.logger.warn('circuit breaker state malformed; treating the circuit as closed', { target: this.options.target });
      return undefined;
    }
    return parsed.data;
  }

  private async save(policy: CircuitBreakerPolicy, before: string, previous: CircuitRecord | undefined, failure: ClassifiedError | undefined): Promise<void> {
    const after = policy.toJSON() as CircuitRecord['policy'];
    const counted = failure instanceof TransientError ? failure : undefined;
    if (JSON.stringify(after) === before && !counted) return;
    const now = new Date().toISOString();
    const lastFailure = counted
      ? { code: counted.code, message: counted.message.slice(0, 300), at: now }
      : after.ownState.value === 0 && after.breakerState === 0 ? undefined : previous?.lastFailure;
    const record: CircuitRecord = { target: this.options.target, policy: after, ...(lastFailure ? { lastFailure } : {}), updatedAt: now };
    try {
      await this.options.state.write(this.key, record);
    } catch (error) {
      this.logger.warn('circuit breaker state not saved', { target: this.options.target, error: String(error) });
    }
  }

  private openError(record: CircuitRecord | undefined): PermanentError {
    const { target, engine, halfOpenAfterMs, override } = this.options;
    const own = record?.policy.ownState;
    const retryAt = own?.value === 1 ? own.openedAt + halfOpenAfterMs : Date.now() + halfOpenAfterMs;
    const seconds = Math.max(0, Math.ceil((retryAt - Date.now()) / 1000));
    const last = record?.lastFailure ? `; last failure: ${record.lastFailure.code}: ${record.lastFailure.message}` : '';
    return new PermanentError(
      `circuit breaker for target '${target}' is open after ${record?.policy.breakerState ?? 0} consecutive transient failures; ` +
      `it stays open ${Math.round(halfOpenAfterMs / 1000)}s, failing fast until ${new Date(retryAt).toISOString()} (in ${seconds}s), ` +
      `then lets one attempt through${override ? `; to try now: ${override}` : ''}${last}`,
      { code: 'CIRCUIT_OPEN', engine },
    );
  }
}
