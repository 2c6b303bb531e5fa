/**
 * The backup state machine:
 *
 *     Prepare → Nodes (Map over $.nodes: Snapshot → Validate → Upload host steps) → Finalize → Cleanup → Backup succeeded
 *       └──────────── Catch States.ALL ($.error) ─────────────┘                         └ Catch ($.cleanupError) ┘
 *                                     ↓
 *                        Cleanup after failure → Backup failed (Fail: Error/Cause of $.error)
 *
 * Once Finalize has written the manifest the backup is complete: a failing Cleanup (spool removal
 * on the hosts) is reported in the output as `cleanupError`, and the execution still succeeds.
 * Cleanup after failure cleans every node it can, discards the incomplete backup and counts the
 * failure whatever else fails (functions/backup/cleanup.ts).
 *
 * Execution input: `{ engine, instance, config, rateLimit?, host?, incremental? }` (config keeps `$secret` references).
 * The whole state passes from step to step (an incremental backup's `base` too): no state lists its fields.
 * Prepare receives it as `request`, with the run's time budget as `budget` (core/steps/run-deadline.ts).
 */
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { MAX_BACKUP_NODES } from '../core/backup/backup-state';
import type { BudgetReport } from './budget/check-budget';
import { RunBudget } from './budget/run-budget';
import type { BackupHandler } from './handlers';
import { hostStep } from './host-step';
import { lambdaTask } from './lambda-task';
import { addTaskRetries, resolveRetryPolicy } from './retry-policy';
import { createStateMachine, type WorkflowOptions } from './workflow';

/** Default of {@link BackupStateMachineProps.maxConcurrency}. */
export const DEFAULT_MAX_CONCURRENCY = 4;

/** The backup state machine's functions and options. */
export interface BackupStateMachineProps extends WorkflowOptions {
  /** The function of every backup handler. */
  readonly functions: Readonly<Record<BackupHandler, lambda.IFunction>>;
  /** Nodes backed up at the same time (the Map's MaxConcurrency). @default 4 */
  readonly maxConcurrency?: number;
}

/** The backup workflow as a Step Functions state machine. */
export class BackupStateMachine extends Construct {
  /** The deployed state machine. */
  public readonly stateMachine: sfn.StateMachine;
  /** Its time and history budget, as checked. */
  public readonly budget: BudgetReport;

  constructor(scope: Construct, id: string, props: BackupStateMachineProps) {
    super(scope, id);
    const fns = props.functions;
    const retry = resolveRetryPolicy(props.retry);
    const maxConcurrency = props.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY;
    if (!Number.isInteger(maxConcurrency) || maxConcurrency < 1) {
      throw new Error(`maxConcurrency must be a positive integer, got ${maxConcurrency}`);
    }
    const timeout = props.taskTimeout;
    const budget = new RunBudget();
    const task = (name: string, handler: BackupHandler, resultPath: string, payload?: sfn.TaskInput) => {
      const state = lambdaTask(this, name, { fn: fns[handler], handler: `backup/${handler}`, resultPath, timeout, payload });
      addTaskRetries(state, retry);
      return state;
    };
    const host = (step: BackupHandler) =>
      hostStep(this, { step, fn: fns[step], handler: `backup/${step}`, retry, taskTimeout: timeout });

    const prepare = task('Prepare', 'prepare', '$', budget.firstStepInput());

    const nodes = sfn.Map.jsonPath(this, 'Nodes', {
      comment: 'each node: snapshot, validate, upload',
      itemsPath: '$.nodes',
      itemSelector: { backup: sfn.JsonPath.entirePayload, node: sfn.JsonPath.objectAt('$$.Map.Item.Value') },
      maxConcurrency,
      resultPath: '$.nodeResults',
    });
    nodes.itemProcessor(host('snapshot').next(host('validate')).next(host('upload')));

    const finalize = task('Finalize', 'finalize', '$.summary');
    const cleanup = task('Cleanup', 'cleanup', '$.cleanup');
    const succeeded = sfn.Succeed.jsonPath(this, 'Backup succeeded');

    const failed = sfn.Fail.jsonPath(this, 'Backup failed', { errorPath: '$.error.Error', causePath: '$.error.Cause' });
    const cleanupAfterFailure = task('Cleanup after failure', 'cleanup', '$.cleanup');
    // A failing cleanup must not hide the original error: its own error goes elsewhere.
    cleanupAfterFailure.addCatch(failed, { errors: [sfn.Errors.ALL], resultPath: '$.cleanupError' });
    cleanupAfterFailure.next(failed);

    for (const step of [prepare, nodes, finalize]) step.addCatch(cleanupAfterFailure, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
    // The manifest is written: the backup is complete, whatever becomes of the hosts' spool.
    cleanup.addCatch(succeeded, { errors: [sfn.Errors.ALL], resultPath: '$.cleanupError' });

    const definition = prepare.next(nodes).next(finalize).next(cleanup).next(succeeded);
    ({ stateMachine: this.stateMachine, budget: this.budget } = createStateMachine(
      this, definition, 'dbbackup backup: prepare, per node snapshot/validate/upload, finalize, cleanup', props, { budget, mapItems: MAX_BACKUP_NODES },
    ));
  }
}
