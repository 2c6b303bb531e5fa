/**
 * The Cassandra demo: a throwaway one-node Cassandra 2.1 with a keyspace of three tables (clustering
 * keys, collections, a counter table); its drill restores into a scratch one-node cluster with the
 * same token (scratch.ts: a restore needs the backup's topology).
 */
import path from 'node:path';
import { types } from 'cassandra-driver';
import { onFreePorts } from '../../core/host/ports';
import type { DemoScenario } from '../../core/demo/scenario';
import { cqlClient } from './cql-client';
import { ensureCassandraDistribution } from './distribution';
import { clusterDescription, clusterPortCount, startLocalCassandraCluster, type LocalCassandraCluster } from './local-cluster';

const ROWS = 500;

async function seed(cluster: LocalCassandraCluster): Promise<void> {
  const client = cqlClient({ contactPoints: cluster.contactPoints, port: cluster.nativePort });
  try {
    await client.execute("CREATE KEYSPACE demo WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
    await client.execute('CREATE TABLE demo.items (id int PRIMARY KEY, name text, tags set<text>)');
    await client.execute('CREATE TABLE demo.events (device text, at timestamp, value double, PRIMARY KEY (device, at)) WITH CLUSTERING ORDER BY (at DESC)');
    await client.execute('CREATE TABLE demo.views (page text PRIMARY KEY, n counter)');
    for (let i = 0; i < ROWS; i += 50) {
      await Promise.all(Array.from({ length: 50 }, async (_, j) => {
        const id = i + j;
        await client.execute('INSERT INTO demo.items (id, name, tags) VALUES (?, ?, ?)', [id, `item ${id}`, [`t${id % 3}`]], { prepare: true });
        await client.execute('INSERT INTO demo.events (device, at, value) VALUES (?, ?, ?)', [`d${id % 7}`, new Date(1_700_000_000_000 + id * 1000), id / 3], { prepare: true });
        await client.execute('UPDATE demo.views SET n = n + ? WHERE page = ?', [types.Long.fromNumber(id % 5 + 1), `/p/${id % 40}`], { prepare: true });
      }));
    }
  } finally {
    await client.shutdown().catch(() => undefined);
  }
}

function start(dir: string, home: string): Promise<LocalCassandraCluster> {
  return onFreePorts(clusterPortCount(1), (ports, attempt) => startLocalCassandraCluster({ dir: path.join(dir, `attempt-${attempt}`), home, ports, clusterName: `demo-${path.basename(dir)}` }));
}

export const cassandraDemo: DemoScenario = {
  engine: 'cassandra',
  async start(workDir, logger) {
    const home = ensureCassandraDistribution(undefined, (line) => logger.info(line));
    const source = await start(path.join(workDir, 'source'), home);
    try {
      await seed(source);
    } catch (error) {
      await source.stop();
      throw error;
    }
    return {
      instance: 'demo',
      config: { ...clusterDescription(source), keyspaces: ['demo'] },
      seeded: `${ROWS} rows in each of 3 tables`,
      stop: () => source.stop(),
    };
  },
};
