/**
 * Index integrity across shards and servers on real MariaDBs (drivers/schemaless/index-check.ts,
 * drivers/mysql/sharded/derived-index.ts, derived-index-repair.ts, restored-indexes.ts): four
 * shards on two servers, entries on the shard of their index key, cells on the shard of their row
 * key; a whole index passes and a restore leaves it alone; a missing entry and a dangling one fail
 * on the shard that holds (or should hold) them, and a restore repairs those shards only; an
 * empty index is built from the cells (a key longer than the index holds has no entry, as the
 * source's strict server refused it); a restore's validation reads again only the indexes the
 * restore changed. The index key read once per cell is the one the three-call
 * form gives, on bodies of every kind.
 */
import type { Connection } from 'mysql2/promise';
import { repairDerivedIndex } from '../../../drivers/mysql/sharded/derived-index-repair';
import { indexIntegrity } from '../../../drivers/mysql/sharded/index-validation';
import { indexRecords, makeIndexesWhole } from '../../../drivers/mysql/sharded/restored-indexes';
import type { ShardMap } from '../../../drivers/mysql/sharded/target-shards';
import { checkIndexes, cellIndex, indexKeyExpression } from '../../../drivers/schemaless/index-check';
import { cellTableDdl, indexTableDdl, shardOf } from '../../../drivers/schemaless/layout';
import { startTestMariaDb, stopAllMariaDb } from '../../harness/mariadb';

const SHARDS = 4;
const WORDS = { shard: 'shard', row: 'cell' };
const INDEX = { table: 'index_email', column: 'profile', field: '$.email' };
let connections: Connection[] = [];
let writers: Connection[] = [];
let target: ShardMap;

const rowKey = (i: number) => Buffer.from(`row-key-${String(i).padStart(8, '0')}`);
const email = (i: number) => `user${i}@exämple.com`;
/** An email longer than an index key holds (290 bytes): the source's strict server refuses its entry. */
const LONG_EMAIL = `${'ä'.repeat(140)}@example.com`.slice(0, 150);
/** Cells with an indexed email (every profile but every 7th), as the fixture writes them. */
const INDEXED = Array.from({ length: 200 }, (_, i) => i).filter((i) => i % 10 !== 0 && i % 7 !== 0).length;

const shardConnection = (shard: number) => ({ shard, database: `sl_${shard}`, connection: connections[shard % 2] });
const total = (check: { shards: Array<{ entries: number }> }) => check.shards.reduce((sum, s) => sum + s.entries, 0);

beforeAll(async () => {
  const servers = [await startTestMariaDb('schemaless-index-a', 23), await startTestMariaDb('schemaless-index-b', 24)];
  connections = await Promise.all(servers.map((s) => s.connect()));
  writers = await Promise.all(servers.map((s) => s.connect()));
  target = {
    servers: servers.map((s, i) => ({ name: `server-${i}`, ...s.config(), connectTimeoutMs: 10_000 })),
    shards: Array.from({ length: SHARDS }, (_, shard) => ({ shard, server: `server-${shard % 2}`, database: `sl_${shard}` })),
  };
  for (let shard = 0; shard < SHARDS; shard += 1) {
    const s = shardConnection(shard);
    await s.connection.query(`CREATE DATABASE ${s.database}`);
    await s.connection.query(`USE ${s.database}`);
    await s.connection.query(cellTableDdl('cell'));
    await s.connection.query(indexTableDdl(INDEX.table));
  }
  for (let i = 0; i < 200; i += 1) {
    const cellShard = shardConnection(shardOf(rowKey(i), SHARDS));
    const column = i % 10 === 0 ? 'other' : 'profile'; // not indexed
    const body = i % 7 === 0 ? JSON.stringify(i % 2 ? { name: `no email ${i}` } : { email: null }) : JSON.stringify({ email: email(i), n: i }); // absent or null: not indexed
    await cellShard.connection.query(`INSERT INTO ${cellShard.database}.cell (row_key, column_name, ref_key, body, created_at) VALUES (?, ?, 1, ?, NOW())`, [rowKey(i), column, body]);
    if (column === 'profile' && i % 7 !== 0) {
      const entryShard = shardConnection(shardOf(Buffer.from(email(i)), SHARDS));
      await entryShard.connection.query(`INSERT INTO ${entryShard.database}.${INDEX.table} VALUES (?, ?, 'profile', 1)`, [Buffer.from(email(i)), rowKey(i)]);
    }
  }
  const longCell = shardConnection(shardOf(rowKey(200), SHARDS));
  await longCell.connection.query(`INSERT INTO ${longCell.database}.cell (row_key, column_name, ref_key, body, created_at) VALUES (?, 'profile', 1, ?, NOW())`, [rowKey(200), JSON.stringify({ email: LONG_EMAIL })]);
  const longEntry = shardConnection(shardOf(Buffer.from(LONG_EMAIL), SHARDS));
  await expect(longEntry.connection.query(`INSERT INTO ${longEntry.database}.${INDEX.table} VALUES (?, ?, 'profile', 1)`, [Buffer.from(LONG_EMAIL), rowKey(200)]))
    .rejects.toMatchObject({ code: 'ER_DATA_TOO_LONG' });
}, 180_000);

afterAll(async () => {
  await Promise.all([...connections, ...writers].map((c) => c.end()));
  await stopAllMariaDb();
});

it('passes a whole index whose entries sit on other shards and servers than their cells, and a restore leaves it alone', async () => {
  // Act
  const [check] = await checkIndexes(target, 'cell', [INDEX], { perServer: 3 });
  const [made] = await makeIndexesWhole(target, [cellIndex(INDEX, 'cell')], { loaded: true });

  // Assess
  expect(check.ok).toBe(true);
  expect(total(check)).toBe(INDEXED);
  expect(new Set(check.shards.filter((s) => s.entries > 0).map((s) => s.shard)).size).toBeGreaterThan(1);
  expect(made).toEqual({ index: INDEX.table, entries: INDEXED, dangling: 0, missing: 0, repairedShards: [], checkedWhole: true });
  const validated = await indexIntegrity(target, [cellIndex(INDEX, 'cell')], indexRecords([made]), {}, WORDS);
  expect(validated).toMatchObject({ ok: true, detail: expect.stringContaining(`${INDEXED} entries`) });
  expect(validated.detail).toContain(`${INDEX.table} checked whole by the restore as loaded`);
});

it('fails the shard that lacks an entry, and the shard that holds one pointing to no cell', async () => {
  // Prepare: cell 1's entry deleted; an entry for a cell that does not exist
  const lacking = shardConnection(shardOf(Buffer.from(email(1)), SHARDS));
  await lacking.connection.query(`DELETE FROM ${lacking.database}.${INDEX.table} WHERE index_key = ?`, [Buffer.from(email(1))]);
  const dangling = shardConnection(shardOf(Buffer.from('ghost@example.com'), SHARDS));
  await dangling.connection.query(`INSERT INTO ${dangling.database}.${INDEX.table} VALUES (?, ?, 'profile', 1)`, [Buffer.from('ghost@example.com'), rowKey(9999)]);

  // Act
  const [check] = await checkIndexes(target, 'cell', [INDEX]);
  const validated = await indexIntegrity(target, [cellIndex(INDEX, 'cell')], { [INDEX.table]: { entries: INDEXED, dangling: 0, missing: 0, checkedWhole: false } }, {}, WORDS);

  // Assess
  expect(check.ok).toBe(false);
  expect(validated.ok).toBe(false); // an index the restore changed is read again by the validation
  const failed = check.shards.filter((s) => !s.ok).map((s) => s.shard).sort();
  expect(failed).toEqual([...new Set([lacking.shard, dangling.shard])].sort());
  const lackingResult = check.shards.find((s) => s.shard === lacking.shard)!;
  expect(validated.detail).toContain(`${INDEX.table} on shard ${lacking.shard}: ${lackingResult.entries} entries, the cells call for ${lackingResult.expected}`);
  if (lacking.shard !== dangling.shard) expect(lackingResult.entries).toBe(lackingResult.expected - 1);
});

it('repairs only the shards whose check failed: the index whole again, the dangling entry gone, each repair counted', async () => {
  // Prepare: the index damaged by the test before (a missing entry, a dangling one)
  const [damaged] = await checkIndexes(target, 'cell', [INDEX]);
  const failed = damaged.shards.filter((s) => !s.ok).map((s) => s.shard);
  expect(failed.length).toBeGreaterThan(0);

  // Act
  const [made] = await makeIndexesWhole(target, [cellIndex(INDEX, 'cell')], { loaded: true });

  // Assess
  const [check] = await checkIndexes(target, 'cell', [INDEX]);
  expect(check.ok).toBe(true);
  expect(made).toEqual({ index: INDEX.table, entries: INDEXED, dangling: 1, missing: 1, repairedShards: failed, checkedWhole: false });
  const ghost = shardConnection(shardOf(Buffer.from('ghost@example.com'), SHARDS));
  const [rows] = await ghost.connection.query(`SELECT COUNT(*) AS n FROM ${ghost.database}.${INDEX.table} WHERE index_key = ?`, [Buffer.from('ghost@example.com')]);
  expect(Number((rows as Array<{ n: number }>)[0].n)).toBe(0);
});

it('builds an empty index from the cells, in batches, and a restore that did not load it builds it on every shard', async () => {
  // Prepare
  const emptyIndex = async () => {
    for (let shard = 0; shard < SHARDS; shard += 1) await shardConnection(shard).connection.query(`DELETE FROM sl_${shard}.${INDEX.table}`);
  };
  await emptyIndex();
  const shards = Array.from({ length: SHARDS }, (_, shard) => shardConnection(shard));

  // Act
  const built = await repairDerivedIndex(shards, new Map(shards.map((s) => [s.shard, writers[s.shard % 2]])), cellIndex(INDEX, 'cell'), { batch: 7 });
  const [afterBuild] = await checkIndexes(target, 'cell', [INDEX]);
  await emptyIndex();
  const [made] = await makeIndexesWhole(target, [cellIndex(INDEX, 'cell')], { loaded: false });

  // Assess
  expect(built).toEqual({ index: INDEX.table, entries: INDEXED, dangling: 0, missing: INDEXED });
  expect(afterBuild.ok).toBe(true);
  expect(made).toEqual({ index: INDEX.table, entries: INDEXED, dangling: 0, missing: INDEXED, repairedShards: [0, 1, 2, 3], checkedWhole: false });
  expect((await checkIndexes(target, 'cell', [INDEX]))[0].ok).toBe(true);
});

it('keeps a key as long as the store\'s own index column holds: an index of VARBINARY(512) (or VARCHAR(300)) keeps the 290-byte entry, a VARCHAR(100) calls for none', async () => {
  // Prepare: the same index in tables of other widths, each with the entries its width takes
  const tables = { index_wide: 'VARBINARY(512)', index_chars: 'VARCHAR(300) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin', index_narrow: 'VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin' };
  const widths = Object.entries(tables).map(([table, type]) => ({ ...INDEX, table, type }));
  for (let shard = 0; shard < SHARDS; shard += 1) {
    const s = shardConnection(shard);
    for (const { table, type } of widths) {
      await s.connection.query(`CREATE TABLE ${s.database}.${table} (index_key ${type} NOT NULL, row_key BINARY(16) NOT NULL, column_name VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL, ref_key BIGINT NOT NULL, PRIMARY KEY (index_key, row_key, column_name, ref_key))`);
    }
  }
  const shards = Array.from({ length: SHARDS }, (_, shard) => shardConnection(shard));
  const writerOf = new Map(shards.map((s) => [s.shard, writers[s.shard % 2]]));
  for (const index of widths) await repairDerivedIndex(shards, writerOf, cellIndex(index, 'cell'));

  // Act
  const checks = await checkIndexes(target, 'cell', widths);
  const longHeld = await Promise.all(widths.map(async ({ table }) => {
    const holder = shardConnection(shardOf(Buffer.from(LONG_EMAIL), SHARDS));
    const [rows] = await holder.connection.query(`SELECT COUNT(*) AS n FROM ${holder.database}.${table} WHERE index_key = ?`, [Buffer.from(LONG_EMAIL)]);
    return Number((rows as Array<{ n: number }>)[0].n);
  }));

  // Assess
  expect(checks.map((c) => c.ok)).toEqual([true, true, true]);
  expect(checks.map(total)).toEqual([INDEXED + 1, INDEXED + 1, INDEXED]);
  expect(longHeld).toEqual([1, 1, 0]);
});

it('reads the index key once per cell as the three-call form gives it, on bodies of every kind', async () => {
  // Prepare: fields that are strings (unicode, escapes, "null"), JSON null, absent, numbers, booleans, objects, arrays, duplicate keys, invalid bodies
  const bodies = [
    '{"email":"a@b.com"}', '{"email":"usér@exämple.com"}', '{"email":"us\\u00e9r@x.com"}', '{"email":"a\\"b\\\\c\\/d\\n\\t"}',
    '{"email":"\\ud83d\\ude80"}', '{"email":"🚀x"}', '{"email":"\\u0000x"}', '{"email":""}', '{"email":"null"}', '{"email":"bad \\q"}',
    '{"email":null}', '{"name":"x"}', '[1]', '"email"', '{"email":123}', '{"email":1.50}', '{"email":-1.5E-3}', '{"email":0}', '{"email":1}',
    '{"email":true}', '{"email":false}', '{"email":{"a": 1}}', '{"email":[1,2]}', '{"email":  "spaced"  }',
    '{"email":"a","email":"b"}', '{"email":null,"email":"x"}', '{"email":"x","email":null}', '{"email":{"a":1},"email":"x"}', '{"a":{"email":"no"},"email":"yes"}',
    '{"email":"x",', '{"email":"x"} trailing', '{"email":"x"}{"email":"y"}', '{"email":"\\ud83d"}', '{"email":NULL}', 'not json', '',
  ].map((b) => Buffer.from(b));
  bodies.push(Buffer.concat([Buffer.from('{"email":"x'), Buffer.from([0xff, 0xc3]), Buffer.from('"}')]));
  const c = connections[0];
  await c.query('CREATE TABLE sl_0.bodies (id INT PRIMARY KEY, body MEDIUMBLOB NOT NULL)');
  await c.query('INSERT INTO sl_0.bodies VALUES ?', [bodies.map((b, i) => [i, b])]);
  const field = 'JSON_EXTRACT(CONVERT(body USING utf8mb4), \'$.email\')';

  // Act
  const [rows] = await c.query({ sql: `SELECT HEX(${indexKeyExpression('$.email')}), HEX(IF(JSON_TYPE(${field}) <> 'NULL', JSON_UNQUOTE(${field}), NULL)) FROM sl_0.bodies ORDER BY id`, rowsAsArray: true });

  // Assess
  const keys = rows as Array<[string | null, string | null]>;
  expect(keys.map(([once]) => once)).toEqual(keys.map(([, threeCalls]) => threeCalls));
  expect(keys.filter(([, threeCalls]) => threeCalls !== null).length).toBeGreaterThan(15);
  expect(keys.filter(([, threeCalls]) => threeCalls === null).length).toBeGreaterThan(10);
});
