/**
 * The Schemaless driver's kit for the driver contract suite (test/contract): a sample store
 * (sample-store.ts) of four shards over two MariaDB servers, restored onto one fresh server (another
 * number of servers, by the target's shard map), and read back with plain SQL, shard by shard:
 * every cell, index entry and buffered write. Test code: loaded by the tests only.
 */
import type { DriverKit, KitJson, KitSource, KitTarget } from '../../test/contract/driver-kit';
import { startTestMariaDb, type TestMariaDb } from '../../test/harness/mariadb';
import { freePort } from '../../test/harness/ports';
import { quoteId } from '../mysql/shared/connection';
import type { SchemalessConfig } from './config';
import { SAMPLE_INDEX, createSampleShards, sampleConfig, withServer, writeSampleCells } from './sample-store';

const SHARDS = 4;
const CELLS = 1_200;
const WRONG_PASSWORD_ENV = 'KIT_SCHEMALESS_WRONG_PASSWORD';
let started = 0;

const serversOf = (servers: TestMariaDb[], prefix: string) => servers.map((s, i) => ({ name: `${prefix}-${i + 1}`, host: s.host, port: s.port }));

/** Every shard's tables as plain SQL reads them: shard → table → sorted rows (bodies by sha256). */
async function readStore(place: Pick<SchemalessConfig, 'servers' | 'shards'>): Promise<unknown> {
  const queries: Record<string, string> = {
    cell: 'SELECT added_id, HEX(row_key), column_name, ref_key, SHA2(body, 256), created_at FROM {db}.cell ORDER BY added_id',
    index: `SELECT HEX(index_key), HEX(row_key), column_name, ref_key FROM {db}.${quoteId(SAMPLE_INDEX.table)} ORDER BY 1, 2, 3, 4`,
    buffered: 'SELECT buffered_id, shard, HEX(row_key), column_name, ref_key, SHA2(body, 256), created_at FROM {db}.buffered_writes ORDER BY buffered_id',
  };
  const store: Record<number, Record<string, unknown[]>> = {};
  for (const shard of [...place.shards].sort((a, b) => a.shard - b.shard)) {
    const server = place.servers.find((s) => s.name === shard.server)!;
    store[shard.shard] = await withServer(server, async (c) => {
      const tables: Record<string, unknown[]> = {};
      for (const [name, sql] of Object.entries(queries)) {
        const [rows] = await c.query({ sql: sql.replaceAll('{db}', quoteId(shard.database)), rowsAsArray: true });
        tables[name] = rows as unknown[];
      }
      return tables;
    });
  }
  return store;
}

async function startSource(): Promise<KitSource> {
  const servers = [await startTestMariaDb('kit-sl-a', 60 + (started += 1)), await startTestMariaDb('kit-sl-b', 60 + (started += 1))];
  const config = sampleConfig(serversOf(servers, 'sl'), SHARDS);
  await createSampleShards(config);
  await writeSampleCells(config, 1, CELLS);
  let written = CELLS;
  const json = config as unknown as KitJson;
  return {
    config: json,
    env: { [WRONG_PASSWORD_ENV]: 'wrong' },
    async change() {
      await writeSampleCells(config, written + 1, written + 100);
      written += 100;
    },
    read: () => readStore(config),
    unreachable: async () => ({ ...json, servers: [{ ...config.servers[0], port: await freePort(), connectTimeoutMs: 1000 }, config.servers[1]] }),
    wrongCredentials: async () => ({ ...json, servers: config.servers.map((s) => ({ ...s, password: { $secret: `env:${WRONG_PASSWORD_ENV}` } })) }),
    invalid: () => ({ config: { ...json, parallelism: 0 }, field: 'parallelism' }),
    async stop() {
      for (const server of servers) await server.stop();
    },
  };
}

async function scratchTarget(): Promise<KitTarget> {
  const server = await startTestMariaDb('kit-sl-target', 60 + (started += 1));
  const onTarget = sampleConfig(serversOf([server], 'target'), SHARDS, 'restored');
  const target: KitJson = { servers: onTarget.servers, shards: onTarget.shards };
  return { target, forced: target, read: () => readStore(onTarget), stop: () => server.stop() };
}

export const kits: readonly DriverKit[] = [{ name: 'schemaless', engine: 'schemaless', startSource, scratchTarget }];
