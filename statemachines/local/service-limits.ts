/**
 * The quotas Step Functions enforces on an execution, enforced the same way on a local run, so a
 * definition or a handler that would fail in AWS fails here first:
 *
 * - every state's input and output, every Task's input and result, and the execution's input and
 *   output are at most 256 KiB: beyond it the execution fails with `States.DataLimitExceeded`,
 *   which no Retry or Catch handles (not even `States.ALL`);
 * - the history holds at most 25 000 events (counted as AWS counts them, history-events.ts): the
 *   execution fails when it would need more.
 *
 * A Task's sizes are checked as it runs, so the Task fails at once; a state's input and output are
 * checked from the run's event stream, which stops the execution as soon as one is too large.
 */
import type { StateMachine } from 'aws-local-stepfunctions';
import { STEP_FUNCTIONS_LIMITS, stateEvents, HISTORY_EVENTS, type StateType } from '../history-events';

/** One event of a local run's stream (the library does not export the type). */
export type EventLog = ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

/** Error name of a payload over the limit (AWS's own). */
export const DATA_LIMIT_EXCEEDED = 'States.DataLimitExceeded';
/** Error name this runner gives an execution whose history would exceed the limit. */
export const HISTORY_LIMIT_EXCEEDED = 'States.Runtime';

/**
 * An error Step Functions raises itself and that no Retry or Catch may handle. aws-local-stepfunctions
 * reads `isRetryable`/`isCatchable` from whatever a Task throws, so throwing this from a Task
 * fails the whole execution, as in AWS.
 */
export class UncatchableStatesError extends Error {
  readonly isRetryable = false;
  readonly isCatchable = false;

  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/** Size of a JSON payload as Step Functions measures it: UTF-8 bytes of its JSON text. */
export function payloadBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value ?? null), 'utf8');
}

/** The largest payload seen in a run, and where. */
export interface LargestPayload {
  bytes: number;
  /** e.g. `output of Snapshot`, `result of Submit snapshot`. */
  where: string;
}

/** What one run measured against the quotas. */
export interface LimitsReport {
  /** History events the run would have in AWS. */
  historyEvents: number;
  largestPayload: LargestPayload;
}

/** Counts and checks one execution. */
export class ExecutionLimits {
  private events = 0;
  private largest: LargestPayload = { bytes: 0, where: 'nothing yet' };
  /** The first quota the run broke, if any. */
  violation?: UncatchableStatesError;

  constructor(private readonly limits: { payloadBytes: number; historyEvents: number } = STEP_FUNCTIONS_LIMITS) {}

  /** Checks one payload; returns (and remembers) the violation, without throwing. */
  checkPayload(value: unknown, where: string): UncatchableStatesError | undefined {
    const bytes = payloadBytes(value);
    if (bytes > this.largest.bytes) this.largest = { bytes, where };
    if (bytes <= this.limits.payloadBytes) return undefined;
    return this.fail(new UncatchableStatesError(DATA_LIMIT_EXCEEDED,
      `the ${where} is ${bytes} bytes, more than the ${this.limits.payloadBytes} bytes Step Functions allows (pass store keys, not data)`));
  }

  /** Like {@link checkPayload}, but throws: for a Task's input and result. */
  assertPayload(value: unknown, where: string): void {
    const violation = this.checkPayload(value, where);
    if (violation) throw violation;
  }

  /** Counts one event of the run's stream and checks the payloads it carries; returns a violation. */
  observe(event: EventLog): UncatchableStatesError | undefined {
    if (this.violation) return undefined; // the run is over: AWS records nothing after its failure
    this.events += eventsOf(event);
    const final = event.type === 'ExecutionSucceeded' || event.type === 'ExecutionFailed' || event.type === 'ExecutionAborted' || event.type === 'ExecutionTimeout';
    if (!final && this.events >= this.limits.historyEvents) {
      return this.fail(new UncatchableStatesError(HISTORY_LIMIT_EXCEEDED,
        `the execution reached ${this.limits.historyEvents} history events, Step Functions' limit for one execution`));
    }
    if (event.type === 'ExecutionStarted') return this.checkPayload(event.input, 'execution input');
    if (event.type === 'ExecutionSucceeded') return this.checkPayload(event.output, 'execution output');
    if (event.type === 'StateEntered') return this.checkPayload(event.state.input, `input of ${event.state.name}`);
    if (event.type === 'StateExited') return this.checkPayload(event.state.output, `output of ${event.state.name}`);
    return undefined;
  }

  report(): LimitsReport {
    return { historyEvents: this.events, largestPayload: { ...this.largest } };
  }

  private fail(error: UncatchableStatesError): UncatchableStatesError {
    this.violation ??= error;
    return error;
  }
}

/** AWS history events one local event stands for (history-events.ts). */
function eventsOf(event: EventLog): number {
  switch (event.type) {
    case 'ExecutionStarted':
    case 'ExecutionSucceeded':
    case 'ExecutionFailed':
    case 'ExecutionAborted':
    case 'ExecutionTimeout':
      return HISTORY_EVENTS.execution / 2;
    case 'MapIterationStarted':
    case 'MapIterationSucceeded':
    case 'MapIterationFailed':
      return HISTORY_EVENTS.mapIteration / 2;
    case 'StateEntered': {
      const type = event.state.type as StateType;
      // Entered, and the first attempt (a Task's or a Parallel/Map's) with its end; Exited adds one.
      return type === 'Fail' ? HISTORY_EVENTS.fail : stateEvents(type) - 1;
    }
    case 'StateExited':
      return 1;
    case 'StateRetried': {
      const type = event.state.type as StateType;
      if (type === 'Task') return HISTORY_EVENTS.taskAttempt;
      return type === 'Parallel' || type === 'Map' ? HISTORY_EVENTS.branchingAttempt : 0;
    }
    default:
      return 0;
  }
}
