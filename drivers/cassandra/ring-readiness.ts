/**
 * Waiting until nodes see each other Up and Normal (`nodetool status` on each): a node may only
 * bootstrap once the node before it has joined, and a cluster is ready for QUORUM once every node
 * sees every other one up.
 */
import { TransientError } from '../../core/errors';
import { waitUntilReady } from '../../core/host/readiness';
import { nodeStatus, type NodetoolTarget } from './nodetool';
import type { StatusNode } from './nodetool-output';

function describe(nodes: readonly StatusNode[]): string {
  return nodes.map((n) => `${n.address} ${n.status}/${n.state}`).join(', ') || 'no nodes';
}

/** Resolves when `observer` sees every one of `addresses` Up and Normal; rejects saying what it sees. */
async function seesUpNormal(observer: NodetoolTarget, addresses: readonly string[]): Promise<StatusNode[]> {
  const nodes = await nodeStatus(observer);
  const missing = addresses.filter((address) => !nodes.some((n) => n.address === address && n.status === 'up' && n.state === 'normal'));
  if (missing.length > 0) throw new Error(`${observer.host} sees ${describe(nodes)}; not yet up and normal: ${missing.join(', ')}`);
  return nodes;
}

/**
 * Waits until each of `observers` sees every one of `addresses` Up and Normal.
 * @returns what the first observer saw last
 * @throws TransientError `CASSANDRA_RING_TIMEOUT` when they do not in `timeoutMs`, saying what they saw.
 */
export async function waitForUpNormal(observers: readonly NodetoolTarget[], addresses: readonly string[], timeoutMs: number): Promise<StatusNode[]> {
  const outcome = await waitUntilReady(async () => {
    const views = await Promise.all(observers.map((observer) => seesUpNormal(observer, addresses)));
    return views[0];
  }, { timeoutMs, pollMs: 500 });
  if (outcome.ready) return outcome.value;
  throw new TransientError(`Cassandra nodes ${addresses.join(', ')} are not all up and normal after ${timeoutMs} ms (last: ${outcome.last})`, {
    code: 'CASSANDRA_RING_TIMEOUT', engine: 'cassandra',
  });
}
