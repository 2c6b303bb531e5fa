/**
 * THE RUN'S DEADLINE: one time limit for all the host work of a run, so that cleanup always runs
 * before the execution's timeout, however many host steps, nodes and retries the run has.
 *
 * The state machine hands its first step (Prepare, Fetch manifest) the execution's start time and
 * how long host work may go on from it (`hostWorkSeconds`: the execution timeout less the worst case
 * of everything that may follow the host work, checked when the stack is synthesized:
 * statemachines/budget). The first step puts `deadline` in the state; every host step then runs
 * for at most the time left (its own timeout, or less) and is refused once too little is left,
 * which sends the run through its cleanup path.
 *
 * @example
 * ```ts
 * const { request, budget } = splitRunInput(event);   // { request, budget: { startedAt, hostWorkSeconds } } from the state machine
 * const state = { ...request, ...deadlineOf(budget) }; // { deadline: '2026-11-22T03:00:00.000Z' }
 * ```
 */
import { z } from 'zod';
import { PermanentError } from '../errors';
import { parseInput } from './step-deps';

/** The field of the first step's input that carries the run's budget (`request` carries the execution's input). */
export const RUN_BUDGET_FIELD = 'budget';

/** Shortest time a host step is started with: with less left, the run goes to its cleanup instead. */
export const MIN_HOST_STEP_SECONDS = 60;

export const runBudgetSchema = z.strictObject({
  /** The execution's start (`$$.Execution.StartTime`). */
  startedAt: z.iso.datetime({ offset: true }),
  /** How long after it the host work may go on. */
  hostWorkSeconds: z.number().positive(),
});
export type RunBudget = z.infer<typeof runBudgetSchema>;

/**
 * The request and the run's budget of a first step's input: `{ request, budget }` when the state
 * machine wraps it, the bare request when a step is called directly (CLI tests, other callers).
 */
export function splitRunInput(event: unknown): { request: unknown; budget?: RunBudget } {
  const wrapped = event as { request?: unknown; [RUN_BUDGET_FIELD]?: unknown } | undefined;
  if (!wrapped || typeof wrapped !== 'object' || !('request' in wrapped) || !(RUN_BUDGET_FIELD in wrapped)) return { request: event };
  return { request: wrapped.request, budget: parseInput(runBudgetSchema, wrapped[RUN_BUDGET_FIELD], 'run budget') };
}

/** `{ deadline }` for the state, or nothing when the run has no budget. */
export function deadlineOf(budget: RunBudget | undefined): { deadline?: string } {
  return budget ? { deadline: new Date(Date.parse(budget.startedAt) + budget.hostWorkSeconds * 1000).toISOString() } : {};
}

/**
 * The timeout to give a host step: its own, or the time left before the run's deadline if less.
 * @throws PermanentError `RUN_DEADLINE_PASSED` when less than {@link MIN_HOST_STEP_SECONDS} is left.
 */
export function hostStepSeconds(stepTimeoutSeconds: number, deadline: string | undefined, now: Date = new Date()): number {
  if (deadline === undefined) return stepTimeoutSeconds;
  const left = Math.floor((Date.parse(deadline) - now.getTime()) / 1000);
  if (left < MIN_HOST_STEP_SECONDS) {
    throw new PermanentError(
      `the run's time for host work ended at ${deadline} (${left < 0 ? `${-left} s ago` : `${left} s left`}); stopping so that its cleanup runs before the execution times out`,
      { code: 'RUN_DEADLINE_PASSED' },
    );
  }
  return Math.min(stepTimeoutSeconds, left);
}
