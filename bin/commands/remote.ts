/**
 * `dbbackup remote backup|restore|drill|list|show`: the deployed state machines, driven from here.
 * A run starts an execution with the input the console and the schedules use (checked before it
 * is sent), follows it with a line per step, and prints the result or the failing step's error and
 * cause, with the CLI's usual exit codes; `--no-wait` prints the execution ARN and returns. The
 * AWS SDK finds the region and credentials as usual; `AWS_ENDPOINT_URL_SFN` points it elsewhere
 * (LocalStack, a stand-in).
 */
import { randomBytes } from 'node:crypto';
import { SFNClient, type ExecutionStatus } from '@aws-sdk/client-sfn';
import type { Command } from 'commander';
import { parseSize } from '../../core/config/units';
import { createRegistry } from '../../core/driver/create-registry';
import { pluginsOf } from '../../core/driver/builtin-driver';
import { PermanentError, fromNameAndMessage } from '../../core/errors';
import { RemoteStateMachines, type RemoteExecution, type StepEvent } from '../../core/remote/remote-executions';
import { remoteBackupInput, remoteRestoreInput } from '../../core/remote/remote-requests';
import { parseJsonOption, type CliContext } from '../cli-context';
import { encodingRequest, withEncodingOptions, type EncodingOptions } from '../key-options';
import { EXIT, exitCodeFor } from '../exit-codes';
import { formatRemoteExecution, formatRemoteList, type RemoteKind } from '../format';

interface RunOptions { stateMachine: string; wait: boolean; pollSeconds: string; region?: string }

const STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE'];

export function remoteCommand(program: Command, context: () => CliContext): void {
  const remote = program
    .command('remote')
    .description('drive the deployed state machines (AWS Step Functions): start and follow backups, restores and drills; list and show executions');
  const running = (command: Command) => command
    .requiredOption('--state-machine <name|arn>', 'the deployed state machine (stack outputs BackupStateMachineArn, RestoreStateMachineArn)')
    .option('--no-wait', 'print the execution ARN and return without following it')
    .option('--poll-seconds <s>', 'how often to look at the running execution', '5')
    .option('--region <region>', 'the stack\'s region (default: the AWS SDK\'s: AWS_REGION, the profile)');

  // A schedule gives each instance's compression and encryption (the instances file's, zstd 3 and the
  // stack's KMS key by default); a backup started here has what these options say.
  withEncodingOptions(running(remote.command('backup'))
    .description('start a backup execution: the input a schedule gives the backup state machine (give --compress and --encrypt-kms as its schedule does: the stack output ArtifactKeyArn)')
    .argument('<engine>', 'driver name, e.g. etcd')
    .requiredOption('--instance <name>', 'instance name')
    .requiredOption('--config <json|@file>', 'driver connection config; secrets as {"$secret":"ssm:/..."}')
    .requiredOption('--host <instance-id>', 'the SSM managed instance the host steps run on')
    .option('--rate-limit <size/s>', 'upload rate limit, e.g. 50MB/s')
    .option('--incremental', 'only what changed since the newest verified backup'))
    .action(async function runRemoteBackup(engine: string, options: RunOptions & EncodingOptions & { instance: string; config: string; host: string; rateLimit?: string; incremental?: boolean }) {
      const ctx = context();
      const input = remoteBackupInput({
        engine, instance: options.instance, config: parseJsonOption(options.config, '--config'), host: options.host,
        ...(options.rateLimit ? { rateLimit: parseSize(options.rateLimit) } : {}),
        ...(options.incremental ? { incremental: true } : {}),
        ...encodingRequest(options),
      }, await createRegistry(pluginsOf(ctx.drivers)));
      await startAndFollow(ctx, 'backup', input, `backup-${engine}-${options.instance}`, options);
    });

  running(remote.command('restore'))
    .description('start a restore execution: the console\'s restore input')
    .argument('<backup-id>', 'a backup id, or "latest" (with --engine and --instance)')
    .requiredOption('--target <json|@file>', 'restore target for the driver; secrets as {"$secret":"ssm:/..."}')
    .requiredOption('--host <instance-id>', 'the SSM managed instance the restore runs on')
    .option('--engine <engine>', 'engine: required with "latest"')
    .option('--instance <name>', 'instance: required with "latest"')
    .option('--verified', 'with "latest": the newest restore-verified backup')
    .option('--force', 'replace a non-empty target (only inside the host\'s restore roots)')
    .option('--rate-limit <size/s>', 'download rate limit, e.g. 50MB/s')
    .action(async function runRemoteRestore(backupId: string, options: RunOptions & { target: string; host: string; engine?: string; instance?: string; verified?: boolean; force?: boolean; rateLimit?: string }) {
      const ctx = context();
      const input = remoteRestoreInput({
        backupId, engine: options.engine, instance: options.instance, target: parseJsonOption(options.target, '--target'), host: options.host,
        ...(options.force ? { force: true } : {}),
        ...(options.verified ? { verified: true } : {}),
        ...(options.rateLimit ? { rateLimit: parseSize(options.rateLimit) } : {}),
      }, await createRegistry(pluginsOf(ctx.drivers)));
      await startAndFollow(ctx, 'restore', input, `restore-${options.engine ?? 'backup'}-${options.instance ?? backupId}`, options);
    });

  running(remote.command('drill'))
    .description('start a drill: the restore state machine restores the newest verified backup into a scratch target on --host, validates it, records the verdict beside the backup and tears the target down')
    .requiredOption('--engine <engine>', 'engine')
    .requiredOption('--instance <name>', 'instance')
    .requiredOption('--host <instance-id>', 'the SSM managed instance the drill runs on (best a spare one)')
    .option('--backup-id <id>', 'the backup to drill', 'latest')
    .option('--target <json|@file>', 'an empty target on --host instead of a scratch one')
    .option('--target-settings <json|@file>', 'fields set on the target, e.g. the credentials its validation needs (secrets by reference)')
    .action(async function runRemoteDrill(options: RunOptions & { engine: string; instance: string; host: string; backupId: string; target?: string; targetSettings?: string }) {
      const ctx = context();
      const input = remoteRestoreInput({
        backupId: options.backupId, engine: options.engine, instance: options.instance, host: options.host,
        ...(options.target ? { target: parseJsonOption(options.target, '--target') } : {}),
        drill: options.targetSettings ? { targetSettings: parseJsonOption(options.targetSettings, '--target-settings') } : {},
      }, await createRegistry(pluginsOf(ctx.drivers)));
      await startAndFollow(ctx, 'drill', input, `drill-${options.engine}-${options.instance}`, options);
    });

  remote.command('list')
    .description('the state machine\'s executions, newest first')
    .requiredOption('--state-machine <name|arn>', 'the deployed state machine')
    .option('--status <status>', `only executions in this status (${STATUSES.join(', ')})`)
    .option('--limit <n>', 'at most this many', '20')
    .option('--region <region>', 'the stack\'s region')
    .action(async function runRemoteList(options: { stateMachine: string; status?: string; limit: string; region?: string }) {
      const ctx = context();
      if (options.status !== undefined && !STATUSES.includes(options.status)) {
        throw new PermanentError(`--status must be one of ${STATUSES.join(', ')}, got '${options.status}'`, { code: 'INVALID_INPUT' });
      }
      const limit = Number(options.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new PermanentError(`--limit must be a whole number ≥ 1, got '${options.limit}'`, { code: 'INVALID_INPUT' });
      const machines = stateMachines(options.region);
      const executions = await machines.list(await machines.resolve(options.stateMachine), { status: options.status as ExecutionStatus | undefined, limit });
      ctx.print(executions, () => formatRemoteList(executions));
    });

  remote.command('show')
    .description('one execution: its status, its steps, and its result or the failing step\'s error and cause')
    .argument('<execution>', 'an execution ARN, or its name with --state-machine')
    .option('--state-machine <name|arn>', 'the machine of an execution given by name')
    .option('--region <region>', 'the stack\'s region')
    .action(async function runRemoteShow(execution: string, options: { stateMachine?: string; region?: string }) {
      const ctx = context();
      const machines = stateMachines(options.region);
      const executionArn = machines.executionArn(execution, options.stateMachine ? await machines.resolve(options.stateMachine) : undefined);
      const [described, steps] = await Promise.all([machines.describe(executionArn), machines.steps(executionArn)]);
      ctx.print({ ...described, steps }, () => [...steps.map(stepLine), formatRemoteExecution(described, kindOf(described))].join('\n'));
      process.exitCode = exitCodeOf(described);
    });
}

function stateMachines(region: string | undefined): RemoteStateMachines {
  return new RemoteStateMachines(new SFNClient(region ? { region } : {}));
}

async function startAndFollow(ctx: CliContext, kind: RemoteKind, input: unknown, label: string, options: RunOptions): Promise<void> {
  const pollSeconds = Number(options.pollSeconds);
  if (!(pollSeconds > 0)) throw new PermanentError(`--poll-seconds must be a positive number, got '${options.pollSeconds}'`, { code: 'INVALID_INPUT' });
  const machines = stateMachines(options.region);
  const stateMachineArn = await machines.resolve(options.stateMachine);
  const executionArn = await machines.start(stateMachineArn, input, executionName(label));
  if (!options.wait) {
    ctx.print({ executionArn }, () => executionArn);
    return;
  }
  if (!ctx.json) process.stderr.write(`started ${executionArn}\n`);
  const result = await machines.follow(executionArn, {
    pollMs: pollSeconds * 1000,
    onStep: (step) => { if (!ctx.json) process.stderr.write(`${stepLine(step)}\n`); },
  });
  ctx.print(result, () => formatRemoteExecution(result, kind));
  process.exitCode = exitCodeOf(result);
}

/** A readable, unique execution name: `<label>-<UTC time>-<random>`, within Step Functions' 80 characters of [A-Za-z0-9_-]. */
function executionName(label: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${label.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 56)}-${stamp}-${randomBytes(3).toString('hex')}`;
}

function stepLine(step: StepEvent): string {
  return `  ${step.at.slice(11, 19)} ${step.event === 'failed' ? '✗' : '→'} ${step.state}${step.detail ? `: ${step.detail}` : ''}`;
}

/** What the execution's input was for, from its name (the names this command gives). */
function kindOf(execution: RemoteExecution): RemoteKind | undefined {
  return (['backup', 'restore', 'drill'] as const).find((kind) => execution.name.startsWith(`${kind}-`));
}

/** 0 for a success; a failure's exit code from its error and cause, as for a run here; 1 for a timeout or abort. */
function exitCodeOf(execution: RemoteExecution): number {
  if (execution.status === 'SUCCEEDED') return EXIT.ok;
  if (execution.status === 'FAILED' && execution.error) return exitCodeFor(fromNameAndMessage(execution.error, execution.cause ?? ''));
  return execution.status === 'RUNNING' ? EXIT.ok : EXIT.failed;
}
