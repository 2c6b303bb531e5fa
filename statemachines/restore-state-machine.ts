/**
 * The restore state machine:
 *
 *     Fetch manifest → [Drill start] → Prepare nodes → [Stage nodes] → Apply nodes → [Start nodes] → Validate → Report → [Record drill] → Restore succeeded
 *          └──────────────────────────── Catch States.ALL ($.error) ──────────────────────────────┘
 *                                   ↓
 *     Cleanup after failure (on every node's host: stop what the restore started, remove the download
 *     spool, say what the target holds) → [Record failed drill] → Restore failed (Fail: Error of
 *     $.error, Cause = the original message and the target's state, $.cleanup.cause)
 *
 * A drill (input with `drill`, core/drill/drill-steps.ts) without a target first starts a scratch
 * target on the request's host (Drill start); a drill's outcome, good or bad, is recorded next to
 * the backup by Record drill / Record failed drill, whose handler then tears the scratch target down.
 *
 * Each `… nodes` state is a Map over `$.nodes` (the hosts the target spreads over: one for most
 * targets) running its host step on every node at once, and the next begins only when it has
 * finished on all: no node's target is touched before every node has staged (downloaded and
 * proven) the backup, and no node starts a server before every node's data is replaced. A step
 * that fails on one node is caught there: the Map waits for the others to end (their host
 * commands run on regardless), then `… failed on a node?` sends the first node's error, as
 * `$.error`, to the cleanup — which so never runs beside a live step. The items' outcomes are `{}`
 * or `{ error }` (`$.nodeOutcomes`): what a node's step did is in its records in the store. Stage
 * and Start run only for drivers that have them (`$.phases`, set by Fetch manifest). Validate runs
 * once, on the first node's host.
 *          └ Catch States.ALL ($.cleanupError) → Cleanup failed (Pass: the cause says the target's
 *            state is unknown) → Restore failed
 *
 * Execution input (what an operator pastes in the console):
 * `{ backupId ("latest" allowed), engine?, instance?, target, force?, rateLimit?, host?, verified?, drill? }`. Fetch manifest
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

/** Where a drill's record step puts the outcome it recorded (core/drill/drill-steps.ts `drillOutcome`). */
export const DRILL_OUTCOME_PATH = '$.drillOutcome';

/** Where a node step's Map puts each node's outcome: `{}`, or `{ error }` when the step failed on it. */
export const NODE_OUTCOMES_PATH = '$.nodeOutcomes';

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
    // A drill records every outcome next to the backup, a failed one too, and tears its scratch target down.
    const recordFailedDrill = task('Record failed drill', 'drill-record', DRILL_OUTCOME_PATH);
    recordFailedDrill.addCatch(failed, { errors: [sfn.Errors.ALL], resultPath: '$.drillError' });
    const afterCleanup = sfn.Choice.jsonPath(this, 'Drill failed?')
      .when(sfn.Condition.isPresent('$.drill'), recordFailedDrill.next(failed))
      .otherwise(failed);
    cleanupAfterFailure.addCatch(cleanupFailed.next(afterCleanup), { errors: [sfn.Errors.ALL], resultPath: '$.cleanupError' });
    cleanupAfterFailure.next(afterCleanup);
    // A node step that failed on one node fails the restore only once it has ended on every node:
    // the others' host commands run on whatever happens, so the cleanup must not begin under them.
    const nodeFailed = Array.from({ length: MAX_RESTORE_NODES }, (_, i) => sfn.Pass.jsonPath(this, `Node ${i + 1} failed`, {
      comment: `the error of node ${i + 1}'s step, as the restore's`,
      parameters: { 'Error.$': `${NODE_OUTCOMES_PATH}[${i}].error.Error`, 'Cause.$': `${NODE_OUTCOMES_PATH}[${i}].error.Cause` },
      resultPath: '$.error',
    }).next(cleanupAfterFailure));
    const maps: sfn.Map[] = [];
    const onEveryNode = (step: RestoreHandler, next: sfn.IChainable): sfn.Map => {
      const title = stepTitle(step);
      const map = sfn.Map.jsonPath(this, `${title} nodes`, {
        comment: `${step} on every node at once; each item's outcome is {} or { error } (each node's step records what it did)`,
        itemsPath: '$.nodes',
        itemSelector: { restore: sfn.JsonPath.entirePayload, node: sfn.JsonPath.objectAt('$$.Map.Item.Value') },
        maxConcurrency: MAX_RESTORE_NODES,
        resultPath: NODE_OUTCOMES_PATH,
      });
      const onNode = host(step);
      onNode.addCatch(sfn.Pass.jsonPath(this, `${title} failed on the node`, { parameters: { 'error.$': '$.error' } }), { errors: [sfn.Errors.ALL], resultPath: '$.error' });
      map.itemProcessor(onNode.next(sfn.Pass.jsonPath(this, `${title} ended on the node`, { result: sfn.Result.fromObject({}) })));
      const check = sfn.Choice.jsonPath(this, `${title} failed on a node?`);
      nodeFailed.forEach((failedNode, i) => check.when(sfn.Condition.isPresent(`${NODE_OUTCOMES_PATH}[${i}].error`), failedNode));
      map.next(check.otherwise(next));
      maps.push(map);
      return map;
    };
    const fetchManifest = task('Fetch manifest', 'fetch-manifest', '$', budget.firstStepInput());
    const validate = host('validate');
    const report = task('Report', 'report', '$.report');
    const succeeded = sfn.Succeed.jsonPath(this, 'Restore succeeded');
    const recordDrill = task('Record drill', 'drill-record', DRILL_OUTCOME_PATH);
    // The restore is recorded good; a record or teardown in trouble fails the run, never the backup's record.
    recordDrill.addCatch(sfn.Fail.jsonPath(this, 'Drill record failed', { errorPath: '$.drillError.Error', causePath: '$.drillError.Cause' }), {
      errors: [sfn.Errors.ALL], resultPath: '$.drillError',
    });
    const finish = validate.next(report).next(sfn.Choice.jsonPath(this, 'Drill?')
      .when(sfn.Condition.isPresent('$.drill'), recordDrill.next(succeeded))
      .otherwise(succeeded));
    const when = (phase: 'stage' | 'start', then: sfn.IChainable, otherwise: sfn.IChainable) =>
      sfn.Choice.jsonPath(this, `${stepTitle(phase)}?`).when(sfn.Condition.booleanEquals(`$.phases.${phase}`, true), then).otherwise(otherwise);
    const apply = onEveryNode('apply', when('start', onEveryNode('start', finish), finish));
    const prepare = onEveryNode('prepare', when('stage', onEveryNode('stage', apply), apply));
    const drillStart = host('drill-start');
    const scratchNeeded = sfn.Choice.jsonPath(this, 'Scratch target?')
      .when(sfn.Condition.and(sfn.Condition.isPresent('$.drill'), sfn.Condition.isNotPresent('$.target')), drillStart.next(prepare))
      .otherwise(prepare);
    // The Maps' own failures (a runtime error of the state machine itself) go the same way as the steps'.
    for (const step of [fetchManifest, drillStart, ...maps, validate, report]) step.addCatch(cleanupAfterFailure, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
    const definition = fetchManifest.next(scratchNeeded);
    ({ stateMachine: this.stateMachine, budget: this.budget } = createStateMachine(
      this, definition, 'dbbackup restore: fetch manifest, then on every node prepare, stage, apply, start; validate, report; after a failure, cleanup', props,
      { budget, mapItems: MAX_RESTORE_NODES },
    ));
  }
}
