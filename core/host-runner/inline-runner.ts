/**
 * A {@link HostRunner} that runs the step in this process with the given dependencies: the step
 * finishes during `submit`. For tests and single-machine runs where "the host" is this machine.
 */
import { runAgentStep, type AgentResult } from '../agent/agent-steps';
import { classify } from '../errors';
import type { StepDeps } from '../steps/step-deps';
import {
  HOST_ERROR_CODES, permanentFailure, type HostCommand, type HostPoll, type HostRunner, type HostSubmission,
} from './host-runner';

/** Runs agent steps in process through `runAgentStep`. */
export class InlineHostRunner implements HostRunner {
  readonly kind = 'inline';

  constructor(private readonly deps: StepDeps) {}

  /** Runs the step now; its failure is an `{ ok: false }` result carrying the classified error. */
  async submit(command: HostCommand): Promise<HostSubmission> {
    let result: AgentResult;
    try {
      result = { ok: true, output: await runAgentStep(command.step, command.input, this.deps) };
    } catch (error) {
      const { name, code, message } = classify(error).toJSON();
      result = { ok: false, error: { name, code, message } };
    }
    return { done: true, result };
  }

  /** A completed submission answers with its result; this runner never has pending commands. */
  async poll(submission: HostSubmission): Promise<HostPoll> {
    if (submission.done) return submission;
    return {
      done: true,
      result: permanentFailure(HOST_ERROR_CODES.commandNotFound,
        `the inline host runner has no command ${submission.commandId}: it runs steps during submit`),
    };
  }

  /** Nothing to cancel: steps finish during submit. */
  async cancel(): Promise<void> {}
}
