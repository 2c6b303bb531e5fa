/**
 * The names of the host agent's steps, free of their implementations: what runners, the SSM
 * document (its `allowedValues`) and the stack need to know without loading every driver.
 * core/agent/agent-steps.ts maps each name to its step and is checked against this list.
 */
export const AGENT_STEP_NAMES = [
  'backup-snapshot',
  'backup-validate',
  'backup-upload',
  'backup-cleanup',
  'restore-prepare',
  'restore-stage',
  'restore-apply',
  'restore-start',
  'restore-validate',
  'restore-cleanup',
  'drill-start',
  'drill-teardown',
] as const;

/** A host step's name. */
export type AgentStep = (typeof AGENT_STEP_NAMES)[number];

/** True when `name` is one of {@link AGENT_STEP_NAMES}. */
export function isAgentStep(name: string): name is AgentStep {
  return (AGENT_STEP_NAMES as readonly string[]).includes(name);
}
