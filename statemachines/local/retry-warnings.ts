/**
 * What a local run says while a step waits to be retried. A Task's Retry policy can wait a minute
 * and more between attempts (a MySQL server that is down, a store that refuses for a while):
 * without a word the CLI looks hung. When a state fails and its policy will retry it, a warning —
 * shown at the default log level — names the step, why it failed, and how long the wait may be.
 */
import type { EventLog } from './service-limits';
import type { Logger } from '../../core/logger';
import { causeMessage } from '../../core/steps/failure-cause';
import { listStates, type AslDefinition } from '../asl';

/** Longest failure message a warning repeats (the step's own log has it whole). */
const REASON_CHARS = 300;

interface Retrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  MaxAttempts?: number;
  BackoffRate?: number;
  MaxDelaySeconds?: number;
  JitterStrategy?: string;
}

/** The retrier of `retriers` that takes `error` (as Step Functions picks it: the first that names it), and its index. */
function retrierFor(retriers: readonly Retrier[], error: string, isTask: boolean): [Retrier, number] | undefined {
  const index = retriers.findIndex((r) => r.ErrorEquals.some((e) => e === error || e === 'States.ALL' || (isTask && e === 'States.TaskFailed' && error !== 'States.Timeout')));
  return index < 0 ? undefined : [retriers[index], index];
}

/**
 * An `onEvent` for a local run of `definition` that warns on every failure its Retry policy will
 * retry; `intervalMs`: the wait the run gives every retry instead (the runner's override, tests').
 */
export function retryWarnings(definition: AslDefinition, logger: Logger, intervalMs?: number): (event: EventLog) => void {
  const states = new Map(listStates(definition).map(({ name, state }) => [name, state]));
  /** Retries so far per state (per Map item), by retrier: reset as the state is entered again. */
  const retried = new Map<string, number[]>();
  return function warnBeforeRetry(event) {
    if (event.type !== 'StateEntered' && event.type !== 'StateFailed' && event.type !== 'StateRetried') return;
    const key = `${event.state.name}#${event.index ?? ''}`;
    if (event.type === 'StateEntered') {
      retried.delete(key);
      return;
    }
    const state = states.get(event.state.name);
    const retriers = (state?.Retry ?? []) as Retrier[];
    if (event.type === 'StateRetried') {
      const counts = retried.get(key) ?? [];
      const names = JSON.stringify(event.retry.retrier.ErrorEquals); // (the runner's copy of the retrier, not this one)
      const index = retriers.findIndex((r) => JSON.stringify(r.ErrorEquals) === names);
      if (index >= 0) counts[index] = (counts[index] ?? 0) + 1;
      retried.set(key, counts);
      return;
    }
    const found = retrierFor(retriers, event.Error, state?.Type === 'Task');
    if (!found) return;
    const [retrier, index] = found;
    const done = retried.get(key)?.[index] ?? 0;
    if (done >= (retrier.MaxAttempts ?? 3)) return; // no retry left: the run fails with it, and says so
    const wait = intervalMs !== undefined ? intervalMs / 1000 : Math.min((retrier.IntervalSeconds ?? 1) * (retrier.BackoffRate ?? 2) ** done, retrier.MaxDelaySeconds ?? Infinity);
    const upTo = retrier.JitterStrategy === 'FULL' && intervalMs === undefined ? 'up to ' : '';
    const reason = causeMessage(event.Cause);
    logger.warn(`${event.state.name} failed; retrying in ${upTo}${wait < 10 ? Number(wait.toFixed(1)) : Math.round(wait)} s (retry ${done + 1} of ${retrier.MaxAttempts ?? 3})`, {
      state: event.state.name,
      error: event.Error,
      reason: reason.length > REASON_CHARS ? `${reason.slice(0, REASON_CHARS)}…` : reason,
    });
  };
}
