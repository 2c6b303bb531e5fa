/**
 * The deployed state machines, driven from the CLI through the Step Functions API: find a machine
 * by name or ARN, start an execution with a request checked here first, follow it to its end
 * (DescribeExecution, and GetExecutionHistory for each step it enters), and read past executions.
 * The endpoint is the SDK's (`AWS_ENDPOINT_URL_SFN` points it at LocalStack or a stand-in).
 */
import {
  DescribeExecutionCommand, DescribeStateMachineCommand, GetExecutionHistoryCommand, ListExecutionsCommand, ListStateMachinesCommand,
  SFNClient, StartExecutionCommand, type ExecutionStatus, type HistoryEvent,
} from '@aws-sdk/client-sfn';
import { setTimeout as sleep } from 'node:timers/promises';
import { PermanentError, TransientError } from '../errors';

/** One execution as the CLI shows it. */
export interface RemoteExecution {
  executionArn: string;
  name: string;
  status: ExecutionStatus | string;
  startDate?: string;
  stopDate?: string;
  /** The execution's output, parsed (SUCCEEDED). */
  output?: unknown;
  /** The failing error and cause (FAILED, TIMED_OUT, ABORTED). */
  error?: string;
  cause?: string;
}

/** A step of the execution the follower reports: a top-level state entered, or one that failed. */
export interface StepEvent {
  state: string;
  event: 'entered' | 'failed';
  at: string;
  detail?: string;
}

const ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]{1,80}$/;
const EXECUTION_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[A-Za-z0-9_-]{1,80}:[A-Za-z0-9_-]{1,80}$/;
/** The states a follower reports: the ones that do work (Task, Parallel host steps, Map over nodes). */
const WORKING_STATES = new Set(['Task', 'Parallel', 'Map']);

const iso = (date: Date | undefined) => date?.toISOString();

/** What the follower reads of a state in the machine's definition. */
interface MachineState {
  Type?: string;
  ItemProcessor?: { States?: Record<string, MachineState> };
  Iterator?: { States?: Record<string, MachineState> };
}

export class RemoteStateMachines {
  constructor(private readonly client: SFNClient = new SFNClient({})) {}

  /**
   * The ARN of the machine `nameOrArn` names (a name is looked up in the account's machines).
   * @throws PermanentError `STATE_MACHINE_NOT_FOUND` naming the machines there are
   */
  async resolve(nameOrArn: string): Promise<string> {
    if (ARN.test(nameOrArn)) return nameOrArn;
    const names: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await aws(this.client.send(new ListStateMachinesCommand({ nextToken })));
      for (const machine of page.stateMachines ?? []) {
        if (machine.name === nameOrArn) return machine.stateMachineArn!;
        names.push(machine.name!);
      }
      nextToken = page.nextToken;
    } while (nextToken);
    throw new PermanentError(`no state machine '${nameOrArn}' here (there are: ${names.join(', ') || 'none'}); give its name or ARN (stack outputs BackupStateMachineArn, RestoreStateMachineArn)`, { code: 'STATE_MACHINE_NOT_FOUND' });
  }

  /** Starts an execution of `stateMachineArn` with `input`; resolves with its ARN. */
  async start(stateMachineArn: string, input: unknown, name?: string): Promise<string> {
    const started = await aws(this.client.send(new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(input), name })));
    return started.executionArn!;
  }

  async describe(executionArn: string): Promise<RemoteExecution> {
    const e = await aws(this.client.send(new DescribeExecutionCommand({ executionArn })));
    return {
      executionArn: e.executionArn!, name: e.name!, status: e.status!, startDate: iso(e.startDate), stopDate: iso(e.stopDate),
      ...(e.output !== undefined ? { output: JSON.parse(e.output) as unknown } : {}),
      ...(e.error !== undefined ? { error: e.error } : {}),
      ...(e.cause !== undefined ? { cause: e.cause } : {}),
    };
  }

  /**
   * Follows the execution until it ends: every `pollMs`, the history events since the last look
   * (each top-level working state entered, each failure, reported through `onStep`), then its
   * status. Resolves with the final description.
   */
  async follow(executionArn: string, options: { pollMs: number; onStep: (step: StepEvent) => void }): Promise<RemoteExecution> {
    const topLevel = await this.workingStates(executionArn);
    let seen = 0;
    for (;;) {
      const execution = await this.describe(executionArn);
      const events = await this.history(executionArn);
      for (const event of events.slice(seen)) {
        const step = stepOf(event, topLevel);
        if (step) options.onStep(step);
      }
      seen = events.length;
      if (execution.status !== 'RUNNING' && execution.status !== 'PENDING_REDRIVE') return execution;
      await sleep(options.pollMs);
    }
  }

  /** The execution's steps: the top-level working states it entered, and what failed. */
  async steps(executionArn: string): Promise<StepEvent[]> {
    const topLevel = await this.workingStates(executionArn);
    return (await this.history(executionArn)).flatMap((event) => stepOf(event, topLevel) ?? []);
  }

  /** The machine's executions, newest first. */
  async list(stateMachineArn: string, options: { status?: ExecutionStatus; limit: number }): Promise<RemoteExecution[]> {
    const found: RemoteExecution[] = [];
    let nextToken: string | undefined;
    do {
      const page = await aws(this.client.send(new ListExecutionsCommand({ stateMachineArn, statusFilter: options.status, maxResults: Math.min(options.limit, 1000), nextToken })));
      for (const e of page.executions ?? []) {
        found.push({ executionArn: e.executionArn!, name: e.name!, status: e.status!, startDate: iso(e.startDate), stopDate: iso(e.stopDate) });
      }
      nextToken = page.nextToken;
    } while (nextToken && found.length < options.limit);
    return found.slice(0, options.limit);
  }

  /** The ARN of an execution named `nameOrArn` of `stateMachineArn` (an ARN is taken as it is). */
  executionArn(nameOrArn: string, stateMachineArn?: string): string {
    if (EXECUTION_ARN.test(nameOrArn)) return nameOrArn;
    if (!stateMachineArn) throw new PermanentError(`'${nameOrArn}' is not an execution ARN: give the ARN, or the name with --state-machine`, { code: 'INVALID_INPUT' });
    return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${nameOrArn}`;
  }

  private async history(executionArn: string): Promise<HistoryEvent[]> {
    const events: HistoryEvent[] = [];
    let nextToken: string | undefined;
    do {
      const page = await aws(this.client.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, nextToken, includeExecutionData: true })));
      events.push(...(page.events ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    return events;
  }

  /**
   * The names of the Task, Parallel and Map states of the execution's machine, at the top and in
   * its Maps (a step on every node) — not inside a Parallel, where a host step polls its host.
   */
  private async workingStates(executionArn: string): Promise<Set<string>> {
    const stateMachineArn = executionArn.replace(':execution:', ':stateMachine:').replace(/:[^:]+$/, '');
    const machine = await aws(this.client.send(new DescribeStateMachineCommand({ stateMachineArn })));
    const names = new Set<string>();
    const walk = (states: Record<string, MachineState> = {}) => {
      for (const [name, state] of Object.entries(states)) {
        if (WORKING_STATES.has(state.Type ?? '')) names.add(name);
        if (state.Type === 'Map') walk((state.ItemProcessor ?? state.Iterator)?.States);
      }
    };
    walk((JSON.parse(machine.definition ?? '{}') as { States?: Record<string, MachineState> }).States);
    return names;
  }
}

function stepOf(event: HistoryEvent, topLevel: Set<string>): StepEvent | undefined {
  const at = iso(event.timestamp) ?? '';
  const entered = event.stateEnteredEventDetails?.name;
  if (entered && topLevel.has(entered)) return { state: entered, event: 'entered', at };
  if (event.type === 'FailStateEntered' && entered) return { state: entered, event: 'failed', at };
  return undefined;
}

/** `call`, its failures as our errors: what to do about them, and the CLI's exit code. */
function aws<T>(call: Promise<T>): Promise<T> {
  return call.catch((error: unknown) => { throw awsError(error); });
}

/** Errors of the Step Functions API, and of the SDK before it, said so an operator knows what to do. */
function awsError(error: unknown): Error {
  const { name = '', message = String(error), $metadata } = (error ?? {}) as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  if (message === 'Region is missing') {
    return new PermanentError('no AWS region: give --region (the stack\'s region) or set AWS_REGION', { code: 'INVALID_INPUT', cause: error });
  }
  if (name === 'CredentialsProviderError') {
    return new PermanentError(`no AWS credentials: ${message} (set a profile, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run where a role provides them)`, { code: 'ACCESS_DENIED', cause: error });
  }
  if (['AccessDeniedException', 'UnrecognizedClientException', 'InvalidSignatureException'].includes(name)) {
    return new PermanentError(`Step Functions refused the call (${name}): ${message}`, { code: 'ACCESS_DENIED', cause: error });
  }
  if (['StateMachineDoesNotExist', 'ExecutionDoesNotExist'].includes(name)) {
    return new PermanentError(`${message}`, { code: name === 'ExecutionDoesNotExist' ? 'EXECUTION_NOT_FOUND' : 'STATE_MACHINE_NOT_FOUND', cause: error });
  }
  if (['InvalidExecutionInput', 'InvalidName', 'InvalidArn', 'ExecutionAlreadyExists', 'ValidationException'].includes(name)) {
    return new PermanentError(`Step Functions refused the request (${name}): ${message}`, { code: 'INVALID_INPUT', cause: error });
  }
  if (name === 'ThrottlingException' || ($metadata?.httpStatusCode ?? 0) >= 500 || ['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT'].some((code) => message.includes(code))) {
    return new TransientError(`Step Functions is out of reach (${name || 'network'}): ${message}`, { code: 'AWS_UNAVAILABLE', cause: error });
  }
  return error instanceof Error ? error : new Error(message);
}
