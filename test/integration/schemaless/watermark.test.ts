/**
 * The Schemaless incremental watermark on a real MariaDB (drivers/schemaless/watermark.ts,
 * cell-delta.ts): a transaction that took a lower `added_id` and commits after a backup's read
 * view is taken by the next incremental, not lost; one still running then is carried forward
 * until it commits; a rolled-back id stops being carried once nothing can fill it.
 */
import type { Connection } from 'mysql2/promise';
import { floorFor, probeFloor, readShardDelta, runningTransactions, type CellTable, type DeltaStart } from '../../../drivers/schemaless/cell-delta';
import { cellTableDdl } from '../../../drivers/schemaless/layout';
import { allEnded, type ShardWatermark } from '../../../drivers/schemaless/watermark';
import { startTestMariaDb, stopAllMariaDb, type TestMariaDb } from '../../harness/mariadb';

const TABLE: CellTable = { database: 'shard_0', table: 'cell' };

let server: TestMariaDb;
let writer: Connection;

beforeAll(async () => {
  server = await startTestMariaDb('schemaless-watermark', 21);
  writer = await server.connect();
  await writer.query(`CREATE DATABASE shard_0`);
  await writer.query('USE shard_0');
  await writer.query(cellTableDdl('cell'));
}, 120_000);

afterAll(async () => {
  await writer?.end();
  await stopAllMariaDb();
});

let cells = 0;
/** Inserts one cell on `connection` (in its transaction, if one is open); resolves to its added_id. */
async function insertCell(connection: Connection): Promise<bigint> {
  cells += 1;
  const [result] = await connection.query('INSERT INTO shard_0.cell (row_key, column_name, ref_key, body, created_at) VALUES (UNHEX(MD5(?)), ?, 1, ?, NOW())', [`row-${cells}`, 'base', Buffer.from(`body ${cells}`)]);
  return BigInt((result as { insertId: number }).insertId);
}

/**
 * One backup of the shard as the driver takes it: the floor probed (full) or the previous record's
 * transactions asked after (incremental) before the read view opens; then, in the view, what it
 * takes and its record. Resolves to the ids it took.
 */
async function backup(previous?: ShardWatermark): Promise<{ taken: bigint[]; watermark: ShardWatermark }> {
  const control = await server.connect();
  const view = await server.connect();
  try {
    const probe = previous ? undefined : await probeFloor(() => server.connect(), control, TABLE);
    const runningBefore = await runningTransactions(() => server.connect());
    await view.query('START TRANSACTION WITH CONSISTENT SNAPSHOT');
    const open = await runningTransactions(() => server.connect());
    const start: DeltaStart = previous
      ? { full: false, previous, previousFinal: allEnded(previous.openTransactions, runningBefore) }
      : { full: true, floor: floorFor(probe!, runningBefore) };
    const delta = await readShardDelta(view, TABLE, start, open);
    // What the backup's dump takes in the same view: everything (full), or above the previous maximum and the late ids.
    const above = previous ? BigInt(previous.maxAddedId) : 0n;
    const [rows] = await view.query({ sql: 'SELECT added_id FROM shard_0.cell WHERE added_id > ? ORDER BY added_id', values: [above.toString()], rowsAsArray: true });
    const taken = [...(rows as unknown[][]).map(([id]) => BigInt(String(id))), ...delta.lateIds];
    await view.query('COMMIT');
    return { taken, watermark: delta.watermark };
  } finally {
    await Promise.all([control.end(), view.end()]);
  }
}

async function allIds(): Promise<bigint[]> {
  const [rows] = await writer.query({ sql: 'SELECT added_id FROM shard_0.cell ORDER BY added_id', rowsAsArray: true });
  return (rows as unknown[][]).map(([id]) => BigInt(String(id)));
}

const sorted = (ids: bigint[]) => [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

it('takes in the next incremental a cell whose lower added_id committed after the full backup\'s read view', async () => {
  // Prepare: committed cells; a transaction takes the next id and stays open; a later id commits
  for (let i = 0; i < 50; i += 1) await insertCell(writer);
  const late = await server.connect();
  await late.query('BEGIN');
  const lateId = await insertCell(late);
  const after = await insertCell(writer);
  expect(after).toBeGreaterThan(lateId);

  // Act: a full backup while the late transaction runs; it commits; more cells; an incremental
  const full = await backup();
  await late.query('COMMIT');
  await late.end();
  const newer = await insertCell(writer);
  const incremental = await backup(full.watermark);

  // Assess: the full did not see the late cell, recorded its id as a gap; the incremental took it
  expect(full.taken).not.toContain(lateId);
  expect(full.watermark.maxAddedId).toBe(after.toString());
  expect(full.watermark.gaps).toEqual([[lateId.toString(), lateId.toString()]]);
  expect(sorted(incremental.taken)).toEqual([lateId, newer]);
  expect(incremental.watermark).toMatchObject({ maxAddedId: newer.toString(), gaps: [] });
  // Full + incremental hold every cell the shard has, each once.
  expect(sorted([...full.taken, ...incremental.taken])).toEqual(await allIds());
});

it('carries a gap while its transaction still runs, takes it once it commits, and drops a rolled-back id once nothing can fill it', async () => {
  // Prepare: one transaction that will commit late, one that will roll back
  const slow = await server.connect();
  const undone = await server.connect();
  await slow.query('BEGIN');
  await undone.query('BEGIN');
  const slowId = await insertCell(slow);
  const undoneId = await insertCell(undone);
  await insertCell(writer);
  const first = await backup(); // a full: both ids are gaps

  // Act: a backup while both still run; the rollback; a backup; the commit; a backup
  const second = await backup(first.watermark);
  await undone.query('ROLLBACK');
  await undone.end();
  const third = await backup(second.watermark);
  await slow.query('COMMIT');
  await slow.end();
  const fourth = await backup(third.watermark);
  const fifth = await backup(fourth.watermark);

  // Assess (the two ids are neighbours: one range)
  expect(undoneId).toBe(slowId + 1n);
  const both = [[slowId.toString(), undoneId.toString()]];
  expect(first.watermark.gaps).toEqual(both);
  expect(second.watermark.gaps).toEqual(both); // both transactions still run
  expect(third.watermark.gaps).toEqual(both); // slow still runs: the record's transactions have not all ended
  expect(fourth.taken).toContain(slowId); // committed: taken, though below the maximum
  expect(fourth.watermark.gaps).toEqual([]); // every transaction of the third's record ended: the rolled-back id is final
  expect(fifth.taken).toEqual([]);
  expect(sorted([...first.taken, ...second.taken, ...third.taken, ...fourth.taken, ...fifth.taken])).toEqual(await allIds());
  expect(await allIds()).not.toContain(undoneId);
});

it('a full backup records no gaps below its floor once the transactions seen at the probe have ended', async () => {
  // Prepare: an id lost to a rollback long before the backup
  const undone = await server.connect();
  await undone.query('BEGIN');
  await insertCell(undone);
  await undone.query('ROLLBACK');
  await undone.end();
  await insertCell(writer);

  // Act
  const full = await backup();

  // Assess: nothing is running: every missing id is final, none carried
  expect(full.watermark.gaps).toEqual([]);
  expect(sorted(full.taken)).toEqual(await allIds());
});

it('lists a transaction begun a moment ago and not one just ended, though the list was read moments before (InnoDB caches it)', async () => {
  // Prepare: the list read just now (a poller would), then a transaction begins
  const other = await server.connect();
  await writer.query('SELECT * FROM information_schema.INNODB_TRX');
  await other.query('BEGIN');
  await insertCell(other);

  // Act
  const during = await runningTransactions(() => server.connect());
  await other.query('COMMIT');
  const after = await runningTransactions(() => server.connect());
  await other.end();

  // Assess: exactly one transaction (other's) ran at the first read and not at the second
  expect([...during].filter((id) => !after.has(id))).toHaveLength(1);
  expect([...after].filter((id) => !during.has(id))).toEqual([]);
});
