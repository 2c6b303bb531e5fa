/** Backup step 2, per node, on the node's host: take the consistent snapshot into the spool. */
import { nodeStateSchema } from '../../core/backup/backup-state';
import { hostStepHandler, nodeHost } from '../shared/host-step';
import { lambdaRuntime, type RuntimeProvider } from '../shared/lambda-runtime';

/** The Map hands each iteration `{ backup, node }`; the node steps take the flat node state. */
function fromMapItem(event: Record<string, unknown>): unknown {
  return 'backup' in event ? { ...(event.backup as object), node: event.node } : event;
}

export const createHandler = (provider: RuntimeProvider) =>
  hostStepHandler('backup-snapshot', provider, { toInput: fromMapItem, hostOf: nodeHost, output: nodeStateSchema });

export const handler = createHandler(lambdaRuntime);
