/**
 * The demo's tree: a thousand nodes (some binary), sequential children, a container, a TTL node, a
 * digest-protected node and an ephemeral one that must not come back.
 */
import { randomBytes } from 'node:crypto';
import { closeZooKeeper, openZooKeeper, zooKeeperConstants } from './client';

const NODES = 1000;

export async function seedDemoTree(connectString: string): Promise<{ description: string; close(): Promise<void> }> {
  const flags = zooKeeperConstants();
  const client = await openZooKeeper({ connectString });
  try {
    await client.create('/demo', 'the demo tree', flags.ZOO_PERSISTENT);
    for (let i = 0; i < NODES; i += 100) {
      await Promise.all(Array.from({ length: 100 }, (_, j) => {
        const n = i + j;
        return client.create(`/demo/node-${String(n).padStart(4, '0')}`, n % 10 === 0 ? randomBytes(32) : `value ${n}`, flags.ZOO_PERSISTENT);
      }));
    }
    await client.create('/demo/queue', '', flags.ZOO_PERSISTENT);
    for (let i = 0; i < 3; i += 1) await client.create('/demo/queue/job-', `job ${i}`, flags.ZOO_PERSISTENT_SEQUENTIAL);
    await client.create('/demo/locks', '', flags.ZOO_CONTAINER);
    await client.create('/demo/locks/lock-1', 'held', flags.ZOO_PERSISTENT);
    await client.create('/demo/expiring', 'kept for a day', flags.ZOO_PERSISTENT_WITH_TTL, 86_400_000);
    await client.create('/demo/session', 'gone with its session', flags.ZOO_EPHEMERAL);
  } catch (error) {
    closeZooKeeper(client);
    throw error;
  }
  return {
    description: `${NODES + 8} nodes (sequential, container, TTL; an ephemeral one left out)`,
    close: async () => closeZooKeeper(client),
  };
}
