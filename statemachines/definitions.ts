/**
 * The synthesized Amazon States Language of both state machines as plain JSON, for running them
 * in process (aws-local-stepfunctions) and for validation. Built by the SAME construct classes the
 * deployed stack uses, in a bare stack whose functions are stand-ins with stable placeholder ARNs
 * (no bundling, no assets, no synth of a cloud assembly: ~100 ms).
 *
 * @example
 * ```ts
 * const { backup } = synthesizeDefinitions({ maxConcurrency: 2 });
 * // backup.States.Prepare.Resource === placeholderFunctionArn('backup/prepare')
 * // backup.States.Prepare.Comment  === 'handler:backup/prepare'
 * ```
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { BackupStateMachine, type BackupStateMachineProps } from './backup-state-machine';
import { BACKUP_HANDLERS, RESTORE_HANDLERS, type HandlerId } from './handlers';
import { RestoreStateMachine, type RestoreStateMachineProps } from './restore-state-machine';
import type { WorkflowOptions } from './workflow';
import type { AslDefinition, SynthesizedDefinitions } from './asl';

export { listStates, type AslDefinition, type StateEntry, type SynthesizedDefinitions } from './asl';

/** Options of {@link synthesizeDefinitions}: those of the deployed constructs that shape the ASL. */
export interface DefinitionOptions extends Omit<WorkflowOptions, 'logGroup' | 'stateMachineName' | 'tracingEnabled'> {
  /** The backup Map's MaxConcurrency. @default 4 */
  readonly maxConcurrency?: BackupStateMachineProps['maxConcurrency'];
}

/** The stand-in ARN of a handler's function, e.g. `arn:aws:lambda:us-east-1:123456789012:function:dbbackup-backup-prepare`. */
export function placeholderFunctionArn(id: HandlerId): string {
  return `arn:aws:lambda:us-east-1:123456789012:function:dbbackup-${id.replace('/', '-')}`;
}

/** A bare stack holding both state machines, wired to stand-in functions. */
export interface DefinitionStack {
  readonly stack: Stack;
  readonly backup: BackupStateMachine;
  readonly restore: RestoreStateMachine;
}

/**
 * Builds both state machines in a bare stack whose functions are stand-ins with
 * {@link placeholderFunctionArn}s (so every definition is a plain string, no tokens).
 */
function buildDefinitionStack(app: App, options: DefinitionOptions): DefinitionStack {
  const stack = new Stack(app, 'Definitions', { env: { account: '123456789012', region: 'us-east-1' } });
  const standIn = (id: HandlerId) => lambda.Function.fromFunctionArn(stack, `Fn ${id}`, placeholderFunctionArn(id));
  const backup = new BackupStateMachine(stack, 'Backup', {
    ...options,
    functions: Object.fromEntries(BACKUP_HANDLERS.map((name) => [name, standIn(`backup/${name}`)])) as BackupStateMachineProps['functions'],
  });
  const restore = new RestoreStateMachine(stack, 'Restore', {
    ...options,
    functions: Object.fromEntries(RESTORE_HANDLERS.map((name) => [name, standIn(`restore/${name}`)])) as RestoreStateMachineProps['functions'],
  });
  return { stack, backup, restore };
}

/**
 * Builds both state machines with stand-in functions and returns their ASL. Each Task's Resource
 * is {@link placeholderFunctionArn} of its handler, and its Comment is `handler:<dir>/<file>`.
 */
export function synthesizeDefinitions(options: DefinitionOptions = {}): SynthesizedDefinitions {
  return withDefinitionStack(options, ({ stack, backup, restore }) => ({
    backup: renderDefinition(stack, backup.stateMachine),
    restore: renderDefinition(stack, restore.stateMachine),
  }));
}

/**
 * Runs `use` on a fresh {@link buildDefinitionStack} and then removes the cloud-assembly directory
 * its App made in the temp dir (they piled up there, one per call).
 */
export function withDefinitionStack<T>(options: DefinitionOptions, use: (definitions: DefinitionStack) => T): T {
  // A directory of our own (an App would take CDK_OUTDIR when set: the CLI's cdk.out).
  const outdir = mkdtempSync(path.join(os.tmpdir(), 'dbbackup-definitions-'));
  try {
    return use(buildDefinitionStack(new App({ outdir }), options));
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** The resolved definition of `stateMachine`; throws if anything in it is still a CloudFormation token. */
function renderDefinition(stack: Stack, stateMachine: sfn.StateMachine): AslDefinition {
  const cfn = stateMachine.node.defaultChild as sfn.CfnStateMachine;
  const resolved: unknown = stack.resolve(cfn.definitionString);
  if (typeof resolved !== 'string') {
    throw new Error(`the ${stateMachine.node.path} definition still holds CloudFormation tokens: ${JSON.stringify(resolved).slice(0, 300)}`);
  }
  return JSON.parse(resolved) as AslDefinition;
}
