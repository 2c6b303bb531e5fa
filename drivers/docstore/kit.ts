/**
 * The Docstore driver's kit for the driver contract suite (test/contract): a sample instance
 * (sample-store.ts) of three partitions over two MariaDB servers, restored onto one fresh server
 * (another number of servers, by the target's partition map), and read back with plain SQL,
 * partition by partition: the schema table, every document and every index entry. Test code:
 * loaded by the tests only.
 */
import type { DriverKit, KitJson, KitSource, KitTarget } from '../../test/contract/driver-kit';
import { startTestMariaDb, type TestMariaDb } from '../../test/harness/mariadb';
import { freePort } from '../../test/harness/ports';
import { quoteId } from '../mysql/shared/connection';
import { withServer } from '../mysql/sharded/sample-server';
import type { DocstoreConfig } from './config';
import { SAMPLE_SCHEMA, createSamplePartitions, sampleConfig, writeSampleDocuments } from './sample-store';

const PARTITIONS = 3;
const TRIPS = 900;
const WRONG_PASSWORD_ENV = 'KIT_DOCSTORE_WRONG_PASSWORD';
let started = 0;

const serversOf = (servers: TestMariaDb[], prefix: string) => servers.map((s, i) => ({ name: `${prefix}-${i + 1}`, host: s.host, port: s.port }));

/** Every partition's tables as plain SQL reads them: partition → table → rows in key order. */
export async function readInstance(place: Pick<DocstoreConfig, 'servers' | 'partitions'>): Promise<unknown> {
  const tables = ['docstore_schema', ...Object.entries(SAMPLE_SCHEMA).flatMap(([table, d]) => [table, ...d.indexes.map((i) => i.table)])];
  const instance: Record<number, Record<string, unknown[]>> = {};
  for (const partition of [...place.partitions].sort((a, b) => a.partition - b.partition)) {
    const server = place.servers.find((s) => s.name === partition.server)!;
    instance[partition.partition] = await withServer(server, async (c) => {
      const read: Record<string, unknown[]> = {};
      for (const table of tables) {
        const [rows] = await c.query({ sql: `SELECT * FROM ${quoteId(partition.database)}.${quoteId(table)} ORDER BY 1, 2${table === 'docstore_schema' ? '' : ', 3'}`, rowsAsArray: true });
        read[table] = rows as unknown[];
      }
      return read;
    });
  }
  return instance;
}

async function startSource(): Promise<KitSource> {
  const servers = [await startTestMariaDb('kit-ds-a', 70 + (started += 1)), await startTestMariaDb('kit-ds-b', 70 + (started += 1))];
  const config = sampleConfig(serversOf(servers, 'ds'), PARTITIONS);
  await createSamplePartitions(config);
  await writeSampleDocuments(config, 1, TRIPS);
  let written = TRIPS;
  const json = config as unknown as KitJson;
  return {
    config: json,
    env: { [WRONG_PASSWORD_ENV]: 'wrong' },
    async change() {
      await writeSampleDocuments(config, written + 1, written + 90);
      written += 90;
    },
    read: () => readInstance(config),
    unreachable: async () => ({ ...json, servers: [{ ...config.servers[0], port: await freePort(), connectTimeoutMs: 1000 }, config.servers[1]] }),
    wrongCredentials: async () => ({ ...json, servers: config.servers.map((s) => ({ ...s, password: { $secret: `env:${WRONG_PASSWORD_ENV}` } })) }),
    invalid: () => ({ config: { ...json, chunkRows: 0 }, field: 'chunkRows' }),
    async stop() {
      for (const server of servers) await server.stop();
    },
  };
}

async function scratchTarget(): Promise<KitTarget> {
  const server = await startTestMariaDb('kit-ds-target', 70 + (started += 1));
  const onTarget = sampleConfig(serversOf([server], 'target'), PARTITIONS, 'restored');
  const target: KitJson = { servers: onTarget.servers, partitions: onTarget.partitions };
  return { target, forced: target, read: () => readInstance(onTarget), stop: () => server.stop() };
}

export const kits: readonly DriverKit[] = [{ name: 'docstore', engine: 'docstore', startSource, scratchTarget }];
