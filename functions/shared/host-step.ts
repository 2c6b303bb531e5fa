/**
 * A step that must run on the database host. The same handler serves both states of the state
 * machine's submit → wait → poll loop: without `pending` it submits the agent command through the
 * host runner; with `pending` it polls it. While the command runs it returns the input with
 * `pending`, which makes the state machine wait `pending.waitSeconds` (growing with the step's time:
 * core/host-runner/poll-schedule.ts) and poll again; when it finishes it returns the agent's output
 * (the next state) or throws the agent's error under its own name. A step runs for its timeout, or
 * until the run's deadline if that comes first, and is not started once the deadline is too near
 * (core/steps/run-deadline.ts).
 */
import { PermanentError, TransientError } from '../../core/errors';
import { formatIssues } from '../../core/config/issues';
import type { AgentResult, AgentStep } from '../../core/agent/agent-steps';
import type { HostSubmission, PendingSubmission } from '../../core/host-runner/host-runner';
import { POLL_SCHEDULE, pollWaitSeconds, type PollSchedule } from '../../core/host-runner/poll-schedule';
import { hostStepSeconds } from '../../core/steps/run-deadline';
import type { Runtime } from '../../core/config/runtime';
import type { RuntimeProvider } from './lambda-runtime';
import { stepHandler } from './step-handler';

/** Returns the agent's output, or rethrows its error with the name the state machine matches on. */
export function unwrapAgentResult(result: AgentResult): unknown {
  if (result.ok) return result.output;
  const { name, code, message } = result.error;
  const options = { code: code ?? 'UNKNOWN' };
  throw name === 'TransientError' ? new TransientError(message, options) : new PermanentError(message, options);
}

interface OutputSchema {
  safeParse(value: unknown): { success: true; data: unknown } | { success: false; error: { message: string } };
}

/** The agent's output, checked; a mismatch (e.g. an agent of another version) is a PermanentError. */
function checkedOutput(step: AgentStep, schema: OutputSchema, output: unknown): unknown {
  const parsed = schema.safeParse(output);
  if (!parsed.success) {
    throw new PermanentError(`the host agent's ${step} output is not what this version expects: ${formatIssues(parsed.error)}`, { code: 'INVALID_AGENT_OUTPUT' });
  }
  return output;
}

export interface HostStepOptions {
  /** The agent's output crosses a process (and often a version) boundary: it is checked against this. */
  output: OutputSchema;
  /** Turns the state machine's input into the step input (e.g. the Map's `{ backup, node }`). */
  toInput?: (event: Record<string, unknown>) => unknown;
  /** Which host runs it, from the step input. */
  hostOf: (input: Record<string, unknown>) => string | undefined;
  /**
   * The next state from the step input and the agent's checked output, on the trusted side (e.g.
   * the state with what the host found). Default: the agent's output is the next state.
   */
  merge?: (input: Record<string, unknown>, output: unknown, runtime: Runtime) => Promise<unknown>;
}

/** What the state carries while the step runs: the submission, and the wait before the next poll. */
type Pending = PendingSubmission & { waitSeconds?: number };

export function hostStepHandler(step: AgentStep, provider: RuntimeProvider, options: HostStepOptions) {
  return stepHandler(step, provider, async function runHostStep(event, { runtime, hostRunner, hostStepTimeoutSeconds, pollSchedule }) {
    const { pending, ...rest } = (event ?? {}) as Record<string, unknown> & { pending?: HostSubmission };
    // While pending, the state is the step input (`rest`): a poll merges with it as the submit would have.
    const finished = async (result: AgentResult, input: Record<string, unknown>) => {
      const output = checkedOutput(step, options.output, unwrapAgentResult(result));
      return options.merge ? options.merge(input, output, runtime) : output;
    };
    if (pending && !pending.done) {
      const { waitSeconds: _waited, ...submission } = pending as Pending;
      const polled = await hostRunner.poll(submission);
      return polled.done ? finished(polled.result, rest) : { ...rest, pending: stillPending(submission, pollSchedule) };
    }
    const input = (options.toInput ? options.toInput(rest) : rest) as Record<string, unknown>;
    const timeoutSeconds = hostStepSeconds(hostStepTimeoutSeconds, typeof input.deadline === 'string' ? input.deadline : undefined);
    const submission = await hostRunner.submit({ host: options.hostOf(input), step, input, timeoutSeconds });
    return submission.done ? finished(submission.result, input) : { ...input, pending: stillPending(submission, pollSchedule) };
  });
}

/** The submission with the wait before its next poll: as long as it has been running, within the schedule's bounds. */
function stillPending(submission: PendingSubmission, schedule: PollSchedule = POLL_SCHEDULE, now: Date = new Date()): Pending {
  return { ...submission, waitSeconds: pollWaitSeconds((now.getTime() - Date.parse(submission.submittedAt)) / 1000, schedule) };
}

/** Host of a backup node state: the node's own host. */
export const nodeHost = (input: Record<string, unknown>): string | undefined =>
  (input.node as { host?: string } | undefined)?.host;

/** Host of a restore state (the validate step): the first node's. */
export const restoreHost = (input: Record<string, unknown>): string | undefined =>
  (input.nodes as Array<{ host?: string }> | undefined)?.[0]?.host;
