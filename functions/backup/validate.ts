/** Backup step 3, per node, on the node's host: validate the spooled snapshot. */
import { nodeStateSchema } from '../../core/backup/backup-state';
import { hostStepHandler, nodeHost } from '../shared/host-step';
import { lambdaRuntime, type RuntimeProvider } from '../shared/lambda-runtime';

export const createHandler = (provider: RuntimeProvider) =>
  hostStepHandler('backup-validate', provider, { hostOf: nodeHost, output: nodeStateSchema });

export const handler = createHandler(lambdaRuntime);
