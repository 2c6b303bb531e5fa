/** The Schemaless configuration (drivers/schemaless/config.ts): a shard map that is whole, or a clear error naming what is wrong. */
import { schemalessConfigSchema, schemalessRestoreTargetSchema } from '../../../drivers/schemaless/config';

const servers = [{ name: 'sl-1', host: '10.0.0.1', user: 'backup' }, { name: 'sl-2', host: '10.0.0.2', user: 'backup' }];
const shards = [0, 1, 2, 3].map((shard) => ({ shard, server: shard < 2 ? 'sl-1' : 'sl-2', database: `sl_${shard}` }));

it('takes servers, a whole shard map and table names, with defaults', () => {
  const config = schemalessConfigSchema.parse({ servers, shards, indexes: [{ table: 'index_email', column: 'profile', field: '$.email' }] });
  expect(config).toMatchObject({ cellTable: 'cell', parallelism: 4, servers: [{ name: 'sl-1', port: 3306 }, { name: 'sl-2' }] });
  expect(schemalessRestoreTargetSchema.parse({ servers: servers.slice(0, 1), shards: shards.map((s) => ({ ...s, server: 'sl-1' })) }).rebuildIndexes).toBe(false);
});

it.each([
  ['a shard missing', { servers, shards: shards.slice(1) }, /numbered 0 to 2/],
  ['a shard twice', { servers, shards: [...shards, shards[0]] }, /numbered 0 to 4, each once/],
  ['an unknown server', { servers, shards: shards.map((s) => (s.shard === 3 ? { ...s, server: 'sl-9' } : s)) }, /shard 3 is on server 'sl-9', which is not listed/],
  ['two shards in one database', { servers, shards: shards.map((s) => (s.shard === 1 ? { ...s, database: 'sl_0' } : s)) }, /a database holds more than one shard: sl-1\/sl_0/],
  ['a server named twice', { servers: [...servers, servers[0]], shards }, /servers named more than once: sl-1/],
  ['an index field that is no JSON path', { servers, shards, indexes: [{ table: 't', column: 'c', field: 'email' }] }, /a JSON path/],
])('refuses %s', (_name, config, message) => {
  const parsed = schemalessConfigSchema.safeParse(config);
  expect(parsed.success).toBe(false);
  expect(parsed.error?.message).toMatch(message);
});

it('refuses two names for one server holding one database twice', () => {
  const result = schemalessConfigSchema.safeParse({
    servers: [{ name: 'a', host: '10.0.0.1', port: 3306, user: 'u' }, { name: 'b', host: '10.0.0.1', port: 3306, user: 'u' }],
    shards: [{ shard: 0, server: 'a', database: 'sl' }, { shard: 1, server: 'b', database: 'sl' }],
  });

  expect(result.success).toBe(false);
  expect(result.error?.message).toMatch(/a database holds more than one shard: b\/sl/);
});

it('takes localhost and 127.0.0.1 (any case, a trailing dot) for one server, so two shards do not share its database', () => {
  const place = (host: string) => schemalessConfigSchema.safeParse({
    servers: [{ name: 'a', host: 'localhost', port: 3306, user: 'u' }, { name: 'b', host, port: 3306, user: 'u' }],
    shards: [{ shard: 0, server: 'a', database: 'sl' }, { shard: 1, server: 'b', database: 'sl' }],
  });

  for (const host of ['127.0.0.1', 'LocalHost.', '::1']) expect(place(host).error?.message).toMatch(/a database holds more than one shard: b\/sl/);
  expect(place('10.0.0.1').success).toBe(true);
});
