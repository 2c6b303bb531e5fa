/**
 * The retry policies every Task carries. Handlers fail with exactly two error names (see
 * DESIGN.md "Errors"): `TransientError` is retried with capped, jittered exponential backoff;
 * `PermanentError` never is. Lambda's own service errors are retried the same way.
 *
 * Every policy lists `PermanentError` first with `MaxAttempts: 0`, so the intent is explicit in the
 * ASL and no later retrier (e.g. one an operator adds for `States.ALL`) can ever retry it.
 */
import { Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';

/** Error name of failures worth retrying (network blips, throttling, lock timeouts, 5xx). */
export const TRANSIENT_ERROR = 'TransientError';

/** Error name of failures that retrying cannot fix (bad input, auth, corrupt snapshot). */
export const PERMANENT_ERROR = 'PermanentError';

/** Errors of the Lambda service itself (not of the handler), as Step Functions reports them. */
export const LAMBDA_SERVICE_ERRORS: readonly string[] = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.ClientExecutionTimeoutException',
  'Lambda.TooManyRequestsException',
];

/** One exponential backoff: wait `interval × 2^n` (capped at `maxDelay`, full jitter), at most `maxAttempts` retries. */
export interface BackoffProps {
  /** Wait before the first retry. @default 2 seconds */
  readonly interval?: Duration;
  /** Retries after the first attempt. @default 4 */
  readonly maxAttempts?: number;
  /** Upper bound of any single wait. @default 60 seconds */
  readonly maxDelay?: Duration;
}

/** Retry numbers of a state machine, all optional. */
export interface RetryPolicyProps {
  /** Backoff for `TransientError`. @default 5 s, 4 retries, at most 120 s */
  readonly transient?: BackoffProps;
  /** Backoff for Lambda service errors. @default 2 s, 6 retries, at most 30 s */
  readonly lambdaService?: BackoffProps;
}

/** {@link BackoffProps} with every value set. */
export interface Backoff {
  readonly interval: Duration;
  readonly maxAttempts: number;
  readonly maxDelay: Duration;
}

/** {@link RetryPolicyProps} with every value set. */
export interface RetryPolicy {
  readonly transient: Backoff;
  readonly lambdaService: Backoff;
}

/** Backoff rate of every retrier: each wait doubles. */
export const BACKOFF_RATE = 2;

/** The defaults of {@link RetryPolicyProps}. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  transient: { interval: Duration.seconds(5), maxAttempts: 4, maxDelay: Duration.seconds(120) },
  lambdaService: { interval: Duration.seconds(2), maxAttempts: 6, maxDelay: Duration.seconds(30) },
};

/** Fills unset values of `props` from {@link DEFAULT_RETRY_POLICY} and checks them. */
export function resolveRetryPolicy(props: RetryPolicyProps = {}): RetryPolicy {
  return {
    transient: resolveBackoff('transient', props.transient, DEFAULT_RETRY_POLICY.transient),
    lambdaService: resolveBackoff('lambdaService', props.lambdaService, DEFAULT_RETRY_POLICY.lambdaService),
  };
}

function resolveBackoff(name: string, props: BackoffProps | undefined, defaults: Backoff): Backoff {
  const backoff: Backoff = { ...defaults, ...definedOnly(props ?? {}) };
  if (!Number.isInteger(backoff.maxAttempts) || backoff.maxAttempts < 0 || backoff.maxAttempts > 99_999_999) {
    throw new Error(`retry policy '${name}': maxAttempts must be an integer from 0 to 99999999, got ${backoff.maxAttempts}`);
  }
  if (backoff.interval.toSeconds() < 1) throw new Error(`retry policy '${name}': interval must be at least 1 second`);
  if (backoff.maxDelay.toSeconds() < backoff.interval.toSeconds()) {
    throw new Error(`retry policy '${name}': maxDelay must not be shorter than interval`);
  }
  return backoff;
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** A state that takes Retry rules (Task, Parallel, Map). */
export interface Retryable {
  addRetry(props?: sfn.RetryProps): unknown;
}

function addBackoff(state: Retryable, errors: readonly string[], backoff: Backoff): void {
  state.addRetry({
    errors: [...errors],
    interval: backoff.interval,
    maxAttempts: backoff.maxAttempts,
    maxDelay: backoff.maxDelay,
    backoffRate: BACKOFF_RATE,
    jitterStrategy: sfn.JitterType.FULL,
  });
}

/** Adds the explicit "never retry" rule for `PermanentError` (it must come first). */
export function addPermanentErrorRule(state: Retryable): void {
  state.addRetry({ errors: [PERMANENT_ERROR], maxAttempts: 0 });
}

/**
 * The policy of an ordinary Task: PermanentError never, then TransientError and then Lambda
 * service errors with their backoffs.
 */
export function addTaskRetries(state: Retryable, policy: RetryPolicy): void {
  addPermanentErrorRule(state);
  addBackoff(state, [TRANSIENT_ERROR], policy.transient);
  addBackoff(state, LAMBDA_SERVICE_ERRORS, policy.lambdaService);
}

/**
 * The policy of a host step's Submit and Poll Tasks: only Lambda service errors (a retried
 * invocation is the same submit or poll). Their TransientError is retried by the enclosing
 * Parallel ({@link addHostStepRetries}), so the step starts over with a fresh submit.
 */
export function addLambdaServiceRetries(state: Retryable, policy: RetryPolicy): void {
  addPermanentErrorRule(state);
  addBackoff(state, LAMBDA_SERVICE_ERRORS, policy.lambdaService);
}

/** The policy of a host step's Parallel: PermanentError never, TransientError with its backoff. */
export function addHostStepRetries(state: Retryable, policy: RetryPolicy): void {
  addPermanentErrorRule(state);
  addBackoff(state, [TRANSIENT_ERROR], policy.transient);
}
