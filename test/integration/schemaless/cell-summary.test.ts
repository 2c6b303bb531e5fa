/**
 * A shard's cell summary on a real MariaDB (drivers/schemaless/cell-summary.ts): the same cells
 * give the same summary whatever order they were written in; one changed byte of one body, or a
 * cell missing, changes it; a point in time counts only the cells created by then. The dump's
 * encoder threads digest exactly the server's summary from the rows they write, and so does Node
 * from one read of the table (cell-table-read.ts), whose row digest is `digestTable`'s.
 */
import type { Connection } from 'mysql2/promise';
import { openDataConnection } from '../../../drivers/mysql/shared/connection';
import { EncodePool } from '../../../drivers/mysql/shared/encode-pool';
import { framePackets } from '../../harness/framed-packets';
import { eachRowPacket, type RowPacket } from '../../../drivers/mysql/shared/row-packet';
import { TableDigest } from '../../../drivers/mysql/shared/table-digest';
import { digestTable } from '../../../drivers/mysql/shared/table-reader';
import { countCells, summariseCells, SUMMARY_PROJECTION } from '../../../drivers/schemaless/cell-summary';
import { readCellTable } from '../../../drivers/schemaless/cell-table-read';
import { cellTableDdl, shardOf } from '../../../drivers/schemaless/layout';
import { startTestMariaDb, stopAllMariaDb, type TestMariaDb } from '../../harness/mariadb';

let server: TestMariaDb;
let connection: Connection;

const CELLS = Array.from({ length: 300 }, (_, i) => ({
  rowKey: `row-${i % 40}`, column: i % 3 === 0 ? 'profile' : 'événement🚀', ref: i, body: Buffer.from([i % 256, 0, 255, 10, 13, 92, ...Buffer.from(`body ${i}`)]),
  createdAt: `2026-11-${String(1 + (i % 28)).padStart(2, '0')} 10:00:00`,
}));

async function shardWith(database: string, cells: typeof CELLS): Promise<void> {
  await connection.query(`CREATE DATABASE ${database}`);
  await connection.query(`USE ${database}`);
  await connection.query(cellTableDdl('cell'));
  for (const c of cells) {
    await connection.query(`INSERT INTO ${database}.cell (row_key, column_name, ref_key, body, created_at) VALUES (UNHEX(MD5(?)), ?, ?, ?, ?)`, [c.rowKey, c.column, c.ref, c.body, c.createdAt]);
  }
}

beforeAll(async () => {
  server = await startTestMariaDb('schemaless-summary', 22);
  connection = await server.connect();
  await shardWith('in_order', CELLS);
  await shardWith('reversed', [...CELLS].reverse());
  const flipped = CELLS.map((c, i) => (i === 123 ? { ...c, body: Buffer.from(c.body.map((b, j) => (j === 3 ? b ^ 1 : b))) } : c));
  await shardWith('one_byte_flipped', flipped);
  await shardWith('one_missing', CELLS.filter((_, i) => i !== 200));
  await shardWith('wide', [...CELLS.slice(0, 50), { ...CELLS[50], body: Buffer.alloc(70_000, 0x5c) }, { ...CELLS[51], body: Buffer.alloc(0) }]); // a 3-byte length, an empty body
}, 120_000);

afterAll(async () => {
  await connection?.end();
  await stopAllMariaDb();
});

const cellTable = (database: string) => ({ database, table: 'cell' });

it('is the same for the same cells written in another order, and names the count and the highest added_id', async () => {
  const a = await summariseCells(connection, cellTable('in_order'));
  const b = await summariseCells(connection, cellTable('reversed'));
  expect(a).toEqual({ cells: 300, maxAddedId: '300', digest: expect.stringMatching(/^[0-9a-f]{32}$/) });
  expect(b.digest).toBe(a.digest);
});

it('changes with one flipped byte of one body, or one cell missing', async () => {
  const a = await summariseCells(connection, cellTable('in_order'));
  expect((await summariseCells(connection, cellTable('one_byte_flipped'))).digest).not.toBe(a.digest);
  const missing = await summariseCells(connection, cellTable('one_missing'));
  expect(missing.cells).toBe(299);
  expect(missing.digest).not.toBe(a.digest);
});

it('counts only the cells created at or before a point in time', async () => {
  const upTo = await summariseCells(connection, cellTable('in_order'), { createdAt: '2026-11-02 10:00:00' });
  const expected = CELLS.filter((c) => c.createdAt <= '2026-11-02 10:00:00');
  expect(upTo.cells).toBe(expected.length);
  await shardWith('only_early', expected);
  expect((await summariseCells(connection, cellTable('only_early'))).digest).toBe(upTo.digest);
});

it("places cells as the server's CRC32 does: shardOf agrees with CRC32(row_key) % N", async () => {
  const [rows] = await connection.query({ sql: 'SELECT row_key, CRC32(row_key) % 8 FROM in_order.cell', rowsAsArray: true });
  const placed = (rows as [Buffer, number | string][]).map(([key, shard]) => [shardOf(key, 8), Number(shard)]);
  expect(placed.length).toBe(300);
  for (const [ours, server] of placed) expect(ours).toBe(server);
  expect(new Set(placed.map(([ours]) => ours)).size).toBeGreaterThan(1);
});

it.each(['in_order', 'wide'])('is what the dump digests from the cells it writes (%s): no second read of the bodies', async (database) => {
  // Prepare: the cell table's rows as the dump reads them (every column, in table order)
  const [columns] = await connection.query({ sql: `SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = 'cell' ORDER BY ordinal_position`, values: [database], rowsAsArray: true }) as [string[][], unknown];
  const names = columns.map(([name]) => String(name));
  const packets: RowPacket[] = [];
  await eachRowPacket(connection, `SELECT * FROM ${database}.cell`, (packet) => packets.push(Buffer.from(packet)));
  const pool = new EncodePool(2);

  try {
    // Act: two batches, as the dump hands them to its threads
    const projection = { keep: SUMMARY_PROJECTION.keep.map((c) => names.indexOf(c)), hashed: names.indexOf(SUMMARY_PROJECTION.hashed) };
    const batches = await Promise.all([pool.encode(framePackets(packets.slice(0, 20)), projection), pool.encode(framePackets(packets.slice(20)), projection)]);
    const dumped = new TableDigest();
    for (const batch of batches) dumped.mergeSum(batch.projected!.sum, batch.projected!.rows);

    // Assess
    const server = await summariseCells(connection, cellTable(database));
    expect({ cells: dumped.rows, digest: dumped.hex() }).toEqual({ cells: server.cells, digest: server.digest });
    expect(await countCells(connection, cellTable(database))).toEqual({ cells: server.cells, maxAddedId: server.maxAddedId });
  } finally {
    await pool.close();
  }
});

it("computes in Node, from one read of the rows, the server's summary and the table's row digest: binary, unicode and large bodies", async () => {
  // Prepare: the cells above, and bodies of every length encoding (up to MEDIUMBLOB's largest: a row of two packets), an empty one, one of every byte
  const large = [0, 250, 251, 65_535, 65_536, 300_000, 16_777_215].map((length, i) => ({
    ...CELLS[i], rowKey: `large-${i}`, ref: 1_000 + i, column: `grand_${'é'.repeat(i)}_🚀`, body: Buffer.alloc(length, i * 37 + 1),
  }));
  large.push({ ...CELLS[0], rowKey: 'bytes', ref: 2_000, column: 'ключ 中文', body: Buffer.from(Array.from({ length: 256 }, (_, b) => b)) });
  await shardWith('mixed', [...CELLS, ...large]);
  const data = await openDataConnection({ ...server.config(), connectTimeoutMs: 10_000 });

  try {
    for (const database of ['in_order', 'mixed', 'one_missing']) {
      // Act
      const read = await readCellTable(data, cellTable(database));

      // Assess
      expect(read.summary).toEqual(await summariseCells(data, cellTable(database)));
      expect(read.rows).toEqual(await digestTable(data, cellTable(database)));
    }
    expect((await readCellTable(data, cellTable('mixed'))).summary.cells).toBe(CELLS.length + large.length);
  } finally {
    await data.end();
  }
}, 120_000);
