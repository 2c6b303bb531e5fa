/**
 * One read view for every shard of a server (drivers/schemaless/server-shards.ts), on a real
 * MariaDB with a writer running: transactions that write a cell to two shards at once are seen
 * whole or not at all in every backup, each shard's record follows the one before, and the point
 * (GTID, binlog position) is recorded.
 */
import type { Connection } from 'mysql2/promise';
import { silentLogger } from '../../../core/logger';
import { cellTableDdl } from '../../../drivers/schemaless/layout';
import { readServerShards, type ServerShard } from '../../../drivers/schemaless/server-shards';
import { startTestMariaDb, stopAllMariaDb, type TestMariaDb } from '../../harness/mariadb';

let server: TestMariaDb;
let admin: Connection;
const DATABASES = ['sl_0', 'sl_1', 'sl_2'];

beforeAll(async () => {
  server = await startTestMariaDb('schemaless-server', 25);
  admin = await server.connect();
  for (const database of DATABASES) {
    await admin.query(`CREATE DATABASE ${database}`);
    await admin.query(`USE ${database}`);
    await admin.query(cellTableDdl('cell'));
  }
}, 120_000);

afterAll(async () => {
  await admin?.end();
  await stopAllMariaDb();
});

/** Writes pairs (one cell in sl_0, one in sl_1, one transaction) and singles in sl_2 until stopped. */
function startWriter(): { stop(): Promise<number> } {
  let running = true;
  let pairs = 0;
  const done = (async () => {
    const connection = await server.connect();
    try {
      while (running) {
        pairs += 1;
        const key = `pair-${pairs}`;
        await connection.query('BEGIN');
        for (const db of ['sl_0', 'sl_1']) await connection.query(`INSERT INTO ${db}.cell (row_key, column_name, ref_key, body, created_at) VALUES (UNHEX(MD5(?)), 'c', 1, ?, NOW())`, [key, Buffer.from(key)]);
        await connection.query('COMMIT');
        await connection.query(`INSERT INTO sl_2.cell (row_key, column_name, ref_key, body, created_at) VALUES (UNHEX(MD5(?)), 'c', 1, 'x', NOW())`, [key]);
      }
    } finally {
      await connection.end();
    }
  })();
  return { stop: async () => { running = false; await done; return pairs; } };
}

it('reads every shard of the server at one point while a writer runs, and records it', async () => {
  // Prepare
  const writer = startWriter();
  const settings = { ...server.config(), connectTimeoutMs: 10_000 };
  const shards: ServerShard[] = DATABASES.map((database, shard) => ({ shard, database }));

  // Act: a full backup's reading, then two incremental ones, the writer running throughout
  const readings = [];
  let previous = new Map<number, ServerShard['previous']>();
  for (let i = 0; i < 3; i += 1) {
    const view = await readServerShards(settings, shards.map((s) => ({ ...s, previous: previous.get(s.shard) })), 'cell', silentLogger);
    const wholeTables = await view.wholeTables();
    await view.end();
    readings.push({ ...view, shards: view.shards.map((s) => ({ ...s, whole: wholeTables.get(s.shard)! })) });
    previous = new Map(view.shards.map((s) => [s.shard, s.watermark]));
  }
  const pairs = await writer.stop();

  // Assess
  expect(pairs).toBeGreaterThan(0);
  for (const view of readings) {
    const [a, b] = view.shards;
    expect(a.whole.cells).toBe(b.whole.cells); // both cells of a transaction, or neither
    expect(view.consistency).toMatchObject({ binlogEnabled: true, gtid: expect.stringMatching(/^\d+-\d+-\d+/) });
  }
  // Each record follows the one before: no id taken twice, the maxima never go back.
  for (let i = 1; i < readings.length; i += 1) {
    for (const shard of readings[i].shards) {
      const before = readings[i - 1].shards[shard.shard];
      expect(BigInt(shard.watermark.maxAddedId)).toBeGreaterThanOrEqual(BigInt(before.watermark.maxAddedId));
      expect(shard.whole.cells).toBeGreaterThanOrEqual(before.whole.cells);
    }
  }
});
