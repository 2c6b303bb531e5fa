/**
 * A Step Functions stand-in for tests: the JSON 1.0 protocol (`AWSStepFunctions.<Operation>`) on
 * 127.0.0.1, well enough for the real @aws-sdk/client-sfn, whose executions run the synthesized
 * definitions in process (the local runner, with the real handlers), as the SSM stand-in runs
 * commands. Operations: ListStateMachines, DescribeStateMachine, StartExecution, DescribeExecution,
 * GetExecutionHistory, ListExecutions.
 *
 * Behaviour copied from Step Functions:
 * - one region, one account: a request signed for another region is refused;
 * - StartExecution: the machine must exist (`StateMachineDoesNotExist`), the input be JSON
 *   (`InvalidExecutionInput`) of at most 256 KiB, the name 1–80 of `[A-Za-z0-9_-]` (`InvalidName`),
 *   unique per machine (`ExecutionAlreadyExists`);
 * - an execution is RUNNING, then SUCCEEDED with its output or FAILED with its error and cause;
 * - the history: ExecutionStarted, `<Type>StateEntered` / `<Type>StateExited` with the state's
 *   name, input and output (nested states included, as AWS records them), the Fail state's
 *   `FailStateEntered`, and ExecutionSucceeded or ExecutionFailed; pages of at most 1 000
 *   (`maxResults`, default 100) with a `nextToken`;
 * - ListExecutions: newest first, filtered by status, paged.
 */
import { randomUUID } from 'node:crypto';
import type { EventLog } from '../../statemachines/local/service-limits';
import type { LocalExecution } from '../../statemachines/local/run-local';
import { AwsFault, startAwsJsonEndpoint, type RecordedCall, type StandinClientConfig } from './aws-json-endpoint';

/** Runs `input` through a machine's definition in process, reporting each event. */
export type RunDefinition = (input: unknown, onEvent: (event: EventLog) => void) => Promise<LocalExecution>;

export interface SfnStandinOptions {
  region?: string;
  account?: string;
  /** The deployed state machines by name: their definition, and how an execution of it runs. */
  machines: Record<string, { definition: object; run: RunDefinition }>;
}

interface HistoryEvent {
  id: number;
  previousEventId: number;
  timestamp: number;
  type: string;
  [details: string]: unknown;
}

interface ExecutionRecord {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  input: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  startDate: number;
  stopDate?: number;
  output?: string;
  error?: string;
  cause?: string;
  events: HistoryEvent[];
  ended: Promise<void>;
}

export interface SfnStandin {
  endpoint: string;
  clientConfig: StandinClientConfig;
  calls: RecordedCall[];
  /** ARN of the machine named `name`. */
  arnOf(name: string): string;
  /** Resolves once every execution started so far has ended. */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

const MAX_INPUT_BYTES = 256 * 1024;
const EXECUTION_NAME = /^[A-Za-z0-9_-]{1,80}$/;
const seconds = (ms: number) => ms / 1000;

export async function startSfnStandin(options: SfnStandinOptions): Promise<SfnStandin> {
  const region = options.region ?? 'us-east-1';
  const account = options.account ?? '123456789012';
  const created = seconds(Date.now());
  const arnOf = (name: string) => `arn:aws:states:${region}:${account}:stateMachine:${name}`;
  const executions = new Map<string, ExecutionRecord>();

  const machineOf = (arn: unknown) => {
    const name = Object.keys(options.machines).find((n) => arnOf(n) === arn);
    if (!name) throw new AwsFault('StateMachineDoesNotExist', `State Machine Does Not Exist: '${String(arn)}'`);
    return { name, ...options.machines[name] };
  };
  const executionOf = (arn: unknown) => {
    const execution = executions.get(String(arn));
    if (!execution) throw new AwsFault('ExecutionDoesNotExist', `Execution Does Not Exist: '${String(arn)}'`);
    return execution;
  };
  const page = <T>(items: T[], input: Record<string, unknown>, defaultSize: number) => {
    const size = Math.min(Number(input.maxResults) || defaultSize, 1000);
    const start = typeof input.nextToken === 'string' ? Number(input.nextToken) : 0;
    const next = start + size < items.length ? String(start + size) : undefined;
    return { items: items.slice(start, start + size), ...(next ? { nextToken: next } : {}) };
  };

  function startExecution(input: Record<string, unknown>): unknown {
    const machine = machineOf(input.stateMachineArn);
    const text = typeof input.input === 'string' ? input.input : '{}';
    if (Buffer.byteLength(text) > MAX_INPUT_BYTES) throw new AwsFault('InvalidExecutionInput', `the input is ${Buffer.byteLength(text)} bytes, more than the ${MAX_INPUT_BYTES} allowed`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new AwsFault('InvalidExecutionInput', `Invalid State Machine Execution Input: '${(error as Error).message}'`);
    }
    const name = typeof input.name === 'string' ? input.name : randomUUID();
    if (!EXECUTION_NAME.test(name)) throw new AwsFault('InvalidName', `Invalid Name: '${name}'`);
    const executionArn = `arn:aws:states:${region}:${account}:execution:${machine.name}:${name}`;
    const existing = executions.get(executionArn);
    if (existing) {
      if (existing.input === text) return { executionArn, startDate: existing.startDate };
      throw new AwsFault('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    }
    const record: ExecutionRecord = {
      executionArn, stateMachineArn: arnOf(machine.name), name, input: text, status: 'RUNNING', startDate: seconds(Date.now()), events: [], ended: Promise.resolve(),
    };
    const add = (type: string, details: Record<string, unknown> = {}) => {
      const id = record.events.length + 1;
      record.events.push({ id, previousEventId: id - 1, timestamp: seconds(Date.now()), type, ...details });
    };
    add('ExecutionStarted', { executionStartedEventDetails: { input: text, roleArn: `arn:aws:iam::${account}:role/standin` } });
    record.ended = machine.run(parsed, (event) => historyOf(event, add)).then(
      (execution) => {
        record.output = JSON.stringify(execution.output);
        record.status = 'SUCCEEDED';
        add('ExecutionSucceeded', { executionSucceededEventDetails: { output: record.output } });
      },
      (error: unknown) => {
        const failed = error as { errorName?: string; causeText?: string; name?: string; message?: string };
        record.error = failed.errorName ?? failed.name ?? 'Error';
        record.cause = failed.causeText ?? failed.message ?? String(error);
        record.status = 'FAILED';
        add('ExecutionFailed', { executionFailedEventDetails: { error: record.error, cause: record.cause } });
      },
    ).finally(() => { record.stopDate = seconds(Date.now()); });
    executions.set(executionArn, record);
    return { executionArn, startDate: record.startDate };
  }

  const summaryOf = (e: ExecutionRecord) => ({
    executionArn: e.executionArn, stateMachineArn: e.stateMachineArn, name: e.name, status: e.status, startDate: e.startDate, ...(e.stopDate ? { stopDate: e.stopDate } : {}),
  });

  const server = await startAwsJsonEndpoint({
    region, service: 'states', targetPrefix: 'AWSStepFunctions.', jsonVersion: '1.0',
    operations: {
      ListStateMachines: (input) => {
        const { items, nextToken } = page(Object.keys(options.machines), input, 100);
        return { stateMachines: items.map((name) => ({ stateMachineArn: arnOf(name), name, type: 'STANDARD', creationDate: created })), nextToken };
      },
      DescribeStateMachine: (input) => {
        const machine = machineOf(input.stateMachineArn);
        return {
          stateMachineArn: arnOf(machine.name), name: machine.name, status: 'ACTIVE', type: 'STANDARD', creationDate: created,
          definition: JSON.stringify(machine.definition), roleArn: `arn:aws:iam::${account}:role/standin`,
        };
      },
      StartExecution: startExecution,
      DescribeExecution: (input) => {
        const e = executionOf(input.executionArn);
        return { ...summaryOf(e), input: e.input, ...(e.output !== undefined ? { output: e.output } : {}), ...(e.error ? { error: e.error, cause: e.cause } : {}) };
      },
      GetExecutionHistory: (input) => {
        const events = [...executionOf(input.executionArn).events];
        const { items, nextToken } = page(input.reverseOrder === true ? events.reverse() : events, input, 100);
        return { events: items, nextToken };
      },
      ListExecutions: (input) => {
        machineOf(input.stateMachineArn);
        const matching = [...executions.values()]
          .filter((e) => e.stateMachineArn === input.stateMachineArn && (!input.statusFilter || e.status === input.statusFilter))
          .sort((a, b) => b.startDate - a.startDate);
        const { items, nextToken } = page(matching, input, 100);
        return { executions: items.map(summaryOf), nextToken };
      },
    },
  });

  return {
    endpoint: server.endpoint,
    clientConfig: server.clientConfig,
    calls: server.calls,
    arnOf,
    settled: async () => { await Promise.all([...executions.values()].map((e) => e.ended)); },
    async stop() {
      await Promise.all([...executions.values()].map((e) => e.ended));
      await server.close();
    },
  };
}

/** The history events AWS records for one event of the local run. */
function historyOf(event: EventLog, add: (type: string, details?: Record<string, unknown>) => void): void {
  if (event.type === 'StateEntered') {
    const { name, type, input } = event.state;
    add(`${type}StateEntered`, { stateEnteredEventDetails: { name, input: JSON.stringify(input ?? null) } });
  } else if (event.type === 'StateExited') {
    const { name, type, output } = event.state;
    add(`${type}StateExited`, { stateExitedEventDetails: { name, output: JSON.stringify(output ?? null) } });
  } else if (event.type === 'StateFailed' && event.state.type === 'Task') {
    add('LambdaFunctionFailed', { lambdaFunctionFailedEventDetails: { error: event.Error, cause: String(event.Cause) } });
  } else if (event.type === 'MapIterationStarted') {
    add('MapIterationStarted', { mapIterationStartedEventDetails: { name: event.parentState.name, index: event.index } });
  }
}
