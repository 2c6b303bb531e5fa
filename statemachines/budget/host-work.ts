/**
 * How long the host work of a run may go on: the execution timeout less the worst case of what may
 * follow it (time-budget.ts). The state machine constructs settle it when they are built
 * (run-budget.ts); a definition whose retries are changed afterwards (the CLI's
 * DBBACKUP_RETRY_ATTEMPTS, statemachines/local/shipped-definitions.ts) settles it again here,
 * without CDK, so it is what synthesizing with those retries gives.
 */
import { RUN_BUDGET_FIELD } from '../../core/steps/run-deadline';
import type { AslDefinition } from '../asl';
import { timeBudget } from './time-budget';

/** Seconds of host work `definition` allows (negative when what follows the host work alone outlasts the timeout). */
export function hostWorkSecondsOf(definition: AslDefinition): number {
  const { executionSeconds, tailSeconds } = timeBudget(definition);
  return Math.floor(executionSeconds - tailSeconds);
}

/** Writes {@link hostWorkSecondsOf} into the first step's budget parameters of `definition` (changed in place); returns it. */
export function settleHostWork(definition: AslDefinition): number {
  const seconds = hostWorkSecondsOf(definition);
  const first = definition.States[definition.StartAt] as { Parameters?: Record<string, { hostWorkSeconds?: number }> };
  first.Parameters![RUN_BUDGET_FIELD].hostWorkSeconds = seconds;
  return seconds;
}
