/**
 * A host runner that runs every restore step for real (in process) and notes, for each command,
 * the host it was for, the node, and when it began and ended — for tests of restores spread over
 * hosts, where the hosts are this machine. `fail` may answer a command with an error instead.
 */
import type { AgentResult, AgentStep } from '../../core/agent/agent-steps';
import type { StepDeps } from '../../core/steps/step-deps';
import { scriptedHostRunner, type ScriptedHostRunner, type StepScript } from './scripted-host-runner';

/** The restore steps that run on every node. */
export const RESTORE_NODE_STEPS = ['restore-prepare', 'restore-stage', 'restore-apply', 'restore-start'] as const;

export interface StepEvent {
  step: AgentStep;
  host?: string;
  node?: string;
  edge: 'begin' | 'end';
  /** Order of the event among all the runner's. */
  at: number;
}

export interface RecordingHostRunner {
  runner: ScriptedHostRunner;
  events: StepEvent[];
  /** The order of a step's begins or ends. */
  edges(step: AgentStep, edge: 'begin' | 'end'): number[];
}

export function recordingHostRunner(deps: StepDeps, fail?: (step: AgentStep, host: string | undefined) => AgentResult | undefined): RecordingHostRunner {
  const events: StepEvent[] = [];
  let clock = 0;
  const recorded = (step: AgentStep): StepScript => ({
    async result(input, runForReal) {
      const node = input.node as { name?: string; host?: string } | undefined;
      const host = node?.host ?? (input.nodes as Array<{ host?: string }> | undefined)?.[0]?.host;
      events.push({ step, host, node: node?.name, edge: 'begin', at: clock++ });
      const result = fail?.(step, host) ?? await runForReal();
      events.push({ step, host, node: node?.name, edge: 'end', at: clock++ });
      return result;
    },
  });
  const scripts = Object.fromEntries([...RESTORE_NODE_STEPS, 'restore-validate' as const, 'restore-cleanup' as const].map((step) => [step, recorded(step)]));
  return {
    runner: scriptedHostRunner(deps, scripts),
    events,
    edges: (step, edge) => events.filter((e) => e.step === step && e.edge === edge).map((e) => e.at),
  };
}

/** Asserts each restore step ended on every node before the next began on any. */
export function expectStepsInLockstep(recording: RecordingHostRunner): void {
  const order = [...RESTORE_NODE_STEPS, 'restore-validate'] as const;
  for (let i = 1; i < order.length; i += 1) {
    const ended = recording.edges(order[i - 1], 'end');
    const began = recording.edges(order[i], 'begin');
    expect({ step: order[i], ran: began.length > 0 && ended.length > 0 }).toEqual({ step: order[i], ran: true });
    expect(Math.max(...ended)).toBeLessThan(Math.min(...began));
  }
}
