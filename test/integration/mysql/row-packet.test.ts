/**
 * The dump reads rows as the server's raw row packets (row-packet.ts). These tests hold that path
 * to mysql2's own parsing on a real server: every packet must carry exactly the columns mysql2
 * parses from it, for every column type, NULLs, empty strings and values long enough to need
 * multi-byte length prefixes.
 */
import type { Connection } from 'mysql2/promise';
import { openDataConnection } from '../../../drivers/mysql/shared/connection';
import { rawTypeCast, type RawRow } from '../../../drivers/mysql/shared/row-format';
import { BATCH, eachRowPacket, packRow, type RowPacket } from '../../../drivers/mysql/shared/row-packet';
import { packetsOf } from '../../../drivers/mysql/shared/framed-batch';
import { readResult, readResults } from '../../../drivers/mysql/shared/result-reader';
import type { ResultRows } from '../../../drivers/mysql/shared/result-rows';
import { selectList } from '../../../drivers/mysql/shared/column-codec';
import { tableColumns, tableKey } from '../../../drivers/mysql/shared/table-columns';
import { TableDigest } from '../../../drivers/mysql/shared/table-digest';
import { digestTable } from '../../../drivers/mysql/shared/table-reader';
import { startTestMariaDb, stopAllMariaDb, type TestMariaDb } from '../../harness/mariadb';

let server: TestMariaDb;
let admin: Connection;
let data: Connection;

beforeAll(async () => {
  server = await startTestMariaDb('row-packet', 11);
  admin = await server.connect();
  await admin.query('SET GLOBAL max_allowed_packet = 64 * 1024 * 1024'); // a 17 MB value, sent as several protocol packets
  await admin.end();
  admin = await server.connect();
  await admin.query(`CREATE DATABASE types`);
  await admin.query(`CREATE TABLE types.every (
    id INT PRIMARY KEY, big BIGINT UNSIGNED, dec_ DECIMAL(30,10), dbl DOUBLE, flt FLOAT, dt DATETIME(6), d DATE, t TIME(3), y YEAR,
    vc VARCHAR(300) CHARACTER SET utf8mb4, latin VARCHAR(20) CHARACTER SET latin1, bin VARBINARY(300), blb BLOB, lb LONGBLOB, js JSON,
    bt BIT(12), en ENUM('a','b\\tc'), st SET('x','y','z'), ip INET6, uu UUID) ENGINE=InnoDB`);
  await admin.query(`INSERT INTO types.every VALUES
    (1, 18446744073709551615, -12345678901234567890.0123456789, 1e308, -1.5, '2026-11-21 10:00:00.123456', '1000-01-01', '-838:59:59.000', 2155,
     REPEAT('ü🚀', 100), 'Groß', UNHEX(REPEAT('00FF0A09095C0D', 40)), REPEAT(CHAR(0,9,10,13,92), 60), REPEAT('x', 70000), '{"a":[1,2,"\\\\t"]}',
     b'101010101010', 'b\\tc', 'x,z', '::1', '123e4567-e89b-12d3-a456-426614174000'),
    (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '', '', '', '', '', NULL, NULL, NULL, '', NULL, NULL),
    (3, 0, 0, 0, 0, '1970-01-01 00:00:00', '2000-02-29', '00:00:00', 1901, '\\\\N', NULL, NULL, NULL, REPEAT('y', 17000000), '[]', b'0', 'a', NULL, '::ffff:1.2.3.4', NULL)`);
  data = await openDataConnection({ host: server.host, port: server.port, user: 'root', password: '', connectTimeoutMs: 10_000 });
}, 120_000);

afterAll(async () => {
  await data?.end();
  await admin?.end();
  await stopAllMariaDb();
});

/** Every row packet of `rows`, copied, until the result ends. */
async function drain(rows: ResultRows): Promise<RowPacket[]> {
  const packets: RowPacket[] = [];
  for (let batch = await rows.take(BATCH); batch.count > 0; batch = await rows.take(BATCH)) {
    for (const packet of packetsOf(batch)) packets.push(Buffer.from(packet));
  }
  return packets;
}

/** The row packets of `sql`, read off the socket as the dump reads them. */
const rowPacketsOf = (sql: string): Promise<RowPacket[]> => drain(readResult(data, sql));

async function parsedRows(sql: string): Promise<RawRow[]> {
  const [rows] = await data.query({ sql, rowsAsArray: true, typeCast: rawTypeCast as never }) as unknown as [RawRow[], unknown];
  return rows;
}

describe('raw row packets', () => {
  it('carry exactly the columns mysql2 parses, for every type, NULL, empty and 17 MB values', async () => {
    // Act
    const packets = await rowPacketsOf('SELECT * FROM types.every ORDER BY id');
    const rows = await parsedRows('SELECT * FROM types.every ORDER BY id');

    // Assess
    expect(packets).toHaveLength(3);
    expect(packets.map((p, i) => p.equals(packRow(rows[i])))).toEqual([true, true, true]);
    expect(rows[1].filter((v) => v === null)).toHaveLength(13);
    expect(rows[2][13]?.length).toBe(17_000_000);
  });

  it('digest the table as its parsed rows would, each column read as the dump reads it', async () => {
    // Prepare
    const columns = (await tableColumns(data, ['types'], 'every')).get(tableKey('types', 'every'))!;
    const expected = new TableDigest();
    for (const row of await parsedRows(`SELECT ${selectList(columns)} FROM types.every`)) expected.add(row);

    // Act
    const digested = await digestTable(data, { database: 'types', table: 'every' });

    // Assess
    expect(digested).toEqual({ rows: 3, digest: expected.hex() });
  });

  it('leave the connection usable after a result is read to its end', async () => {
    // Act
    await rowPacketsOf('SELECT id FROM types.every');
    const [[row]] = await data.query('SELECT 1 + 1 AS two') as unknown as [Array<{ two: Buffer }>, unknown];

    // Assess
    expect(Number(row.two.toString())).toBe(2);
  });

  it('fail, rather than wait forever, when the connection is lost', async () => {
    // Prepare
    const doomed = await openDataConnection({ host: server.host, port: server.port, user: 'root', password: '', connectTimeoutMs: 10_000 });
    doomed.on('error', () => undefined);
    await admin.query(`KILL CONNECTION ${doomed.threadId}`);
    await new Promise((resolve) => setTimeout(resolve, 200));

    // Act
    const digesting = digestTable(doomed, { database: 'types', table: 'every' });

    // Assess
    await expect(digesting).rejects.toThrow();
    doomed.destroy();
  });

  it('reach a synchronous consumer one by one, the same packets the stream gives', async () => {
    // Act
    const received: RowPacket[] = [];
    await eachRowPacket(data, 'SELECT * FROM types.every ORDER BY id', (row) => received.push(Buffer.from(row)));

    // Assess
    expect(received.map((p) => p.toString('hex'))).toEqual((await rowPacketsOf('SELECT * FROM types.every ORDER BY id')).map((p) => p.toString('hex')));
  });

  it('reject with the error a synchronous consumer throws, the connection usable after', async () => {
    // Act
    let seen = 0;
    const reading = eachRowPacket(data, 'SELECT seq FROM types.seq_1_to_100000', () => {
      seen += 1;
      if (seen === 10) throw new Error('consumer refused row 10');
    });

    // Assess
    await expect(reading).rejects.toThrow('consumer refused row 10');
    const [[row]] = await data.query('SELECT 2 + 2 AS four') as unknown as [Array<{ four: Buffer }>, unknown];
    expect(Number(row.four.toString())).toBe(4);
  });

  it('reject when the connection is lost in the middle of a result', async () => {
    // Prepare
    const doomed = await openDataConnection({ host: server.host, port: server.port, user: 'root', password: '', connectTimeoutMs: 10_000 });
    doomed.on('error', () => undefined);
    let killed: Promise<unknown> | undefined;

    // Act
    const reading = eachRowPacket(doomed, 'SELECT a.seq, b.seq FROM types.seq_1_to_100000 a, types.seq_1_to_1000 b', () => {
      killed ??= admin.query(`KILL CONNECTION ${doomed.threadId}`);
    });

    // Assess
    await expect(reading).rejects.toThrow(/closed|lost|killed|interrupted/i);
    expect(killed).toBeDefined(); // rows had arrived before the connection went
    await killed;
    doomed.destroy();
  });
});

/** Every packet of `rows`, as hex, until the result ends. */
const drainHex = async (rows: ResultRows): Promise<string[]> => (await drain(rows)).map((p) => p.toString('hex'));

/** Turns of the event loop until `ready()`: rows arrive when the socket delivers them. */
async function until(ready: () => boolean): Promise<void> {
  while (!ready()) await new Promise((resolve) => setImmediate(resolve));
}

describe('row packets of several statements sent as one query', () => {
  it('come each in a result of its own, the same packets as separate queries, an empty result included', async () => {
    // Prepare
    const statements = ['SELECT * FROM types.every ORDER BY id', 'SELECT seq FROM types.seq_1_to_5 WHERE seq > 10', 'SELECT seq, REPEAT(seq, 3) FROM types.seq_1_to_3000'];
    const separately: string[][] = [];
    for (const sql of statements) separately.push((await rowPacketsOf(sql)).map((p) => p.toString('hex')));

    // Act
    const together = await Promise.all(readResults(data, statements).map(drainHex));

    // Assess
    expect(together.map((packets) => packets.length)).toEqual([3, 0, 3000]);
    expect(together).toEqual(separately);
  });

  it('end the statements before a failing one with all their rows, fail it and those after it, and leave the connection usable', async () => {
    // Act
    const results = readResults(data, ['SELECT seq FROM types.seq_1_to_4', 'SELECT seq FROM types.seq_1_to_2', 'SELECT * FROM types.missing', 'SELECT seq FROM types.seq_1_to_3']);
    const outcomes = await Promise.allSettled(results.map(drainHex));

    // Assess
    expect(outcomes.slice(0, 2).map((o) => (o.status === 'fulfilled' ? o.value.length : o.reason))).toEqual([4, 2]);
    expect(outcomes.slice(2).map((o) => o.status)).toEqual(['rejected', 'rejected']);
    expect((outcomes[2] as PromiseRejectedResult).reason).toMatchObject({ errno: 1146, message: expect.stringContaining('missing') });
    const [[row]] = await data.query('SELECT 3 + 3 AS six') as unknown as [Array<{ six: Buffer }>, unknown];
    expect(Number(row.six.toString())).toBe(6);
  });

  it('fail a statement that returns no rows, the others read as they are', async () => {
    // Act
    const results = readResults(data, ['SELECT seq FROM types.seq_1_to_2', 'DO 1', 'SELECT seq FROM types.seq_1_to_3']);
    const outcomes = await Promise.allSettled(results.map(drainHex));

    // Assess
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'MYSQL_DUMP_FAILED', message: expect.stringContaining('statement 2 of 3 returned no rows') });
  });

  it('fail a query that returns more results than it has statements: which rows are whose cannot be told', async () => {
    // Prepare: a procedure returns two results for one statement
    await admin.query('CREATE PROCEDURE types.two() BEGIN SELECT 1; SELECT 2; END');

    // Act
    const outcomes = await Promise.allSettled(readResults(data, ['CALL types.two()', 'SELECT 3']).map(drainHex));

    // Assess: the last statement's result fails at its own end, which says another result follows
    // (the first, statement 1's own first result, may have been read whole by then)
    expect(outcomes[1].status).toBe('rejected');
    expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'MYSQL_DUMP_FAILED', message: expect.stringContaining('more results than its 2 statements') });
    const [[row]] = await data.query('SELECT 9 AS nine') as unknown as [Array<{ nine: Buffer }>, unknown];
    expect(Number(row.nine.toString())).toBe(9);
  });

  it('fail an answer that is no result set, and the commands queued behind it, rather than hang', async () => {
    // Prepare: LOAD DATA LOCAL is answered with a request for a file, not rows
    const doomed = await openDataConnection({ host: server.host, port: server.port, user: 'root', password: '', connectTimeoutMs: 10_000 });
    doomed.on('error', () => undefined);
    await admin.query('CREATE TABLE types.loaded (a INT)');

    // Act
    const reading = drain(readResult(doomed, "LOAD DATA LOCAL INFILE '/etc/hostname' INTO TABLE types.loaded"));
    const queued = doomed.query('SELECT 1');

    // Assess
    await expect(reading).rejects.toMatchObject({ code: 'MYSQL_DUMP_FAILED', message: expect.stringContaining('a result-set header was expected') });
    await expect(queued).rejects.toThrow();
    doomed.destroy();
  });

  it('hold the socket while one result is full, even when another of the same query is dropped', async () => {
    // Prepare: the first result full (10 rows, and what one read of the socket brought) and not read
    const socket = (data as unknown as { connection: { stream: { isPaused(): boolean } } }).connection.stream;
    const results = readResults(data, ['SELECT seq, REPEAT(\'x\', 200) FROM types.seq_1_to_100000', 'SELECT seq FROM types.seq_1_to_3'], { rows: 10, bytes: 1 << 20 });
    await until(() => results[0].buffered.rows >= 10);

    // Act: the second result's reader gives up (a chunk write failed, say)
    results[1].close();
    for (let turn = 0; turn < 20; turn += 1) await new Promise((resolve) => setImmediate(resolve));

    // Assess: the socket is held, the rows still wait at the server (no more than a read or two of it here), and all arrive once read
    expect(socket.isPaused()).toBe(true);
    expect(results[0].buffered.bytes).toBeLessThan(1 << 20);
    expect(await drainHex(results[0])).toHaveLength(100_000);
    const [[row]] = await data.query('SELECT 4 + 4 AS eight') as unknown as [Array<{ eight: Buffer }>, unknown];
    expect(Number(row.eight.toString())).toBe(8);
  });

  it('read and drop the rest of a result its reader closed, the connection usable after', async () => {
    // Prepare
    const result = readResult(data, 'SELECT a.seq, b.seq FROM types.seq_1_to_1000 a, types.seq_1_to_100 b', { rows: 10, bytes: 1 << 20 });
    await result.take({ rows: 5, bytes: 1 << 20 });

    // Act
    result.close();
    const [[row]] = await data.query('SELECT 5 + 5 AS ten') as unknown as [Array<{ ten: Buffer }>, unknown];

    // Assess
    expect(Number(row.ten.toString())).toBe(10);
  });

  it('run in turn with the queries queued before and after them on the connection', async () => {
    // Prepare: mysql2 warns of packets out of order when the sequence it counts is not the server's
    const warnings: unknown[] = [];
    const core = (data as unknown as { connection: { on(event: 'warn', listener: (warning: unknown) => void): void; off(event: 'warn', listener: (warning: unknown) => void): void } }).connection;
    const warned = (warning: unknown) => warnings.push(warning);
    core.on('warn', warned);

    // Act: none awaited before the next is sent
    const before = data.query('SELECT 6 AS six');
    const rows = readResult(data, 'SELECT seq FROM types.seq_1_to_2000');
    const after = data.query('SELECT 7 AS seven');
    const [[[six]], packets, [[seven]]] = await Promise.all([before, drain(rows), after]) as unknown as [[[{ six: Buffer }]], RowPacket[], [[{ seven: Buffer }]]];

    // Assess
    expect([Number(six.six.toString()), packets.length, Number(seven.seven.toString())]).toEqual([6, 2000, 7]);
    expect(warnings).toEqual([]);
    core.off('warn', warned);
  });

  it('fail, rather than wait forever, when the connection is lost in the middle of a result', async () => {
    // Prepare
    const doomed = await openDataConnection({ host: server.host, port: server.port, user: 'root', password: '', connectTimeoutMs: 10_000 });
    doomed.on('error', () => undefined);
    const result = readResult(doomed, 'SELECT a.seq, b.seq FROM types.seq_1_to_100000 a, types.seq_1_to_1000 b', { rows: 100, bytes: 1 << 20 });
    await result.take({ rows: 10, bytes: 1 << 20 });

    // Act
    await admin.query(`KILL CONNECTION ${doomed.threadId}`);
    const reading = drain(result);

    // Assess
    await expect(reading).rejects.toThrow(/closed|lost|killed|interrupted/i);
    doomed.destroy();
  });
});
