/** Restore step 1: resolve the backup (`latest` = newest verified), check the manifest and artifacts. */
import { fetchRestoreManifest } from '../../core/restore/restore-steps';
import { lambdaRuntime, type RuntimeProvider } from '../shared/lambda-runtime';
import { stepHandler } from '../shared/step-handler';

export const createHandler = (provider: RuntimeProvider) =>
  stepHandler('restore-fetch-manifest', provider, (event, { runtime }) => fetchRestoreManifest(event, runtime.deps));

export const handler = createHandler(lambdaRuntime);
