/** Restore step, on the first node's host: prove the restore against the manifest's facts. */
import { restoreStateSchema } from '../../core/restore/restore-state';
import { hostStepHandler, restoreHost } from '../shared/host-step';
import { lambdaRuntime, type RuntimeProvider } from '../shared/lambda-runtime';

export const createHandler = (provider: RuntimeProvider) =>
  hostStepHandler('restore-validate', provider, { hostOf: restoreHost, output: restoreStateSchema });

export const handler = createHandler(lambdaRuntime);
