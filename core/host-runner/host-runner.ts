/**
 * Runs one host-local agent step (`dbbackup agent <step>`) on a database host and reports its
 * {@link AgentResult}. One interface, several places to run:
 *
 * - inline: in this process (tests, single-machine CLI runs);
 * - local process: a detached child process on this host, its state kept in files so that another
 *   process (the next poll Lambda invocation, the next CLI call) can poll it;
 * - SSM: Run Command, the stack's agent-step document, on the named EC2/managed instance.
 *
 * Long steps are driven by the state machine's submit → Wait → poll loop, so {@link HostSubmission}
 * is small, plain JSON that travels in the state between invocations.
 *
 * Errors: what the agent reports (its own TransientError/PermanentError) comes back as an
 * `{ ok: false }` result, never thrown. The runner's own failures are results too once a command
 * was submitted (`HOST_STEP_TIMEOUT`, `HOST_COMMAND_FAILED`, ...); only a submission that could not
 * be made at all (unknown host, access denied, throttled) makes `submit` throw a typed error.
 */
import type { AgentResult, AgentStep } from '../agent/agent-steps';
import { PermanentError } from '../errors';

/** What to run where. */
export interface HostCommand {
  /** The host (SSM: the instance id). Runners that run on this host ignore it. */
  host?: string;
  step: AgentStep;
  /** The step input: small JSON (the state), passed to the agent on stdin (local) or as a base64 document parameter (SSM). */
  input: unknown;
  /** How long the step may run before it is cancelled and reported as `HOST_STEP_TIMEOUT`. */
  timeoutSeconds: number;
}

/** A step that finished during `submit` (runners that run at once). */
export interface CompletedSubmission {
  done: true;
  result: AgentResult;
}

/** A step still running: what `poll` needs to find it again, from any process. Plain JSON. */
export interface PendingSubmission {
  done: false;
  /** The runner's id of the command (SSM CommandId, or the local runner's directory name). */
  commandId: string;
  host?: string;
  step?: AgentStep;
  /** ISO-8601 time of submission. */
  submittedAt: string;
  /** ISO-8601 time after which `poll` cancels the command and reports `HOST_STEP_TIMEOUT`. */
  deadline: string;
  /** Store key where the agent also writes its result (SSM: for outputs longer than SSM keeps). */
  resultKey?: string;
}

/** The answer to `submit`. */
export type HostSubmission = CompletedSubmission | PendingSubmission;

/** The answer to `poll`. */
export type HostPoll = { done: false } | { done: true; result: AgentResult };

/** Runs agent steps on database hosts. */
export interface HostRunner {
  /** Which implementation this is: `inline`, `local` or `ssm`. */
  readonly kind: string;
  /** Starts the step. Throws TransientError/PermanentError only when it could not be submitted. */
  submit(command: HostCommand): Promise<HostSubmission>;
  /**
   * Reports whether the step has finished. Past its deadline the command is cancelled and the
   * result is PermanentError `HOST_STEP_TIMEOUT`. Safe to call again after it is done (same answer
   * while the runner still has the command's record).
   */
  poll(submission: HostSubmission): Promise<HostPoll>;
  /** Stops the command if it still runs. Idempotent; a finished or unknown command is not an error. */
  cancel(submission: HostSubmission): Promise<void>;
}

/** Stable codes of the failures the runners report themselves. */
export const HOST_ERROR_CODES = {
  /** The step ran past its timeout and was cancelled. */
  timeout: 'HOST_STEP_TIMEOUT',
  /** The command ended without printing an AgentResult (crash, missing agent, killed). */
  commandFailed: 'HOST_COMMAND_FAILED',
  /** The command was cancelled before it finished. */
  cancelled: 'HOST_COMMAND_CANCELLED',
  /** The runner has no record of the command. */
  commandNotFound: 'HOST_COMMAND_NOT_FOUND',
  /** The host is unknown or not reachable by the runner (SSM: not a managed, online instance). */
  hostNotFound: 'HOST_NOT_FOUND',
} as const;

/** A failed {@link AgentResult} with a PermanentError of the runner's own. */
export function permanentFailure(code: string, message: string): AgentResult {
  return { ok: false, error: { name: 'PermanentError', code, message } };
}

/** `submittedAt` + `timeoutSeconds` (+ grace) as the two ISO strings of a pending submission. */
export function submissionTimes(now: Date, timeoutSeconds: number, graceSeconds = 0): { submittedAt: string; deadline: string } {
  return {
    submittedAt: now.toISOString(),
    deadline: new Date(now.getTime() + (timeoutSeconds + graceSeconds) * 1000).toISOString(),
  };
}

/** True when `now` is past the submission's deadline. */
export function isPastDeadline(submission: PendingSubmission, now: Date): boolean {
  return now.getTime() > Date.parse(submission.deadline);
}

/** Step names are lowercase words joined by dashes, so they are safe as one shell word. */
const STEP_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/**
 * Checks a command before it is submitted: a well-formed step name (the agent itself rejects
 * unknown steps, with PermanentError `INVALID_INPUT`) and a timeout in (0, `maxTimeoutSeconds`].
 * Throws PermanentError `INVALID_INPUT`: the state machine's input was wrong; retrying cannot help.
 * Kept free of the step implementations, so runners do not load every driver.
 */
export function assertHostCommand(command: HostCommand, maxTimeoutSeconds = 172_800): void {
  if (typeof command.step !== 'string' || !STEP_NAME.test(command.step)) {
    throw new PermanentError(`invalid agent step name ${JSON.stringify(command.step)}`, { code: 'INVALID_INPUT' });
  }
  const timeout = command.timeoutSeconds;
  if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout <= 0 || timeout > maxTimeoutSeconds) {
    throw new PermanentError(`host step timeout must be a number of seconds in (0, ${maxTimeoutSeconds}], got ${String(timeout)}`, { code: 'INVALID_INPUT' });
  }
}
