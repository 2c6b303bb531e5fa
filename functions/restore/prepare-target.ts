/** Restore step, on the target host: check the target is empty (or --force) and ready. */
import { hostStepHandler, restoreHost } from '../shared/host-step';
import { lambdaRuntime, type RuntimeProvider } from '../shared/lambda-runtime';

export const createHandler = (provider: RuntimeProvider) =>
  hostStepHandler('restore-prepare', provider, { hostOf: restoreHost });

export const handler = createHandler(lambdaRuntime);
