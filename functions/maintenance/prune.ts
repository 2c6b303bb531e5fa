/**
 * The scheduled prune of one instance (one EventBridge rule per instance starts it with the
 * instance's retention): the core prune with deletion on. Not a state machine step.
 */
import { runScheduledPrune } from '../../core/catalog/scheduled-prune';
import { lambdaRuntime, type RuntimeProvider } from '../shared/lambda-runtime';
import { logger } from '../shared/observability';
import { stepHandler } from '../shared/step-handler';

export const createHandler = (provider: RuntimeProvider) =>
  stepHandler('prune', provider, async function pruneInstance(event, { runtime }) {
    const result = await runScheduledPrune(event, runtime.store, runtime.registry);
    logger.info('prune applied', { engine: result.engine, instance: result.instance, kept: result.kept, deleted: result.deleted.length, pool: result.pool });
    return result;
  });

export const handler = createHandler(lambdaRuntime);
