/**
 * The check the state machine constructs run on their own definition when the stack is
 * synthesized (and so whenever the local runner builds its definitions): the longest run the
 * definition allows must end — cleanup included — before the execution's timeout, and its history
 * must stay a margin below Step Functions' 25 000 events. A definition that fails either is refused
 * with an error that says by how much, so it never reaches AWS.
 *
 * @example
 * ```ts
 * const report = checkBudget(synthesizeDefinitions().backup, { hostStepTimeoutSeconds: 6 * 3600, mapItems: 4 });
 * // report.history.events ≈ 16 000 < 20 000
 * ```
 */
import type { PollSchedule } from '../../core/host-runner/poll-schedule';
import type { AslDefinition } from '../asl';
import { STEP_FUNCTIONS_LIMITS } from '../history-events';
import { historyBound, type HistoryBound } from './history-bound';
import { timeBudget, type TimeBudget } from './time-budget';

/** Share of the history limit the bound must stay below by default (a fifth is kept free). */
export const DEFAULT_HISTORY_MARGIN = 0.2;

/** What the check needs besides the definition. */
export interface BudgetCheckOptions {
  /** Longest one host step may run. */
  readonly hostStepTimeoutSeconds: number;
  /** Items a Map state gets at most (a backup's nodes). */
  readonly mapItems: number;
  /** Share of the history limit to keep free. @default DEFAULT_HISTORY_MARGIN */
  readonly margin?: number;
  /** The poll schedule of the host steps. @default POLL_SCHEDULE */
  readonly schedule?: PollSchedule;
}

/** The figures the check found. */
export interface BudgetReport {
  readonly time: TimeBudget;
  readonly history: HistoryBound;
  /** The most history events allowed with the margin kept. */
  readonly historyAllowed: number;
}

/** A definition whose longest run would outlast its execution or its history. */
export class BudgetExceededError extends Error {
  constructor(message: string, readonly report: BudgetReport) {
    super(message);
    this.name = 'BudgetExceededError';
  }
}

/** Checks `definition`'s budget; returns the figures, or throws {@link BudgetExceededError} naming what is over. */
export function checkBudget(definition: AslDefinition, options: BudgetCheckOptions): BudgetReport {
  const time = timeBudget(definition, options.schedule);
  const history = historyBound(definition, { executionSeconds: time.executionSeconds, mapItems: options.mapItems, schedule: options.schedule });
  const historyAllowed = Math.floor(STEP_FUNCTIONS_LIMITS.historyEvents * (1 - (options.margin ?? DEFAULT_HISTORY_MARGIN)));
  const report: BudgetReport = { time, history, historyAllowed };
  const hours = (seconds: number) => `${(seconds / 3600).toFixed(2)} h`;
  const problems: string[] = [];
  if (time.hostWorkSeconds + time.tailSeconds > time.executionSeconds) {
    problems.push(`host work may go on for ${hours(time.hostWorkSeconds)} and what may follow it takes up to ${hours(time.tailSeconds)}: more than the ${hours(time.executionSeconds)} execution timeout, so a run could time out before its cleanup`);
  }
  if (time.hostWorkSeconds < options.hostStepTimeoutSeconds) {
    problems.push(`a host step may run ${hours(options.hostStepTimeoutSeconds)}, but the run leaves only ${hours(time.hostWorkSeconds)} for host work (execution timeout ${hours(time.executionSeconds)} less ${hours(time.tailSeconds)} for what follows it)`);
  }
  if (history.events > historyAllowed) {
    problems.push(`the longest allowed run may record ${history.events} history events (${history.pollCycles} poll cycles of ${history.eventsPerCycle}), more than ${historyAllowed} (Step Functions stops an execution at ${STEP_FUNCTIONS_LIMITS.historyEvents}, with no cleanup)`);
  }
  if (problems.length > 0) throw new BudgetExceededError(`state machine budget exceeded: ${problems.join('; ')}`, report);
  return report;
}
