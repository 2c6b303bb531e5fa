/**
 * The one way the state machines invoke a handler: a JSONPath `LambdaInvoke` whose Resource is the
 * function ARN itself (`payloadResponseOnly`), so the state's output is exactly the handler's return
 * value, and whose Comment names the handler for the local runner.
 */
import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { handlerComment, type HandlerId } from './handlers';

/** How one handler is invoked. */
export interface LambdaTaskProps {
  /** The function to invoke. */
  readonly fn: lambda.IFunction;
  /** Which handler the function runs (becomes the Comment `handler:<id>`). */
  readonly handler: HandlerId;
  /**
   * Where the handler's return value goes in the state. `'$'` (the default: it replaces the
   * state) is rendered by leaving ResultPath out, which means the same in AWS and is the only
   * form aws-local-stepfunctions 3 gets right (it stores an explicit `"ResultPath": "$"` under a
   * key named `$`).
   * @default '$'
   */
  readonly resultPath?: string;
  /**
   * Longest a single invocation may take before the Task fails with `States.Timeout`. Set it
   * explicitly: without it AWS waits up to a year and aws-local-stepfunctions gives up after 60 s.
   * @default 15 minutes (Lambda's own maximum)
   */
  readonly timeout?: Duration;
  /** What the handler receives. @default the state itself */
  readonly payload?: sfn.TaskInput;
}

/** Default of {@link LambdaTaskProps.timeout}. */
export const DEFAULT_TASK_TIMEOUT = Duration.minutes(15);

/**
 * A Task state named `id` that invokes `props.fn`. Retries are NOT added here: callers add the
 * policy that fits the Task's role (see retry-policy.ts).
 */
export function lambdaTask(scope: Construct, id: string, props: LambdaTaskProps): tasks.LambdaInvoke {
  return tasks.LambdaInvoke.jsonPath(scope, id, {
    lambdaFunction: props.fn,
    comment: handlerComment(props.handler),
    payloadResponseOnly: true,
    payload: props.payload,
    // Lambda service errors are retried by our own policy, with jitter and a cap.
    retryOnServiceExceptions: false,
    resultPath: props.resultPath === '$' ? undefined : props.resultPath,
    taskTimeout: sfn.Timeout.duration(props.timeout ?? DEFAULT_TASK_TIMEOUT),
  });
}
