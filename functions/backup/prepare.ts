/** Backup step 1: check the request, assign the backup id, list the nodes. Runs in Lambda. */
import { prepareBackup } from '../../core/backup/backup-steps';
import { lambdaRuntime, type RuntimeProvider } from '../shared/lambda-runtime';
import { stepHandler } from '../shared/step-handler';

export const createHandler = (provider: RuntimeProvider) =>
  stepHandler('backup-prepare', provider, (event, { runtime }) => prepareBackup(event, runtime.deps));

export const handler = createHandler(lambdaRuntime);
