/**
 * How many events each kind of state adds to a Step Functions (STANDARD) execution's history, as
 * AWS records them. One table for the two places that count events: the local runner, which counts
 * an execution as it runs and fails it at {@link STEP_FUNCTIONS_LIMITS.historyEvents} like AWS
 * does, and the budget check, which bounds the history of the longest run a definition allows.
 *
 * | state | events |
 * |---|---|
 * | the execution | ExecutionStarted, ExecutionSucceeded/Failed/TimedOut |
 * | Task (Lambda) | TaskStateEntered, TaskStateExited; per attempt LambdaFunctionScheduled, Started, Succeeded/Failed/TimedOut |
 * | Parallel, Map | …StateEntered, …StateExited; per attempt …StateStarted, …StateSucceeded/Failed |
 * | Map iteration | MapIterationStarted, MapIterationSucceeded/Failed |
 * | Wait, Choice, Pass, Succeed | …StateEntered, …StateExited |
 * | Fail | FailStateEntered |
 *
 * So one cycle of a host step's poll loop (Wait → Poll → pending?) adds 2 + 5 + 2 = 9 events.
 */

/** Step Functions' quotas that bind a run (STANDARD workflows). */
export const STEP_FUNCTIONS_LIMITS = {
  /** Largest input or output of any state, and of the execution, in UTF-8 bytes (256 KiB). */
  payloadBytes: 256 * 1024,
  /** Events in one execution's history; the execution fails at this number. */
  historyEvents: 25_000,
} as const;

/** Events per unit of each kind (see the module comment). */
export const HISTORY_EVENTS = {
  /** ExecutionStarted + its end. */
  execution: 2,
  /** …StateEntered + …StateExited of any state but Fail. */
  enterExit: 2,
  /** One attempt of a Task: scheduled, started, ended. */
  taskAttempt: 3,
  /** One attempt of a Parallel or Map: started, ended. */
  branchingAttempt: 2,
  /** One Map iteration: started, ended. */
  mapIteration: 2,
  /** FailStateEntered. */
  fail: 1,
} as const;

/** The state types of the Amazon States Language. */
export type StateType = 'Task' | 'Parallel' | 'Map' | 'Pass' | 'Wait' | 'Choice' | 'Succeed' | 'Fail';

/** Events one pass through a state adds (its own, not those of nested branches), with `attempts` attempts. */
export function stateEvents(type: StateType, attempts = 1): number {
  switch (type) {
    case 'Fail':
      return HISTORY_EVENTS.fail;
    case 'Task':
      return HISTORY_EVENTS.enterExit + attempts * HISTORY_EVENTS.taskAttempt;
    case 'Parallel':
    case 'Map':
      return HISTORY_EVENTS.enterExit + attempts * HISTORY_EVENTS.branchingAttempt;
    default:
      return HISTORY_EVENTS.enterExit;
  }
}
