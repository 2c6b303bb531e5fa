/** Backup step 4, per node, on the node's host: upload the spool (rate limited, resumable). */
import { hostStepHandler, nodeHost } from '../shared/host-step';
import { lambdaRuntime, type RuntimeProvider } from '../shared/lambda-runtime';

export const createHandler = (provider: RuntimeProvider) =>
  hostStepHandler('backup-upload', provider, { hostOf: nodeHost });

export const handler = createHandler(lambdaRuntime);
