/**
 * Wraps a step in a middy handler: Powertools context (metrics are published by the steps that
 * have something to count, see observability.ts), the backup id and engine on every log line, the
 * step's duration logged when it returns (`step returned`), and every error leaving as
 * `TransientError` or `PermanentError` (by name — the state machines' Retry and Catch match on
 * it). Inputs are never logged: they may carry secret references, and logging them would be the
 * first step to logging secrets.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { PermanentError, TransientError, classify, messageWithCode } from '../../core/errors';
import { logger } from './observability';
import type { HandlerRuntime, RuntimeProvider } from './lambda-runtime';

type StepBody<T> = (event: unknown, runtime: HandlerRuntime) => Promise<T>;

/** Keys worth having on every log line, wherever the event keeps them. */
function correlationKeys(event: unknown): Record<string, string> {
  const e = (event ?? {}) as Record<string, unknown>;
  const nested = ((e.backup as Record<string, unknown> | undefined) ?? {});
  const request = ((e.request as Record<string, unknown> | undefined) ?? {}); // a first step's `{ request, budget }`
  const keys: Record<string, string> = {};
  for (const name of ['backupId', 'restoreId', 'engine', 'instance'] as const) {
    const value = e[name] ?? nested[name] ?? request[name];
    if (typeof value === 'string') keys[name] = value;
  }
  return keys;
}

/**
 * @example
 * export const handler = stepHandler('backup-prepare', lambdaRuntime, (event, { runtime }) =>
 *   prepareBackup(event, runtime.deps));
 */
export function stepHandler<T>(step: string, provider: RuntimeProvider, body: StepBody<T>) {
  return middy(async function handleStep(event: unknown): Promise<T> {
    logger.appendKeys({ step, ...correlationKeys(event) });
    const started = Date.now();
    const runtime = await provider();
    try {
      const result = await body(event, runtime);
      // Where a run's time goes, step by step (a host step still running returns `pending`, and is polled again).
      runtime.runtime.deps.logger.info('step returned', { step, ms: Date.now() - started, pending: typeof result === 'object' && result !== null && 'pending' in result });
      return result;
    } catch (error) {
      const classified = classify(error);
      logger.error('step failed', { error: classified.toJSON() });
      // Step Functions keeps only the error's name and message: the code travels in the message.
      const Class = classified instanceof TransientError ? TransientError : PermanentError;
      throw new Class(messageWithCode(classified), { code: classified.code, engine: classified.engine });
    }
  })
    .use(injectLambdaContext(logger, { resetKeys: true }));
}
