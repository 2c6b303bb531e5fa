/**
 * A step that must run on the database host. The same handler serves both states of the state
 * machine's submit → wait → poll loop: without `pending` it submits the agent command through the
 * host runner; with `pending` it polls it. While the command runs it returns the input with
 * `pending`, which makes the state machine wait and poll again; when it finishes it returns the
 * agent's output (the next state) or throws the agent's error under its own name.
 */
import { PermanentError, TransientError } from '../../core/errors';
import { formatIssues } from '../../core/config/issues';
import type { AgentResult, AgentStep } from '../../core/agent/agent-steps';
import type { HostSubmission } from '../../core/host-runner/host-runner';
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
}

export function hostStepHandler(step: AgentStep, provider: RuntimeProvider, options: HostStepOptions) {
  return stepHandler(step, provider, async function runHostStep(event, { hostRunner, hostStepTimeoutSeconds }) {
    const { pending, ...rest } = (event ?? {}) as Record<string, unknown> & { pending?: HostSubmission };
    const finished = (result: AgentResult) => checkedOutput(step, options.output, unwrapAgentResult(result));
    if (pending && !pending.done) {
      const polled = await hostRunner.poll(pending);
      return polled.done ? finished(polled.result) : { ...rest, pending };
    }
    const input = (options.toInput ? options.toInput(rest) : rest) as Record<string, unknown>;
    const submission = await hostRunner.submit({ host: options.hostOf(input), step, input, timeoutSeconds: hostStepTimeoutSeconds });
    return submission.done ? finished(submission.result) : { ...input, pending: submission };
  });
}

/** Host of a backup node state: the node's own host. */
export const nodeHost = (input: Record<string, unknown>): string | undefined =>
  (input.node as { host?: string } | undefined)?.host;

/** Host of a restore state: the request's target host. */
export const restoreHost = (input: Record<string, unknown>): string | undefined =>
  typeof input.host === 'string' ? input.host : undefined;
