/**
 * The Cassandra driver's kit for the driver contract suite (test/contract): a one-node Cassandra
 * 2.1 seeded with the harness's keyspace (clustering keys, collections, a counter table), scratch
 * targets of one node with the same token (restored in place, by `nodetool refresh`), and every row
 * read back through the driver — a reader independent of our digests. Its backups use no
 * credentials: the test nodes run Cassandra's default AllowAllAuthenticator.
 * Test code: loaded by the tests only.
 */
import type { DriverKit, KitSource, KitTarget } from '../../test/contract/driver-kit';
import { readKeyspace, seedKeyspace, startTestCassandra } from '../../test/harness/cassandra';
import { freePort } from '../../test/harness/ports';
import { clusterDescription, restoreTargetOf } from './local-cluster';

const KEYSPACE = 'kit';

async function startSource(): Promise<KitSource> {
  const cassandra = await startTestCassandra('kit-source');
  const client = await cassandra.connect();
  await seedKeyspace(client, { keyspace: KEYSPACE, replicationFactor: 1, rows: 200 });
  const config = { ...clusterDescription(cassandra), keyspaces: [KEYSPACE] };
  let changes = 0;
  return {
    config,
    env: {},
    change: async () => {
      changes += 1;
      await client.execute(`UPDATE ${KEYSPACE}.items SET name = ? WHERE id = ?`, [`changed ${changes}`, 1], { prepare: true });
    },
    read: () => readKeyspace(client, KEYSPACE),
    unreachable: async () => ({ ...config, nativePort: await freePort() }),
    invalid: () => ({ config: { ...config, nodes: [] }, field: 'nodes' }),
    stop: () => cassandra.stop(),
  };
}

async function scratchTarget(): Promise<KitTarget> {
  const cassandra = await startTestCassandra('kit-target');
  const target = restoreTargetOf(cassandra);
  return {
    target,
    forced: target,
    read: async () => readKeyspace(await cassandra.connect(), KEYSPACE),
    stop: () => cassandra.stop(),
  };
}

export const kits: readonly DriverKit[] = [
  { name: 'cassandra', engine: 'cassandra', credentials: false, startSource, scratchTarget },
];
