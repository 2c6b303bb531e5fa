/** Backup step 2, per node, on the node's host: take the consistent snapshot into the spool. */
import { nodeStateSchema } from '../../core/backup/backup-state';
import { hostStepHandler, nodeHost } from '../shared/host-step';
import { lambdaRuntime, type RuntimeProvider } from '../shared/lambda-runtime';

/** The Map hands each iteration `{ backup, node }`; the node steps take the flat node state, without the node list. */
function fromMapItem(event: Record<string, unknown>): unknown {
  if (!('backup' in event)) return event;
  const { nodes: _nodes, ...backup } = event.backup as Record<string, unknown>;
  return { ...backup, node: event.node };
}

export const createHandler = (provider: RuntimeProvider) =>
  hostStepHandler('backup-snapshot', provider, { toInput: fromMapItem, hostOf: nodeHost, output: nodeStateSchema });

export const handler = createHandler(lambdaRuntime);
