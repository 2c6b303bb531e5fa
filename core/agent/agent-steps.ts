/**
 * The host-local steps: the ones that touch a node's spool or the database's files, and so must
 * run on the database host. In AWS they run there through SSM Run Command (the stack's agent-step
 * document runs `dbbackup agent <step>`); locally they run in a child process or in process.
 */
import { PermanentError } from '../errors';
import { startScratchTarget, tearDownScratchTarget } from '../drill/drill-steps';
import { cleanupNode, snapshotNode, uploadNode, validateNode } from '../backup/backup-steps';
import { cleanupRestoreOnHost } from '../restore/restore-cleanup';
import { prepareRestoreTarget, restoreBackup, stageRestore, startRestored, validateRestoredBackup } from '../restore/restore-steps';
import type { StepDeps } from '../steps/step-deps';
import { AGENT_STEP_NAMES, isAgentStep, type AgentStep } from './agent-step-names';

export { AGENT_STEP_NAMES, isAgentStep, type AgentStep } from './agent-step-names';

export const AGENT_STEPS = {
  'backup-snapshot': snapshotNode,
  'backup-validate': validateNode,
  'backup-upload': uploadNode,
  'backup-cleanup': cleanupNode,
  'restore-prepare': prepareRestoreTarget,
  'restore-stage': stageRestore,
  'restore-apply': restoreBackup,
  'restore-start': startRestored,
  'restore-validate': validateRestoredBackup,
  'restore-cleanup': cleanupRestoreOnHost,
  'drill-start': startScratchTarget,
  'drill-teardown': tearDownScratchTarget,
} as const satisfies Record<AgentStep, (input: unknown, deps: StepDeps) => Promise<unknown>>;

/** Runs one host step by name. Unknown names are a PermanentError listing the known ones. */
export function runAgentStep(step: string, input: unknown, deps: StepDeps): Promise<unknown> {
  if (!isAgentStep(step)) {
    throw new PermanentError(`unknown agent step '${step}' (known: ${AGENT_STEP_NAMES.join(', ')})`, { code: 'INVALID_INPUT' });
  }
  return AGENT_STEPS[step](input, deps);
}

/** What the agent prints as its single stdout line, and what host runners parse back. */
export type AgentResult =
  | { ok: true; output: unknown }
  | { ok: false; error: { name: string; code?: string; message: string } };
