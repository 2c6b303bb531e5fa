/** Backup step 4, per node, on the node's host: upload the spool (rate limited, resumable). */
import { nodeStateSchema } from '../../core/backup/backup-state';
import { hostStepHandler, nodeHost } from '../shared/host-step';
import { lambdaRuntime, type RuntimeProvider } from '../shared/lambda-runtime';

export const createHandler = (provider: RuntimeProvider) =>
  hostStepHandler('backup-upload', provider, { hostOf: nodeHost, output: nodeStateSchema });

export const handler = createHandler(lambdaRuntime);
