/** Restore step, on each node's host (drivers that stage): download and prove the backup, touching nothing of the target. */
import { restoreNodeInputSchema } from '../../core/restore/restore-state';
import { hostStepHandler, nodeHost } from '../shared/host-step';
import { lambdaRuntime, type RuntimeProvider } from '../shared/lambda-runtime';

export const createHandler = (provider: RuntimeProvider) =>
  hostStepHandler('restore-stage', provider, { hostOf: nodeHost, output: restoreNodeInputSchema });

export const handler = createHandler(lambdaRuntime);
