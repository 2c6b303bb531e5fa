/**
 * A {@link HostRunner} whose steps do what a test scripts, for the cases real hosts cannot be made
 * to produce on demand (a step that never ends, an output of a given size): each step answers
 * `pending` for `polls` polls and then its `result`, computed from the step's input. Steps without
 * a script run for real on the inline runner.
 */
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import type { AgentResult, AgentStep } from '../../core/agent/agent-steps';
import type { HostCommand, HostPoll, HostRunner, HostSubmission } from '../../core/host-runner/host-runner';
import { InlineHostRunner } from '../../core/host-runner/inline-runner';
import type { StepDeps } from '../../core/steps/step-deps';

/** What one step does. */
export interface StepScript {
  /** Polls answered `pending` before the result (Infinity: never ends). @default 0 */
  polls?: number;
  /** The step's result, from its input; `runForReal` runs the step on the inline runner (to wrap it). */
  result: (input: Record<string, unknown>, runForReal: () => Promise<AgentResult>) => AgentResult | Promise<AgentResult>;
}

/** Commands submitted, for assertions. */
export interface ScriptedHostRunner extends HostRunner {
  readonly submitted: HostCommand[];
}

export function scriptedHostRunner(deps: StepDeps, scripts: Partial<Record<AgentStep, StepScript>>): ScriptedHostRunner {
  const inline = new InlineHostRunner(deps);
  const running = new Map<string, { command: HostCommand; polls: number }>();
  const submitted: HostCommand[] = [];
  return {
    kind: 'scripted',
    submitted,
    async submit(command: HostCommand): Promise<HostSubmission> {
      submitted.push(command);
      if (!scripts[command.step]) return inline.submit(command);
      const commandId = `scripted-${randomUUID()}`;
      running.set(commandId, { command, polls: 0 });
      const now = new Date();
      return { done: false, commandId, step: command.step, submittedAt: now.toISOString(), deadline: new Date(now.getTime() + command.timeoutSeconds * 1000).toISOString() };
    },
    async poll(submission: HostSubmission): Promise<HostPoll> {
      if (submission.done) return submission;
      const entry = running.get(submission.commandId)!;
      const script = scripts[entry.command.step]!;
      if (entry.polls < (script.polls ?? 0)) {
        entry.polls += 1;
        return { done: false };
      }
      const runForReal = async () => {
        const real = await inline.submit(entry.command);
        return real.done ? real.result : { ok: false as const, error: { name: 'PermanentError', message: 'the inline runner left a step pending' } };
      };
      return { done: true, result: await script.result(entry.command.input as Record<string, unknown>, runForReal) };
    },
    async cancel(): Promise<void> {},
  };
}

/**
 * A runner on which a restore's apply step, run for real, fails for good when it fails (code
 * `STOPPED_BY_TEST`, not retried), and whose cleanup finds the host's spool (`spoolRoot`) gone, as
 * after a host was replaced.
 */
export function applyFailsSpoolLost(deps: StepDeps, spoolRoot: string): ScriptedHostRunner {
  return scriptedHostRunner(deps, {
    'restore-apply': {
      async result(_input, runForReal) {
        const real = await runForReal();
        return real.ok ? real : { ok: false, error: { name: 'PermanentError', code: 'STOPPED_BY_TEST', message: `stopped for good (${real.error.message})` } };
      },
    },
    'restore-cleanup': {
      async result(_input, runForReal) {
        await rm(spoolRoot, { recursive: true, force: true });
        return runForReal();
      },
    },
  });
}
