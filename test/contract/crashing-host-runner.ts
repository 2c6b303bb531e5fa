/**
 * A host runner whose host dies once, in the named step: either as the step writes a given object to
 * the store (`beforeWriting`: the work before it done, nothing after it — a process killed at that
 * point), or after all its work (`afterWork` then leaves behind what a process killed while writing
 * would: half-written files, stray objects). The runner reports the command as died — a
 * TransientError, so the state machine's own Retry runs the step again. Every other step, and the
 * step's second run, run normally (in process, as the inline runner does).
 */
import type { AgentStep } from '../../core/agent/agent-step-names';
import { InlineHostRunner } from '../../core/host-runner/inline-runner';
import type { HostCommand, HostPoll, HostRunner, HostSubmission } from '../../core/host-runner/host-runner';
import type { StepDeps } from '../../core/steps/step-deps';
import { guardedWrites } from './host-store';

export interface Crash {
  step: AgentStep;
  /** Dies when the step writes an object whose key this accepts. */
  beforeWriting?: (key: string) => boolean;
  /** Runs after the step finished its work, before the death is reported. */
  afterWork?: (output: unknown) => Promise<void>;
}

export class CrashingHostRunner implements HostRunner {
  readonly kind = 'inline';
  private readonly inline: InlineHostRunner;
  private readonly dying: InlineHostRunner;
  /** How many times the step died. */
  crashes = 0;

  constructor(deps: StepDeps, private readonly crash: Crash) {
    this.inline = new InlineHostRunner(deps);
    const dies = crash.beforeWriting ?? (() => false);
    this.dying = new InlineHostRunner({
      ...deps,
      store: guardedWrites(deps.store, {
        put(key) {
          if (dies(key)) throw new Error(`killed while writing ${key}`);
        },
      }),
    });
  }

  async submit(command: HostCommand): Promise<HostSubmission> {
    if (command.step !== this.crash.step || this.crashes > 0) return this.inline.submit(command);
    this.crashes += 1;
    const submission = await this.dying.submit(command);
    if (submission.done && submission.result.ok) {
      if (!this.crash.afterWork) throw new Error(`${command.step} never wrote the object its host was to die writing`);
      await this.crash.afterWork(submission.result.output);
    }
    return {
      done: true,
      result: { ok: false, error: { name: 'TransientError', code: 'HOST_COMMAND_FAILED', message: `the host died during ${command.step} (contract suite)` } },
    };
  }

  poll(submission: HostSubmission): Promise<HostPoll> {
    return this.inline.poll(submission);
  }

  cancel(): Promise<void> {
    return this.inline.cancel();
  }
}
