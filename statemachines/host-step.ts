/**
 * A HOST STEP: work that runs on a database host (SSM Run Command in AWS, a child process
 * locally) and may take far longer than one Lambda invocation. The step's handler is invoked to
 * submit the work, then polled until it no longer reports `pending`:
 *
 *     Parallel <Step>  (Retry: TransientError → the whole branch again, i.e. a fresh submit; OutputPath $[0])
 *       └─ Submit <step> → <step> pending? ──no──→ <Step> done
 *                              │ yes  ↑
 *                              ↓      │
 *                        Wait <step> → Poll <step>
 *
 * Submit and Poll invoke the SAME handler with the state as input (ResultPath `$`): the handler tells
 * a fresh submit from a poll by the `pending` it returned earlier. It returns the next state, with
 * `pending` set while the work runs, and in it how long to wait before the next poll
 * (`pending.waitSeconds`, growing with the step's time: core/host-runner/poll-schedule.ts), so a
 * step's history events grow with the logarithm of its duration, not with the duration. The
 * deadline of a host step is the handler's (the step's timeout, or the run's deadline if sooner:
 * core/steps/run-deadline.ts): Poll then fails with an error and the caller's Catch handles it
 * like any other failure.
 */
import type { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import type { HandlerId } from './handlers';
import { lambdaTask } from './lambda-task';
import { addHostStepRetries, addLambdaServiceRetries, type RetryPolicy } from './retry-policy';

/** JSONPath the handler sets while the host work is still running. */
export const PENDING_PATH = '$.pending';

/** JSONPath of the seconds to wait before the next poll, which the handler sets in `pending`. */
export const POLL_WAIT_PATH = '$.pending.waitSeconds';

/** One host step. */
export interface HostStepProps {
  /** Short step name used in state names, e.g. `snapshot` → `Submit snapshot`, `Poll snapshot`. Unique per machine. */
  readonly step: string;
  /** The step's function (invoked for both submit and poll). */
  readonly fn: lambda.IFunction;
  /** The handler the function runs. */
  readonly handler: HandlerId;
  /** Retry numbers (Lambda service errors on Submit/Poll, TransientError on the Parallel). */
  readonly retry: RetryPolicy;
  /** Longest one submit or poll invocation may take. @default lambdaTask's default */
  readonly taskTimeout?: Duration;
}

/** `fetch-manifest` → `Fetch manifest`. */
export function stepTitle(step: string): string {
  const words = step.replace(/[-_]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/**
 * Builds the host step's Parallel state, named after the step (`Snapshot`, `Apply`).
 * Its output is the handler's final state (the branch output unwrapped). Add the caller's Catch to it.
 */
export function hostStep(scope: Construct, props: HostStepProps): sfn.Parallel {
  const { step } = props;
  const parallel = sfn.Parallel.jsonPath(scope, stepTitle(step), {
    comment: `host step ${step}: submit, then poll until no longer pending`,
    outputPath: '$[0]',
  });
  addHostStepRetries(parallel, props.retry);

  const submit = lambdaTask(scope, `Submit ${step}`, { fn: props.fn, handler: props.handler, timeout: props.taskTimeout });
  const poll = lambdaTask(scope, `Poll ${step}`, { fn: props.fn, handler: props.handler, timeout: props.taskTimeout });
  addLambdaServiceRetries(submit, props.retry);
  addLambdaServiceRetries(poll, props.retry);

  const wait = sfn.Wait.jsonPath(scope, `Wait ${step}`, { time: sfn.WaitTime.secondsPath(POLL_WAIT_PATH) });
  const pending = sfn.Choice.jsonPath(scope, `${stepTitle(step)} pending?`);
  const done = sfn.Succeed.jsonPath(scope, `${stepTitle(step)} done`);
  pending.when(sfn.Condition.isPresent(PENDING_PATH), wait.next(poll).next(pending)).otherwise(done);

  parallel.branch(submit.next(pending));
  return parallel;
}
