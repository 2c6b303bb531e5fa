/**
 * The circuit breakers of one process (CLI run, Lambda container, host agent) as the steps use
 * them: `guard(target, fn)` runs `fn` through the durable breaker of `target` (an endpoint, see
 * endpoint.ts), with the process's thresholds and, on request, an operator reset of each target's
 * circuit before its first call in this process.
 */
import type { Logger } from '../logger';
import { circuitStateKey, PersistentCircuitBreaker } from './circuit-breaker';
import type { DurableState } from './durable-state';

export interface CircuitGuardOptions {
  state: DurableState;
  logger: Logger;
  /** Consecutive transient failures of one target before its circuit opens. */
  failureThreshold: number;
  /** How long an open circuit fails fast before it lets one attempt through (ms). */
  halfOpenAfterMs: number;
  /** Close each target's circuit before its first call in this process (an operator override). */
  resetFirst?: boolean;
  /** What the `CIRCUIT_OPEN` message tells a user to do to try sooner, given the breaker's state key. */
  override?: (stateKey: string) => string;
}

export type CircuitGuard = <T>(target: string, fn: () => Promise<T>) => Promise<T>;

/**
 * @example
 * ```ts
 * const guard = circuitGuard({ state: blobStoreState(store), logger, failureThreshold: 5, halfOpenAfterMs: 60_000 });
 * const snapshot = await guard('mysql@10.0.0.5:3306', () => driver.createSnapshot(ctx));
 * ```
 */
export function circuitGuard(options: CircuitGuardOptions): CircuitGuard {
  const { state, logger, failureThreshold, halfOpenAfterMs } = options;
  const reset = new Set<string>();
  return async function guardCall<T>(target: string, fn: () => Promise<T>): Promise<T> {
    const override = options.override?.(circuitStateKey(target));
    const breaker = new PersistentCircuitBreaker({ target, state, logger, failureThreshold, halfOpenAfterMs, override });
    if (options.resetFirst && !reset.has(breaker.key)) {
      reset.add(breaker.key);
      await breaker.reset();
      logger.warn('circuit breaker reset by the operator', { target });
    }
    return breaker.execute(fn);
  };
}
