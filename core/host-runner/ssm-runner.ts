/**
 * A {@link HostRunner} on SSM Run Command: the step runs on the database host (an EC2 or managed
 * instance with the SSM agent) as the project's agent-step document (agent-document.ts), which
 * runs the host agent CLI there. The command carries only the document's parameters — the step,
 * its input as base64 JSON, the result key and the timeout — which SSM checks against the
 * document before anything runs; the store and region are fixed in the document.
 *
 * `poll` reads `GetCommandInvocation`: the AgentResult is the last JSON line of
 * `StandardOutputContent`. SSM keeps only the first 24 000 characters of stdout, so when the output
 * is truncated or unparsable the result is read from the store at `resultKey`
 * (`state/agent-results/<host>/<uuid>.json`), where the agent writes it too. Give the runner a store
 * reader for that (`resultStore`).
 *
 * Timeouts: `executionTimeout` = the step's timeout (SSM kills the script: status `TimedOut`);
 * `TimeoutSeconds` (delivery) = `deliveryTimeoutSeconds`, 5 minutes by default: a command an
 * offline host never picks up fails as `DeliveryTimedOut` in minutes, not after the step's hours
 * (at least 30 s, SSM's minimum, and never more than the step's timeout). As a backstop, a command
 * still not finished `deadlineGraceSeconds` after its timeout is cancelled by `poll`. Both are
 * reported as PermanentError `HOST_STEP_TIMEOUT`.
 *
 * The client is built from `clientConfig` (region from core/aws/region.ts; `AWS_ENDPOINT_URL_SSM`
 * as the SDK reads it); tests point it at the SSM stand-in.
 */
import {
  CancelCommandCommand, GetCommandInvocationCommand, SSMClient, SendCommandCommand,
  type GetCommandInvocationCommandOutput, type SSMClientConfig,
} from '@aws-sdk/client-ssm';
import { randomUUID } from 'node:crypto';
import type { AgentResult } from '../agent/agent-steps';
import { PermanentError, TransientError } from '../errors';
import type { BlobStore } from '../store/blob-store';
import { SSM_STDOUT_LIMIT, agentResultFromStdout, agentResultKey, asAgentResult, textTail } from './agent-result';
import { MAX_EXECUTION_TIMEOUT_SECONDS, agentStepParameters, parameterBytes } from './agent-document';
import {
  HOST_ERROR_CODES, assertHostCommand, isPastDeadline, permanentFailure, submissionTimes,
  type HostCommand, type HostPoll, type HostRunner, type HostSubmission, type PendingSubmission,
} from './host-runner';
import { isTransientSsmError, mapSsmError, ssmErrorName } from './ssm-errors';

/** How long an SSM agent has to pick a command up before it fails as `DeliveryTimedOut`. */
export const DEFAULT_DELIVERY_TIMEOUT_SECONDS = 300;

/**
 * The most bytes of parameters a command carries: SSM refuses about 48 KB in all; a little less,
 * so the names and the other parameters fit beside the input.
 */
export const SSM_PARAMETERS_LIMIT = 48_000;

/** Options of {@link SsmHostRunner}. */
export interface SsmRunnerOptions {
  /** A ready client; otherwise one is built from `clientConfig`. */
  client?: SSMClient;
  /** Region, endpoint, credentials… for the client built when `client` is absent. */
  clientConfig?: SSMClientConfig;
  /** Name of the agent-step document the stack deployed (DBBACKUP_SSM_DOCUMENT). */
  documentName: string;
  /** Reads agent results the agent wrote to the store (the same store the agent writes to). */
  resultStore?: Pick<BlobStore, 'get'>;
  /** Keep the full stdout/stderr of every command in this S3 bucket (SSM `OutputS3BucketName`). */
  outputS3BucketName?: string;
  /** Key prefix for `outputS3BucketName`. */
  outputS3KeyPrefix?: string;
  /** Seconds after the step's timeout before `poll` cancels a command SSM still reports running. Default 60. */
  deadlineGraceSeconds?: number;
  /** Seconds the host's SSM agent has to pick a command up (SendCommand `TimeoutSeconds`). Default {@link DEFAULT_DELIVERY_TIMEOUT_SECONDS}. */
  deliveryTimeoutSeconds?: number;
  /** Seconds after submission during which `InvocationDoesNotExist` means "not visible yet". Default 60. */
  notFoundGraceSeconds?: number;
  /** Most bytes of parameters sent. Default {@link SSM_PARAMETERS_LIMIT}. */
  maxParameterBytes?: number;
  /** Clock, for tests. */
  now?: () => Date;
}

const RUNNING = new Set(['Pending', 'InProgress', 'Delayed', 'Cancelling']);

/** Runs agent steps on hosts through SSM Run Command. */
export class SsmHostRunner implements HostRunner {
  readonly kind = 'ssm';
  readonly client: SSMClient;
  private readonly options: SsmRunnerOptions;
  private readonly now: () => Date;

  constructor(options: SsmRunnerOptions) {
    if (!options.documentName?.trim()) {
      throw new PermanentError("the SSM host runner needs the name of the stack's agent-step document (DBBACKUP_SSM_DOCUMENT)", { code: 'INVALID_CONFIG' });
    }
    this.options = options;
    this.client = options.client ?? new SSMClient(options.clientConfig ?? {});
    this.now = options.now ?? (() => new Date());
  }

  /** Sends the command to the host. Throws PermanentError `HOST_NOT_FOUND` for an unknown instance. */
  async submit(command: HostCommand): Promise<HostSubmission> {
    assertHostCommand(command, MAX_EXECUTION_TIMEOUT_SECONDS);
    const host = command.host;
    if (host === undefined || host.trim() === '') {
      throw new PermanentError(`the SSM host runner needs the host's instance id for ${command.step}, and none was given`, { code: 'INVALID_INPUT' });
    }
    const resultKey = agentResultKey(host, randomUUID());
    const timeoutSeconds = Math.ceil(command.timeoutSeconds);
    const times = submissionTimes(this.now(), timeoutSeconds, this.options.deadlineGraceSeconds ?? 60);
    const parameters = this.parameters(command, resultKey, timeoutSeconds);
    let commandId: string | undefined;
    try {
      const sent = await this.client.send(new SendCommandCommand({
        DocumentName: this.options.documentName,
        InstanceIds: [host],
        TimeoutSeconds: Math.max(30, Math.min(timeoutSeconds, this.options.deliveryTimeoutSeconds ?? DEFAULT_DELIVERY_TIMEOUT_SECONDS)),
        Comment: `dbbackup agent ${command.step}`.slice(0, 100),
        Parameters: parameters,
        ...(this.options.outputS3BucketName ? { OutputS3BucketName: this.options.outputS3BucketName } : {}),
        ...(this.options.outputS3BucketName && this.options.outputS3KeyPrefix ? { OutputS3KeyPrefix: this.options.outputS3KeyPrefix } : {}),
      }));
      commandId = sent.Command?.CommandId;
    } catch (error) {
      throw mapSsmError(error, 'SendCommand', host);
    }
    if (!commandId) throw new PermanentError(`SSM SendCommand to ${host} returned no CommandId`, { code: 'SSM_ERROR' });
    return { done: false, commandId, host, step: command.step, ...times, resultKey };
  }

  /**
   * Reads the invocation. Throttling and 5xx are "not done yet" (until the deadline); a command
   * past its deadline is cancelled and reported as `HOST_STEP_TIMEOUT`.
   */
  async poll(submission: HostSubmission): Promise<HostPoll> {
    if (submission.done) return submission;
    if (!submission.host) {
      return { done: true, result: permanentFailure('INVALID_INPUT', `SSM command ${submission.commandId} has no host to poll`) };
    }
    let invocation: GetCommandInvocationCommandOutput;
    try {
      invocation = await this.client.send(new GetCommandInvocationCommand({ CommandId: submission.commandId, InstanceId: submission.host }));
    } catch (error) {
      return this.pollFailure(submission, error);
    }
    const status = invocation.Status ?? 'Pending';
    if (RUNNING.has(status)) return this.stillRunning(submission);
    return { done: true, result: await this.finalResult(submission, invocation) };
  }

  /** Cancels the command on its host. A finished or unknown command is not an error. */
  async cancel(submission: HostSubmission): Promise<void> {
    if (submission.done) return;
    try {
      await this.client.send(new CancelCommandCommand({
        CommandId: submission.commandId,
        ...(submission.host ? { InstanceIds: [submission.host] } : {}),
      }));
    } catch (error) {
      const name = ssmErrorName(error);
      if (name === 'InvalidCommandId' || name === 'InvocationDoesNotExist') return;
      throw mapSsmError(error, 'CancelCommand', submission.host);
    }
  }

  /** The document's parameters; an input too large for SSM is refused before sending. */
  private parameters(command: HostCommand, resultKey: string, timeoutSeconds: number): Record<string, string[]> {
    const parameters = agentStepParameters(command.step, command.input, resultKey, timeoutSeconds);
    const bytes = parameterBytes(parameters);
    const limit = this.options.maxParameterBytes ?? SSM_PARAMETERS_LIMIT;
    if (bytes > limit) {
      throw new PermanentError(
        `input of ${command.step} makes ${bytes} bytes of SSM command parameters, more than the ${limit} an SSM command carries; pass references, not data`,
        { code: 'HOST_INPUT_TOO_LARGE' },
      );
    }
    return parameters;
  }

  /** Before the deadline: not done. After it: cancel (best effort) and time out. */
  private async stillRunning(submission: PendingSubmission): Promise<HostPoll> {
    if (!isPastDeadline(submission, this.now())) return { done: false };
    let note = '';
    try {
      await this.cancel(submission);
    } catch (error) {
      note = ` (cancelling it failed: ${(error as Error).message})`;
    }
    return {
      done: true,
      result: permanentFailure(HOST_ERROR_CODES.timeout,
        `host step ${submission.step ?? ''} on ${submission.host} (SSM command ${submission.commandId}) was still running at its deadline ${submission.deadline} and was cancelled${note}`),
    };
  }

  /** GetCommandInvocation failed: not visible yet, throttled, or a real error. */
  private async pollFailure(submission: PendingSubmission, error: unknown): Promise<HostPoll> {
    const name = ssmErrorName(error);
    if (name === 'InvocationDoesNotExist') {
      const sinceSubmit = this.now().getTime() - Date.parse(submission.submittedAt);
      if (sinceSubmit < (this.options.notFoundGraceSeconds ?? 60) * 1000) return { done: false };
      return {
        done: true,
        result: permanentFailure(HOST_ERROR_CODES.commandNotFound,
          `SSM has no invocation of command ${submission.commandId} on ${submission.host}: ${(error as Error).message}`),
      };
    }
    if (isTransientSsmError(error)) return this.stillRunning(submission);
    throw mapSsmError(error, 'GetCommandInvocation', submission.host);
  }

  /** The AgentResult of a finished invocation: from stdout, else from the store, else a runner failure. */
  private async finalResult(submission: PendingSubmission, invocation: GetCommandInvocationCommandOutput): Promise<AgentResult> {
    const status = invocation.Status ?? '';
    const where = `${submission.step ?? 'host step'} on ${submission.host} (SSM command ${submission.commandId})`;
    if (status === 'TimedOut') {
      const delivery = invocation.StatusDetails === 'DeliveryTimedOut';
      return permanentFailure(HOST_ERROR_CODES.timeout, delivery
        ? `${where} was never delivered: the host's SSM agent did not pick it up in time (DeliveryTimedOut)`
        : `${where} ran past its execution timeout and was stopped by SSM (${invocation.StatusDetails ?? 'TimedOut'})`);
    }
    if (status === 'Cancelled') {
      return permanentFailure(HOST_ERROR_CODES.cancelled, `${where} was cancelled (${invocation.StatusDetails ?? 'Cancelled'})`);
    }
    const stdout = invocation.StandardOutputContent ?? '';
    const truncated = stdout.length >= SSM_STDOUT_LIMIT;
    const fromStdout = truncated ? undefined : agentResultFromStdout(stdout);
    if (fromStdout) return fromStdout;
    const fromStore = await this.storedResult(submission);
    if (fromStore) return fromStore;
    const exitCode = invocation.ResponseCode ?? -1;
    const why = truncated
      ? `its stdout was truncated by SSM (${stdout.length} characters kept) and no result was found at ${submission.resultKey ?? '(no result key)'}${this.options.resultStore ? '' : ' (this runner has no store reader)'}`
      : 'it printed no agent result';
    return permanentFailure(HOST_ERROR_CODES.commandFailed,
      `${where} ended with status ${status || 'unknown'}${invocation.StatusDetails ? ` (${invocation.StatusDetails})` : ''} and exit code ${exitCode}, but ${why}; stderr: ${textTail(invocation.StandardErrorContent ?? '') || '(empty)'}`);
  }

  /** The result the agent wrote to the store, or undefined when there is none. */
  private async storedResult(submission: PendingSubmission): Promise<AgentResult | undefined> {
    const reader = this.options.resultStore;
    if (!reader || !submission.resultKey) return undefined;
    let text: string;
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of await reader.get(submission.resultKey)) chunks.push(Buffer.from(chunk as Uint8Array));
      text = Buffer.concat(chunks).toString('utf8');
    } catch (error) {
      if ((error as { code?: unknown }).code === 'NOT_FOUND') return undefined;
      if (error instanceof TransientError) throw error;
      return undefined;
    }
    try {
      return asAgentResult(JSON.parse(text));
    } catch {
      return undefined;
    }
  }
}
