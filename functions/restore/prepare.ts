/** Restore step, on the target host: check the target is empty (or --force) and ready. */
import { restoreStateSchema } from '../../core/restore/restore-state';
import { hostStepHandler, restoreHost } from '../shared/host-step';
import { lambdaRuntime, type RuntimeProvider } from '../shared/lambda-runtime';

export const createHandler = (provider: RuntimeProvider) =>
  hostStepHandler('restore-prepare', provider, { hostOf: restoreHost, output: restoreStateSchema });

export const handler = createHandler(lambdaRuntime);
