/**
 * An upper bound of the history events of the longest run a definition allows, from the
 * definition alone (and the poll schedule its host steps' handlers follow), against Step Functions'
 * 25 000. The run it bounds:
 *
 * - every state is entered, on the success path and every Catch path, with every retry its Retry
 *   allows (a Parallel's retries re-run its branches: a host step's fresh submit);
 * - a Map gets `mapItems` items, `MaxConcurrency` of them at once;
 * - every poll loop (a Wait on a cycle) goes round for the whole execution timeout on every lane
 *   the Map allows, restarted (its wait schedule from the start) as often as the retries above
 *   allow. A poll loop's Task is counted with one invocation per cycle: a Lambda service error on a
 *   poll adds 3 events, and the margin the check keeps is what absorbs those.
 *
 * With the growing wait (core/host-runner/poll-schedule.ts) a loop's cycles grow with the
 * logarithm of its first minutes and then by 12 an hour; with a fixed wait of 10 s they grow by 360
 * an hour, and a day of them is 8 640 cycles of 9 events: far past the limit.
 */
import { pollsWithin, POLL_SCHEDULE, type PollSchedule } from '../../core/host-runner/poll-schedule';
import type { AslDefinition } from '../asl';
import { HISTORY_EVENTS, stateEvents } from '../history-events';
import { attemptsOf, nestedMachines, reachableStates, statesOnCycles, type AslState } from './asl-walk';

/** What the bound assumes of a run. */
export interface HistoryBoundOptions {
  /** The execution timeout: the longest any loop may go round. */
  readonly executionSeconds: number;
  /** Items a Map state gets at most. */
  readonly mapItems: number;
  /** The wait a Wait state with `SecondsPath` follows. @default POLL_SCHEDULE */
  readonly schedule?: PollSchedule;
}

/** The bound, and how it is made up. */
export interface HistoryBound {
  /** History events of the longest allowed run, at most. */
  readonly events: number;
  /** Every state once per time it may be entered (retries included), without the loops going round. */
  readonly baseEvents: number;
  /** Cycles of every poll loop together, at most. */
  readonly pollCycles: number;
  /** Events one cycle adds (the largest of the loops). */
  readonly eventsPerCycle: number;
}

interface Loop {
  /** How many times the loop may be started afresh (its enclosing retries and Map items). */
  restarts: number;
  /** How many copies of it may run at once (a Map's concurrency). */
  lanes: number;
  eventsPerCycle: number;
  /** The Wait's fixed Seconds, or undefined when it follows the schedule (SecondsPath). */
  fixedWaitSeconds?: number;
}

type Machine = Pick<AslDefinition, 'StartAt' | 'States'>;

export function historyBound(definition: Machine, options: HistoryBoundOptions): HistoryBound {
  const loops: Loop[] = [];
  const baseEvents = HISTORY_EVENTS.execution + walk(definition, 1, 1, options, loops);
  if (loops.length === 0) return { events: baseEvents, baseEvents, pollCycles: 0, eventsPerCycle: 0 };
  const restarts = loops.reduce((sum, loop) => sum + loop.restarts, 0);
  const laneSeconds = Math.max(...loops.map((loop) => loop.lanes)) * options.executionSeconds;
  // Cycles are bounded by time: the lanes' time shared among every (re)start of a loop. The polls
  // a step gets grow more slowly than its time, so an even share is the worst split.
  const pollCycles = Math.max(...loops.map((loop) => loop.fixedWaitSeconds === undefined
    ? restarts * pollsWithin(laneSeconds / restarts, options.schedule ?? POLL_SCHEDULE)
    : Math.ceil(laneSeconds / loop.fixedWaitSeconds) + restarts));
  const eventsPerCycle = Math.max(...loops.map((loop) => loop.eventsPerCycle));
  return { events: baseEvents + pollCycles * eventsPerCycle, baseEvents, pollCycles, eventsPerCycle };
}

/** Events of every reachable state of `machine`, `restarts` times; collects its poll loops. */
function walk(machine: Machine, restarts: number, lanes: number, options: HistoryBoundOptions, loops: Loop[]): number {
  const onCycle = statesOnCycles(machine);
  let events = 0;
  for (const [, state] of reachableStates(machine)) {
    const attempts = attemptsOf(state);
    events += restarts * stateEvents(state.Type, attempts);
    if (state.Type === 'Parallel') {
      for (const branch of nestedMachines(state)) events += walk(branch, restarts * attempts, lanes, options, loops);
    }
    if (state.Type === 'Map') {
      const items = options.mapItems;
      const concurrency = Math.min(items, typeof state.MaxConcurrency === 'number' && state.MaxConcurrency > 0 ? state.MaxConcurrency : items);
      events += restarts * attempts * items * HISTORY_EVENTS.mapIteration;
      events += walk(nestedMachines(state)[0], restarts * attempts * items, Math.max(lanes, concurrency), options, loops);
    }
  }
  for (const name of onCycle) {
    const wait = machine.States[name] as AslState;
    if (wait.Type !== 'Wait') continue;
    const cycle = [...onCycle].map((member) => machine.States[member] as AslState);
    loops.push({
      restarts,
      lanes,
      eventsPerCycle: cycle.reduce((sum, member) => sum + stateEvents(member.Type, 1), 0),
      fixedWaitSeconds: typeof wait.Seconds === 'number' ? Math.max(1, wait.Seconds) : undefined,
    });
  }
  return events;
}
