/** Restore step, on each node's host: apply the backup (downloaded, or staged) to its part of the target. */
import { restoreNodeInputSchema } from '../../core/restore/restore-state';
import { hostStepHandler, nodeHost } from '../shared/host-step';
import { lambdaRuntime, type RuntimeProvider } from '../shared/lambda-runtime';

export const createHandler = (provider: RuntimeProvider) =>
  hostStepHandler('restore-apply', provider, { hostOf: nodeHost, output: restoreNodeInputSchema });

export const handler = createHandler(lambdaRuntime);
