/**
 * Runs a synthesized state machine definition in this process with aws-local-stepfunctions,
 * every Task mapped (by its `handler:<name>` comment) to the real Lambda handler. So the Retry,
 * Catch, Map and Choice policies that ship to AWS are what runs locally and in the tests.
 */
import './polyfills';
import './runner-packages-on-first-use';
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { PermanentError, fromNameAndMessage, type ClassifiedError } from '../../core/errors';
import { causeMessage } from '../../core/steps/failure-cause';
import type { RuntimeProvider } from '../../functions/shared/lambda-runtime';
import type { AslDefinition } from '../asl';
import { ExecutionLimits, type EventLog, type LimitsReport } from './service-limits';
import { taskHandlerNames, waitStateNames } from './task-handlers';

type LocalHandler = (event: unknown, context: unknown) => Promise<unknown>;
type HandlerTable = Record<string, (provider: RuntimeProvider) => LocalHandler>;

export interface LocalRunOptions {
  /** The runtime the handlers use (store, registry, host runner). */
  provider: RuntimeProvider;
  /**
   * Milliseconds every Wait state waits instead of what the definition says (tests). Default: what
   * it says, i.e. the host step handler's growing wait between polls.
   */
  waitMs?: number;
  /** Milliseconds between retries instead of the policy's backoff (default: the policy's own). */
  retryIntervalMs?: number;
  /** Sees every Task's input and result as it passes (tests: what travels in the state). */
  onPayload?: (value: unknown, where: string) => void;
  /** Sees every event of the execution as it happens (a Step Functions stand-in builds its history from them). */
  onEvent?: (event: EventLog) => void;
  /**
   * The definition is the one the build shipped, synthesized by the same CDK code every test runs
   * and validates: not validated again here (a few hundred milliseconds of every CLI command).
   */
  shipped?: boolean;
}

export interface LocalExecution {
  output: unknown;
  /** How many times each state was retried, by state name. */
  retries: Record<string, number>;
  /** States entered, in order. */
  path: string[];
  /** The run measured against Step Functions' quotas (history events, largest payload). */
  limits: LimitsReport;
}

/** A failed execution, carrying the error name (TransientError/PermanentError/...) and cause of the Fail. */
export class ExecutionFailedError extends Error {
  constructor(readonly errorName: string, readonly causeText: string, readonly execution: Omit<LocalExecution, 'output'>) {
    super(causeText);
    this.name = 'ExecutionFailedError';
  }

  /** The failure as one of our error classes (code included), so the CLI can map it to an exit code. */
  toClassified(): ClassifiedError {
    return fromNameAndMessage(this.errorName, this.causeText);
  }
}

/** A Lambda context good enough for middy and Powertools. */
export function localContext(functionName: string): Context {
  return {
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => 900_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

let handlerTable: HandlerTable | undefined;

/**
 * Loads the handler modules on first use. Powertools writes logs and EMF metrics to stdout, which
 * belongs to the CLI's own output when the handlers run locally: locally, logs go through the
 * runtime's logger, and metrics (CloudWatch-only) are off unless the caller enabled them.
 */
function handlers(): HandlerTable {
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  handlerTable ??= (require('../../functions/handlers') as { HANDLERS: HandlerTable }).HANDLERS;
  return handlerTable;
}

/** Choice rules that test a variable's type or presence (`IsPresent`, `IsNull`, ...). */
const TYPE_TESTS = ['IsPresent', 'IsNull', 'IsNumeric', 'IsString', 'IsBoolean', 'IsTimestamp'];

/**
 * `definition` with every type test against `false` written as `Not` of the test against `true`,
 * which Step Functions evaluates the same. aws-local-stepfunctions 3 evaluates `"IsPresent": false`
 * (and the other tests against false) as always false, where AWS takes it for "absent": a
 * definition using it would take other branches here than in AWS.
 */
export function withTypeTestsNegated(definition: unknown): unknown {
  if (Array.isArray(definition)) return definition.map(withTypeTestsNegated);
  if (definition === null || typeof definition !== 'object') return definition;
  const node = Object.fromEntries(Object.entries(definition).map(([key, value]) => [key, withTypeTestsNegated(value)]));
  const test = TYPE_TESTS.find((name) => node[name] === false);
  if (test === undefined || typeof node.Variable !== 'string') return node;
  const { Next, ...rule } = node;
  return { Not: { ...rule, [test]: true }, ...(Next !== undefined ? { Next } : {}) };
}

/** Each definition's machine, validated once (a few hundred milliseconds) however often it runs. */
const machines = new WeakMap<object, StateMachine>();

function machineOf(definition: object, shipped: boolean): StateMachine {
  let machine = machines.get(definition);
  if (!machine) {
    machine = new StateMachine(withTypeTestsNegated(definition) as StateMachineDefinition, { validationOptions: shipped ? { noValidate: true } : { checkArn: false } });
    machines.set(definition, machine);
  }
  return machine;
}

export async function runLocalStateMachine(definition: object, input: unknown, options: LocalRunOptions): Promise<LocalExecution> {
  const asl = definition as AslDefinition;
  const table = handlers();
  const limits = new ExecutionLimits();
  const taskHandlers: Record<string, (input: unknown) => Promise<never>> = {};
  const retryIntervalOverrides: Record<string, number> = {};
  for (const [stateName, handlerName] of Object.entries(taskHandlerNames(asl))) {
    const factory = table[handlerName];
    if (!factory) throw new PermanentError(`state '${stateName}' names unknown handler '${handlerName}'`, { code: 'INVALID_DEFINITION' });
    const handler = factory(options.provider);
    taskHandlers[stateName] = async function runTask(event) {
      limits.assertPayload(event, `input of ${stateName}`);
      options.onPayload?.(event, `input of ${stateName}`);
      const result = await handler(event, localContext(handlerName.replace('/', '-')));
      limits.assertPayload(result, `result of ${stateName}`);
      options.onPayload?.(result, `result of ${stateName}`);
      return result as never;
    };
  }
  const waitMs = options.waitMs;
  const waitTimeOverrides: Record<string, number> = waitMs === undefined ? {} : Object.fromEntries(waitStateNames(asl).map((name) => [name, waitMs]));
  const machine = machineOf(definition, options.shipped === true);
  const execution = machine.run(input as never, {
    overrides: {
      taskResourceLocalHandlers: taskHandlers as never,
      waitTimeOverrides,
      ...(options.retryIntervalMs !== undefined ? { retryIntervalOverrides: new Proxy(retryIntervalOverrides, { get: () => options.retryIntervalMs }) } : {}),
    },
  });

  const retries: Record<string, number> = {};
  const path: string[] = [];
  let failure: { Error: string; Cause: unknown } | undefined;
  const collecting = (async function collectEvents() {
    for await (const event of execution.eventLogs) {
      // A quota broken anywhere stops the run, as in AWS (no Catch, no cleanup).
      options.onEvent?.(event);
      if (limits.observe(event) && !failure) execution.abort();
      if (event.type === 'StateEntered') path.push(event.state.name);
      if (event.type === 'StateRetried') retries[event.state.name] = (retries[event.state.name] ?? 0) + 1;
      if (event.type === 'ExecutionFailed') failure = { Error: event.Error, Cause: event.Cause };
    }
  })();
  try {
    const output = await execution.result;
    await collecting;
    if (limits.violation) throw limits.violation;
    return { output, retries, path, limits: limits.report() };
  } catch (error) {
    await collecting.catch(() => undefined);
    const broken = limits.violation;
    const name = broken?.name ?? failure?.Error ?? (error as Error).name;
    const cause = broken?.message ?? failure?.Cause ?? (error as Error).message;
    throw new ExecutionFailedError(name, causeMessage(cause), { retries, path, limits: limits.report() });
  }
}
