import { InlineHostRunner } from '../../../core/host-runner/inline-runner';
import type { AgentStep } from '../../../core/agent/agent-steps';
import type { StepDeps } from '../../../core/steps/step-deps';

describe('InlineHostRunner', () => {
  it('finishes during submit with the step error as a result, classified by name', async () => {
    // Prepare
    const runner = new InlineHostRunner({} as StepDeps);

    // Act
    const submission = await runner.submit({ step: 'no-such-step' as AgentStep, input: {}, timeoutSeconds: 10 });
    const polled = await runner.poll(submission);

    // Assess
    expect(submission).toMatchObject({ done: true, result: { ok: false, error: { name: 'PermanentError', code: 'INVALID_INPUT' } } });
    expect(submission.done && !submission.result.ok && submission.result.error.message).toContain("unknown agent step 'no-such-step'");
    expect(polled).toEqual(submission);
  });

  it('answers a pending submission it never made with HOST_COMMAND_NOT_FOUND', async () => {
    // Prepare
    const runner = new InlineHostRunner({} as StepDeps);
    const now = new Date().toISOString();

    // Act
    const polled = await runner.poll({ done: false, commandId: 'cmd-1', submittedAt: now, deadline: now });

    // Assess
    expect(polled).toMatchObject({ done: true, result: { ok: false, error: { name: 'PermanentError', code: 'HOST_COMMAND_NOT_FOUND' } } });
  });
});
