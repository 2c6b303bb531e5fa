/**
 * The time budget of a definition: does cleanup always run before the execution times out?
 *
 * All host work of a run ends by its deadline: the execution's start plus `hostWorkSeconds`, which
 * the definition hands its first step (core/steps/run-deadline.ts). What may follow the deadline is
 * the TAIL: noticing that the running host step stopped (the longest poll wait, then a Submit or
 * Poll at its worst, then the longest retry backoff of a host step), then the longest path through
 * the Tasks that come after the host work (finalize, cleanup, report…), each at its worst: every
 * attempt its Retry allows up to its TimeoutSeconds, plus the backoffs. The budget holds when
 * `hostWorkSeconds + tail ≤ TimeoutSeconds` and a host step may run its full timeout.
 */
import { POLL_SCHEDULE, type PollSchedule } from '../../core/host-runner/poll-schedule';
import { RUN_BUDGET_FIELD } from '../../core/steps/run-deadline';
import type { AslDefinition } from '../asl';
import {
  longestRetryWaitSeconds, nestedMachines, reachableStates, successors, taskWorstSeconds, type AslState,
} from './asl-walk';

/** A definition's time budget, in seconds. */
export interface TimeBudget {
  /** The execution timeout (TimeoutSeconds). */
  readonly executionSeconds: number;
  /** How long after the start host work may go on (from the first step's parameters). */
  readonly hostWorkSeconds: number;
  /** The worst case from the deadline to the end of the execution. */
  readonly tailSeconds: number;
}

type Machine = Pick<AslDefinition, 'StartAt' | 'States'> & { TimeoutSeconds?: number };

export function timeBudget(definition: Machine, schedule: PollSchedule = POLL_SCHEDULE): TimeBudget {
  const executionSeconds = definition.TimeoutSeconds;
  if (typeof executionSeconds !== 'number') throw new Error('the definition has no TimeoutSeconds: an execution could run for a year');
  return { executionSeconds, hostWorkSeconds: hostWorkSeconds(definition), tailSeconds: tailSeconds(definition, schedule) };
}

/** The `hostWorkSeconds` the definition hands its first step. */
function hostWorkSeconds(definition: Machine): number {
  const first = definition.States[definition.StartAt] as AslState;
  const run = (first.Parameters as Record<string, { hostWorkSeconds?: unknown }> | undefined)?.[RUN_BUDGET_FIELD];
  if (typeof run?.hostWorkSeconds !== 'number') {
    throw new Error(`the first state '${definition.StartAt}' does not hand the run its time budget (Parameters.${RUN_BUDGET_FIELD}.hostWorkSeconds)`);
  }
  return run.hostWorkSeconds;
}

/** Noticing that host work stopped, then the longest path through the Tasks after it. */
function tailSeconds(definition: Machine, schedule: PollSchedule): number {
  const states = reachableStates(definition);
  const hostWork = states.filter(([, state]) => state.Type === 'Parallel' || state.Type === 'Map');
  if (hostWork.length === 0) return 0;
  const longest = new Map<string, number>();
  const after = (name: string): number => {
    const known = longest.get(name);
    if (known !== undefined) return known;
    const state = definition.States[name] as AslState;
    const own = state.Type === 'Task' ? taskWorstSeconds(name, state) : 0; // host work is within its deadline
    const value = own + Math.max(0, ...successors(state).map(after));
    longest.set(name, value);
    return value;
  };
  const afterHostWork = Math.max(...hostWork.map(([, state]) => Math.max(0, ...successors(state).map(after))));
  return noticeSeconds(hostWork.map(([, state]) => state), schedule) + afterHostWork;
}

/** How long after the deadline the state machine may take to see that a host step stopped. */
function noticeSeconds(hostWork: AslState[], schedule: PollSchedule): number {
  let wait = 0;
  let task = 0;
  let retry = 0;
  const visit = (state: AslState) => {
    retry = Math.max(retry, longestRetryWaitSeconds(state));
    for (const machine of nestedMachines(state)) {
      for (const [name, inner] of reachableStates(machine)) {
        if (inner.Type === 'Task') task = Math.max(task, taskWorstSeconds(name, inner));
        if (inner.Type === 'Wait') wait = Math.max(wait, typeof inner.Seconds === 'number' ? inner.Seconds : schedule.maxSeconds);
        visit(inner);
      }
    }
  };
  for (const state of hostWork) visit(state);
  return wait + task + retry;
}
