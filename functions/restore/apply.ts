/** Restore step, on the target host: download (sha256 re-checked) and apply the backup. */
import { restoreStateSchema } from '../../core/restore/restore-state';
import { hostStepHandler, restoreHost } from '../shared/host-step';
import { lambdaRuntime, type RuntimeProvider } from '../shared/lambda-runtime';

export const createHandler = (provider: RuntimeProvider) =>
  hostStepHandler('restore-apply', provider, { hostOf: restoreHost, output: restoreStateSchema });

export const handler = createHandler(lambdaRuntime);
