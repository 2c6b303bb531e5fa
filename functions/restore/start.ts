/** Restore step, on each node's host once every node is restored (drivers that start servers): start them. */
import { restoreNodeInputSchema } from '../../core/restore/restore-state';
import { hostStepHandler, nodeHost } from '../shared/host-step';
import { lambdaRuntime, type RuntimeProvider } from '../shared/lambda-runtime';

export const createHandler = (provider: RuntimeProvider) =>
  hostStepHandler('restore-start', provider, { hostOf: nodeHost, output: restoreNodeInputSchema });

export const handler = createHandler(lambdaRuntime);
