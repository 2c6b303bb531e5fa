/** Restore step, on each node's host: check its part of the target is empty (or --force) and ready. */
import { restoreNodeInputSchema } from '../../core/restore/restore-state';
import { hostStepHandler, nodeHost } from '../shared/host-step';
import { lambdaRuntime, type RuntimeProvider } from '../shared/lambda-runtime';

export const createHandler = (provider: RuntimeProvider) =>
  hostStepHandler('restore-prepare', provider, { hostOf: nodeHost, output: restoreNodeInputSchema });

export const handler = createHandler(lambdaRuntime);
