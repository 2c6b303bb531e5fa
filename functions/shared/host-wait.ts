/** Submits a short host command and waits for it in this invocation (for cleanup-sized work). */
import type { HostRunner } from '../../core/host-runner/host-runner';
import type { AgentStep } from '../../core/agent/agent-steps';
import { unwrapAgentResult } from './host-step';

const POLL_MS = 1000;

export async function hostRunnerWait(
  runner: HostRunner,
  command: { host?: string; step: AgentStep; input: unknown; timeoutSeconds: number },
): Promise<unknown> {
  let submission = await runner.submit(command);
  while (!submission.done) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    const polled = await runner.poll(submission);
    if (polled.done) return unwrapAgentResult(polled.result);
  }
  return unwrapAgentResult(submission.result);
}
