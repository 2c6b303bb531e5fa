/**
 * The restore state machine:
 *
 *     Fetch manifest → Prepare → Apply → Validate → Report → Restore succeeded
 *          └──────────────── Catch States.ALL ($.error) ────────────────┘
 *                                   ↓
 *     Cleanup after failure (on the target host: stop what the restore started, remove the download
 *     spool, say what the target holds) → Restore failed (Fail: Error of $.error, Cause = the
 *     original message and the target's state, $.cleanup.cause)
 *          └ Catch States.ALL ($.cleanupError) → Cleanup failed (Pass: the cause says the target's
 *            state is unknown) → Restore failed
 *
 * The three middle states are host steps. Execution input (what an operator pastes in the console):
 * `{ backupId ("latest" allowed), engine?, instance?, target, force?, rateLimit?, host? }`. Fetch manifest
 * receives it as `request`, with the run's time budget as `budget` (core/steps/run-deadline.ts).
 */
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { BudgetReport } from './budget/check-budget';
import { RunBudget } from './budget/run-budget';
import type { RestoreHandler } from './handlers';
import { hostStep } from './host-step';
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
    const steps = [
      task('Fetch manifest', 'fetch-manifest', '$', budget.firstStepInput()),
      host('prepare'),
      host('apply'),
      host('validate'),
      task('Report', 'report', '$.report'),
    ];
    for (const step of steps) step.addCatch(cleanupAfterFailure, { errors: [sfn.Errors.ALL], resultPath: '$.error' });

    const [first, ...rest] = steps;
    let chain: sfn.Chain = sfn.Chain.start(first);
    for (const step of rest) chain = chain.next(step);
    const definition = chain.next(sfn.Succeed.jsonPath(this, 'Restore succeeded'));
    ({ stateMachine: this.stateMachine, budget: this.budget } = createStateMachine(
      this, definition, 'dbbackup restore: fetch manifest, prepare, apply, validate, report; after a failure, cleanup', props, { budget, mapItems: 1 },
    ));
  }
}
