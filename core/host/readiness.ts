/**
 * Waiting for a server to answer: a probe polled until it succeeds, the server's process gives up,
 * or time runs out. A busy machine slows everything down, so the wait is bounded by a deadline
 * and the server's own death, never by a fixed number of tries.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface ReadinessOptions {
  /** How long to wait in all. */
  timeoutMs: number;
  /** Pause between probes (default 100 ms). */
  pollMs?: number;
  /** False once the server's process is gone: the wait ends at once. */
  isRunning?: () => boolean;
}

/** How the wait ended. `last` says why the last probe failed. */
export type Readiness<T> =
  | { ready: true; value: T }
  | { ready: false; reason: 'exited' | 'timeout'; last: string };

/**
 * Polls `probe` (its rejection means "not yet", its message says why) until it resolves.
 *
 * @example
 * ```ts
 * const outcome = await waitUntilReady(() => connect(port), { timeoutMs: 30_000, isRunning: () => isAlive(pid) });
 * if (!outcome.ready) throw new TransientError(`not ready: ${outcome.last}`, { code: 'START_TIMEOUT' });
 * ```
 */
export async function waitUntilReady<T>(probe: () => Promise<T>, options: ReadinessOptions): Promise<Readiness<T>> {
  const deadline = Date.now() + options.timeoutMs;
  let last = 'no answer yet';
  const exited = () => options.isRunning !== undefined && !options.isRunning();
  if (exited()) return { ready: false, reason: 'exited', last };
  for (;;) {
    try {
      return { ready: true, value: await probe() };
    } catch (error) {
      last = (error as Error).message;
    }
    if (exited()) return { ready: false, reason: 'exited', last };
    if (Date.now() >= deadline) return { ready: false, reason: 'timeout', last };
    await sleep(options.pollMs ?? 100);
  }
}
