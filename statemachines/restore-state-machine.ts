/**
 * The restore state machine:
 *
 *     Fetch manifest → Prepare nodes → [Stage nodes] → Apply nodes → [Start nodes] → Validate → Report → Restore succeeded
 *          └──────────────────────────── Catch States.ALL ($.error) ──────────────────────────────┘
 *                                   ↓
 *     Cleanup after failure (on every node's host: stop what the restore started, remove the download
 *     spool, say what the target holds) → Restore failed (Fail: Error of $.error, Cause = the
 *     original message and the target's state, $.cleanup.cause)
 *
 * Each `… nodes` state is a Map over `$.nodes` (the hosts the target spreads over: one for most
 * targets) running its host step on every node at once, and the next begins only when it has
 * finished on all: no node's target is touched before every node has staged (downloaded and
 * proven) the backup, and no node starts a server before every node's data is replaced. The Maps
 * discard their items' outputs (each node's step records what it did in the store); Stage and
 * Start run only for drivers that have them (`$.phases`, set by Fetch manifest). Validate runs once,
 * on the first node's host.
 *          └ Catch States.ALL ($.cleanupError) → Cleanup failed (Pass: the cause says the target's
 *            state is unknown) → Restore failed
 *
 * Execution input (what an operator pastes in the console):
 * `{ backupId ("latest" allowed), engine?, instance?, target, force?, rateLimit?, host? }`. Fetch manifest
 * receives it as `request`, with the run's time budget as `budget` (core/steps/run-deadline.ts).
 */
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { BudgetReport } from './budget/check-budget';
import { RunBudget } from './budget/run-budget';
import type { RestoreHandler } from './handlers';
import { MAX_RESTORE_NODES } from '../core/restore/restore-state';
import { hostStep, stepTitle } from './host-step';
import { lambdaTask } from './lambda-task';
import { addTaskRetries, resolveRetryPolicy } from './retry-policy';
import { createStateMachine, type WorkflowOptions } from './workflow';

/** Where the failure path puts what its cleanup found (the handler's output; `cause` is the Fail's Cause). */
export const CLEANUP_PATH = '$.cleanup';

/** The restore state machine's functions and options. */
export interface RestoreStateMachineProps extends WorkflowOptions {
  /** The function of every restore handler. */
  readonly functions: Readonly<Record<RestoreHandler, lambda.IFunction>>;
}

/** The restore workflow as a Step Functions state machine. */
export class RestoreStateMachine extends Construct {
  /** The deployed state machine. */
  public readonly stateMachine: sfn.StateMachine;
  /** Its time and history budget, as checked. */
  public readonly budget: BudgetReport;

  constructor(scope: Construct, id: string, props: RestoreStateMachineProps) {
    super(scope, id);
    const fns = props.functions;
    const retry = resolveRetryPolicy(props.retry);
    const timeout = props.taskTimeout;
    const budget = new RunBudget();
    const task = (name: string, handler: RestoreHandler, resultPath: string, payload?: sfn.TaskInput) => {
      const state = lambdaTask(this, name, { fn: fns[handler], handler: `restore/${handler}`, resultPath, timeout, payload });
      addTaskRetries(state, retry);
      return state;
    };
    const host = (step: RestoreHandler) =>
      hostStep(this, { step, fn: fns[step], handler: `restore/${step}`, retry, taskTimeout: timeout });

    const failed = sfn.Fail.jsonPath(this, 'Restore failed', { errorPath: '$.error.Error', causePath: `${CLEANUP_PATH}.cause` });
    const cleanupAfterFailure = task('Cleanup after failure', 'cleanup', CLEANUP_PATH);
    // A cleanup that failed itself must not hide the original error, nor claim to know the target's state.
    const cleanupFailed = sfn.Pass.jsonPath(this, 'Cleanup failed', {
      parameters: {
        cause: sfn.JsonPath.format(
          '{} — target unknown: the cleanup after the failure failed too ({}); what the restore started may still run',
          sfn.JsonPath.stringAt('$.error.Cause'),
          sfn.JsonPath.stringAt('$.cleanupError.Cause'),
        ),
      },
      resultPath: CLEANUP_PATH,
    });
    cleanupAfterFailure.addCatch(cleanupFailed.next(failed), { errors: [sfn.Errors.ALL], resultPath: '$.cleanupError' });
    cleanupAfterFailure.next(failed);
    const onEveryNode = (step: RestoreHandler) => {
      const map = sfn.Map.jsonPath(this, `${stepTitle(step)} nodes`, {
        comment: `${step} on every node at once; the item outputs are discarded (each node's step records its own)`,
        itemsPath: '$.nodes',
        itemSelector: { restore: sfn.JsonPath.entirePayload, node: sfn.JsonPath.objectAt('$$.Map.Item.Value') },
        maxConcurrency: MAX_RESTORE_NODES,
        resultPath: sfn.JsonPath.DISCARD,
      });
      map.itemProcessor(host(step));
      return map;
    };
    const fetchManifest = task('Fetch manifest', 'fetch-manifest', '$', budget.firstStepInput());
    const [prepare, stage, apply, start] = (['prepare', 'stage', 'apply', 'start'] as const).map(onEveryNode);
    const validate = host('validate');
    const report = task('Report', 'report', '$.report');
    for (const step of [fetchManifest, prepare, stage, apply, start, validate, report]) step.addCatch(cleanupAfterFailure, { errors: [sfn.Errors.ALL], resultPath: '$.error' });

    const when = (phase: 'stage' | 'start', map: sfn.Map, next: sfn.IChainable) =>
      sfn.Choice.jsonPath(this, `${stepTitle(phase)}?`)
        .when(sfn.Condition.booleanEquals(`$.phases.${phase}`, true), map.next(next))
        .otherwise(next);
    const finish = validate.next(report).next(sfn.Succeed.jsonPath(this, 'Restore succeeded'));
    const definition = fetchManifest.next(prepare).next(when('stage', stage, apply.next(when('start', start, finish))));
    ({ stateMachine: this.stateMachine, budget: this.budget } = createStateMachine(
      this, definition, 'dbbackup restore: fetch manifest, then on every node prepare, stage, apply, start; validate, report; after a failure, cleanup', props,
      { budget, mapItems: MAX_RESTORE_NODES },
    ));
  }
}
