/**
 * Chunk loading on a real MariaDB 10.11 server, in both load modes: rows land byte for byte
 * (generated columns recomputed, invisible columns loaded like the others, MyISAM indexes rebuilt);
 * a load the server had to change, or that adds another number of rows than the manifest says,
 * fails the restore; given what to expect, every key range, whole table and empty table is read
 * back as soon as it is loaded, and what differs is named.
 */
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Connection } from 'mysql2/promise';
import { silentLogger } from '../../../core/logger';
import { loadTables, type TableLoad } from '../../../drivers/mysql/logical/chunk-load';
import { chunkSuffix, compressLines, type ChunkCodec } from '../../../drivers/mysql/shared/chunk-codec';
import { openDataConnection } from '../../../drivers/mysql/shared/connection';
import { encodeRow, type RawRow } from '../../../drivers/mysql/shared/row-format';
import { tableColumns } from '../../../drivers/mysql/shared/table-columns';
import { TableDigest } from '../../../drivers/mysql/shared/table-digest';
import { digestTable } from '../../../drivers/mysql/shared/table-reader';
import { startTestMariaDb, stopAllMariaDb, type TestMariaDb } from '../../harness/mariadb';
import { tempDir } from '../../harness/test-run';

let server: TestMariaDb;
let admin: Connection;
let dir: string;

const raw = (...values: Array<string | null>): RawRow => values.map((v) => (v === null ? null : Buffer.from(v, 'utf8')));

/**
 * Writes `rows` as chunk files of `perChunk` rows, compressed with `codecs` in turn (zstd as
 * backups write; gzip as they did before); returns their paths and the rows' digest.
 */
async function writeChunks(name: string, rows: RawRow[], perChunk: number, codecs: ChunkCodec[] = ['zstd']): Promise<{ files: string[]; digest: string }> {
  const files: string[] = [];
  const digest = new TableDigest();
  for (let start = 0; start < rows.length; start += perChunk) {
    const codec = codecs[files.length % codecs.length];
    const file = path.join(dir, `${name}-${files.length}${chunkSuffix(codec)}`);
    const part = rows.slice(start, start + perChunk);
    part.forEach((row) => digest.add(row));
    const lines = Buffer.concat(part.map(encodeRow));
    await writeFile(file, codec === 'zstd' ? compressLines(lines) : gzipSync(lines));
    files.push(file);
  }
  return { files, digest: digest.hex() };
}

const SCHEMA = `
  CREATE TABLE gen (a INT PRIMARY KEY, b INT AS (a * 2) VIRTUAL, c VARCHAR(10) NULL, d INT INVISIBLE DEFAULT 5, e INT AS (a + 1) STORED) ENGINE=InnoDB;
  CREATE TABLE mi (id INT PRIMARY KEY, k INT NOT NULL, t TEXT NULL, KEY (k)) ENGINE=MyISAM;
`;

/** Dumped rows of gen: a, b, c, d (invisible, so named explicitly), e. */
const genRows = Array.from({ length: 500 }, (_, i) => raw(String(i + 1), String((i + 1) * 2), i % 7 === 0 ? null : `v\t${i}\\`, String(i * 10), String(i + 2)));
const miRows = Array.from({ length: 2_000 }, (_, i) => raw(String(i + 1), String(i % 13), i % 3 === 0 ? 'ü\n🚀' : ''));

beforeAll(async () => {
  server = await startTestMariaDb('chunk-load', 7);
  admin = await server.connect();
  dir = await tempDir('chunk-load');
}, 60_000);

afterAll(async () => {
  await admin?.end();
  await stopAllMariaDb();
  await rm(dir, { recursive: true, force: true });
});

/** The sessions `user` still holds on the server, once they had time to go (a client's QUIT takes a moment to be seen through). */
async function sessionsLeftBy(user: string): Promise<number> {
  const open = async () => Number(((await admin.query('SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE USER = ?', [user])) as [Array<{ n: number }>, unknown])[0][0].n);
  for (const until = Date.now() + 10_000; await open() > 0 && Date.now() < until;) await new Promise((resolve) => setTimeout(resolve, 50));
  return open();
}

async function freshDatabase(name: string): Promise<void> {
  await admin.query(`CREATE DATABASE ${name}; USE ${name}; ${SCHEMA}`);
}

async function load(database: string, tables: TableLoad[]) {
  return loadTables({ ...server.config(), connectTimeoutMs: 5_000 }, tables, await tableColumns(admin, [database]), { parallelism: 3, logger: silentLogger });
}

describe('loadTables', () => {
  it('loads every chunk byte for byte (zstd and the gzip of older backups), generated columns recomputed', async () => {
    // Prepare
    const database = 'cl_all';
    await freshDatabase(database);
    const gen = await writeChunks('gen', genRows, 120, ['zstd', 'gzip']); // a chain across the codec change
    const mi = await writeChunks('mi', miRows, 600);

    // Act
    const result = await load(database, [
      { database, table: 'gen', engine: 'InnoDB', rows: genRows.length, files: gen.files },
      { database, table: 'mi', engine: 'MyISAM', rows: miRows.length, files: mi.files },
    ]);

    // Assess
    expect(result).toEqual({ chunks: gen.files.length + mi.files.length, rows: genRows.length + miRows.length });
    const data = await openDataConnection({ ...server.config(), connectTimeoutMs: 5_000 });
    try {
      expect(await digestTable(data, { database, table: 'gen' })).toEqual({ rows: genRows.length, digest: gen.digest });
      expect(await digestTable(data, { database, table: 'mi' })).toEqual({ rows: miRows.length, digest: mi.digest });
    } finally {
      await data.end();
    }
    const [[invisible]] = await admin.query(`SELECT COUNT(*) AS n FROM ${database}.gen WHERE d = (a - 1) * 10`) as [Array<{ n: number }>, unknown];
    expect(Number(invisible.n)).toBe(genRows.length);
    const [[check]] = await admin.query(`CHECK TABLE ${database}.mi`) as [Array<{ Msg_text: string }>, unknown];
    expect(check.Msg_text).toBe('OK');
    const [[byKey]] = await admin.query(`SELECT COUNT(*) AS n FROM ${database}.mi FORCE INDEX (k) WHERE k = 3`) as [Array<{ n: number }>, unknown];
    expect(Number(byKey.n)).toBe(miRows.filter((r) => r[1]!.toString() === '3').length);
  });

  it('loads rows whose lines are about 16 MB, the size of a protocol packet, byte for byte', async () => {
    // Prepare: lines of 16 MB less 1, exactly, and more, each a chunk read whole (one zstd frame);
    // then chunks inflated as a stream: a line of 32 MB less 6, and two lines about 16 MB each
    const database = 'cl_packet';
    await admin.query('SET GLOBAL max_allowed_packet = 64 * 1024 * 1024');
    await admin.query(`CREATE DATABASE ${database}`);
    await admin.query(`CREATE TABLE ${database}.big (id INT PRIMARY KEY, a LONGBLOB) ENGINE=InnoDB`);
    const PACKET = 0xffffff;
    const lines = [PACKET - 1, PACKET, PACKET + 1, PACKET + 5, 2 * PACKET - 6, PACKET - 1, PACKET + 1];
    const rows = lines.map((line, i) => raw(String(i + 1), 'b'.repeat(line - 3))); // "n\t" + value + "\n"
    const whole = await writeChunks('whole', rows.slice(0, 5), 1);
    const streamed = await writeChunks('streamed', rows.slice(5), 2);
    const expected = new TableDigest();
    rows.forEach((row) => expected.add(row));

    // Act
    const result = await load(database, [{ database, table: 'big', engine: 'InnoDB', rows: rows.length, files: [...whole.files, ...streamed.files] }])
      .finally(() => admin.query('SET GLOBAL max_allowed_packet = DEFAULT'));

    // Assess
    expect(result).toEqual({ chunks: 6, rows: rows.length });
    const data = await openDataConnection({ ...server.config(), connectTimeoutMs: 5_000 });
    try {
      expect(await digestTable(data, { database, table: 'big' })).toEqual({ rows: rows.length, digest: expected.hex() });
    } finally {
      await data.end();
    }
  });

  it('fails with MYSQL_LOAD_WARNINGS when the server has to change a value', async () => {
    // Prepare
    await freshDatabase('cl_warn');
    const chunk = await writeChunks('warn', [raw('1', '2', 'far too long for ten', '0', '2')], 10);

    // Act
    const loading = load('cl_warn', [{ database: 'cl_warn', table: 'gen', engine: 'InnoDB', rows: 1, files: chunk.files }]);

    // Assess
    await expect(loading).rejects.toMatchObject({ name: 'PermanentError', code: 'MYSQL_LOAD_WARNINGS', message: expect.stringContaining('cl_warn.gen') });
  });

  it('fails with MYSQL_LOAD_WARNINGS on a duplicate key, and MYSQL_LOAD_ROWS when the manifest counts other rows', async () => {
    // Prepare
    await freshDatabase('cl_dup');
    const duplicate = await writeChunks('dup', [raw('1', '2', 'a', '0', '2'), raw('1', '2', 'b', '0', '2')], 10);
    const short = await writeChunks('short', [raw('1', '13', 'x')], 10);

    // Act
    const [dup, counted] = await Promise.allSettled([
      load('cl_dup', [{ database: 'cl_dup', table: 'gen', engine: 'InnoDB', rows: 2, files: duplicate.files }]),
      load('cl_dup', [{ database: 'cl_dup', table: 'mi', engine: 'MyISAM', rows: 2, files: short.files }]),
    ]);

    // Assess
    expect(dup).toMatchObject({ status: 'rejected', reason: { code: 'MYSQL_LOAD_WARNINGS' } });
    expect(counted).toMatchObject({ status: 'rejected', reason: { code: 'MYSQL_LOAD_ROWS', message: expect.stringContaining('cl_dup.mi 1 (expected 2)') } });
  });

  it('loads a chunk again, whole, when a lock conflict rolled it back', async () => {
    // Prepare: another transaction holds a key the first chunk inserts, and lock waits end after 1 s
    const database = 'cl_conflict';
    await freshDatabase(database);
    const gen = await writeChunks('conflict', genRows, 100);
    const holder = await server.connect();
    await holder.query('BEGIN');
    await holder.query(`INSERT INTO ${database}.gen (a, c) VALUES (1, 'held')`);
    await admin.query('SET GLOBAL innodb_lock_wait_timeout = 1');
    const warnings: string[] = [];
    const logger = { ...silentLogger, warn: (message: string) => { warnings.push(message); void holder.query('ROLLBACK'); } };

    // Act
    let result;
    try {
      result = await loadTables({ ...server.config(), connectTimeoutMs: 5_000 }, [
        { database, table: 'gen', engine: 'InnoDB', rows: genRows.length, files: gen.files },
      ], await tableColumns(admin, [database]), { parallelism: 3, logger });
    } finally {
      await admin.query('SET GLOBAL innodb_lock_wait_timeout = DEFAULT');
      await holder.end();
    }

    // Assess
    expect(warnings[0]).toBe(`mysql restore: loading ${database}.gen chunk 1/5 met a lock conflict and was rolled back; loading it again`);
    expect(result).toEqual({ chunks: 5, rows: genRows.length });
    const data = await openDataConnection({ ...server.config(), connectTimeoutMs: 5_000 });
    try {
      expect(await digestTable(data, { database, table: 'gen' })).toEqual({ rows: genRows.length, digest: gen.digest });
    } finally {
      await data.end();
    }
  });

  describe('reading back as it loads', () => {
    /** `mi`'s rows cut into key ranges of 500 (as the dump cuts by key), a chunk file each, with each range's facts. */
    async function miByRange(name: string) {
      const ranges = [];
      const files: string[] = [];
      for (let r = 0; r < 4; r += 1) {
        const chunk = await writeChunks(`${name}-${r}`, miRows.slice(r * 500, (r + 1) * 500), 500);
        files.push(...chunk.files);
        ranges.push({ ...(r > 0 ? { from: String(r * 500 + 1) } : {}), ...(r < 3 ? { to: String((r + 1) * 500 + 1) } : {}), rows: 500, digest: chunk.digest, chunks: 1 });
      }
      const whole = new TableDigest();
      miRows.forEach((row) => whole.add(row));
      return { files, ranges, digest: whole.hex() };
    }

    it('reads every key range (MyISAM, keys disabled meanwhile), every whole table and every empty one back, each matching', async () => {
      // Prepare
      const database = 'cl_readback';
      await freshDatabase(database);
      await admin.query(`CREATE TABLE ${database}.nothing (id INT PRIMARY KEY) ENGINE=InnoDB`);
      const mi = await miByRange('rb-mi');
      const gen = await writeChunks('rb-gen', genRows, 200);
      const empty = new TableDigest().hex();

      // Act
      const loaded = await load(database, [
        { database, table: 'mi', engine: 'MyISAM', rows: miRows.length, files: mi.files, expected: { digest: mi.digest, splitKey: 'id', ranges: mi.ranges } },
        { database, table: 'gen', engine: 'InnoDB', rows: genRows.length, files: gen.files, expected: { digest: gen.digest } },
        { database, table: 'nothing', engine: 'InnoDB', rows: 0, files: [], expected: { digest: empty } },
      ]);

      // Assess
      expect(loaded.readBack).toEqual({ tables: 3, rows: miRows.length + genRows.length, differ: [], differCount: 0, countsDiffer: 0 });
      const data = await openDataConnection({ ...server.config(), connectTimeoutMs: 5_000 });
      try {
        expect(await digestTable(data, { database, table: 'mi' })).toEqual({ rows: miRows.length, digest: mi.digest });
      } finally {
        await data.end();
      }
    });

    it('reads back on the loading connections when the server lets it open no connection of its own (max_user_connections)', async () => {
      // Prepare: a user who may hold as many connections as the load opens, and no more
      const database = 'cl_readback_limited';
      await freshDatabase(database);
      await admin.query(`CREATE USER cl_limited@'%' IDENTIFIED BY 'pw' WITH MAX_USER_CONNECTIONS 3`);
      await admin.query(`GRANT ALL ON ${database}.* TO cl_limited@'%'`);
      const mi = await miByRange('rbl-mi');
      const gen = await writeChunks('rbl-gen', genRows, 200);
      const limited = { ...server.config(), user: 'cl_limited', password: 'pw', connectTimeoutMs: 5_000 };

      // Act
      const loaded = await loadTables(limited, [
        { database, table: 'mi', engine: 'MyISAM', rows: miRows.length, files: mi.files, expected: { digest: mi.digest, splitKey: 'id', ranges: mi.ranges } },
        { database, table: 'gen', engine: 'InnoDB', rows: genRows.length, files: gen.files, expected: { digest: gen.digest } },
      ], await tableColumns(admin, [database]), { parallelism: 3, logger: silentLogger });

      // Assess
      expect(loaded.readBack).toEqual({ tables: 2, rows: miRows.length + genRows.length, differ: [], differCount: 0, countsDiffer: 0 });
    });

    it('fails the load when a read-back fails (a user who may load but not read), leaving no session open', async () => {
      // Prepare
      const database = 'cl_readback_refused';
      await freshDatabase(database);
      await admin.query(`CREATE USER cl_loader@'%' IDENTIFIED BY 'pw'`);
      await admin.query(`GRANT INSERT, ALTER ON ${database}.* TO cl_loader@'%'`);
      const gen = await writeChunks('rbr-gen', genRows, 100);
      const loader = { ...server.config(), user: 'cl_loader', password: 'pw', connectTimeoutMs: 5_000 };

      // Act
      const failed = await loadTables(loader, [
        { database, table: 'gen', engine: 'InnoDB', rows: genRows.length, files: gen.files, expected: { digest: gen.digest } },
      ], await tableColumns(admin, [database]), { parallelism: 2, logger: silentLogger }).then(() => undefined, (error: unknown) => error);

      // Assess
      expect(failed).toMatchObject({ code: 'MYSQL_PRIVILEGES', message: expect.stringContaining(`reading back ${database}.gen`) });
      expect(await sessionsLeftBy('cl_loader')).toBe(0);
    });

    it('fails the load when a chunk fails while read-backs wait their turn, leaving no session open', async () => {
      // Prepare: mi's key ranges load (and queue their read-backs) while gen's chunk holds a duplicate key
      const database = 'cl_readback_load_fails';
      await freshDatabase(database);
      await admin.query(`CREATE USER cl_failing@'%' IDENTIFIED BY 'pw'`);
      await admin.query(`GRANT ALL ON ${database}.* TO cl_failing@'%'`);
      const mi = await miByRange('rbf-mi');
      const duplicate = await writeChunks('rbf-dup', [raw('1', '2', 'a', '0', '2'), raw('1', '2', 'b', '0', '2')], 10);
      const failing = { ...server.config(), user: 'cl_failing', password: 'pw', connectTimeoutMs: 5_000 };

      // Act
      const failed = await loadTables(failing, [
        { database, table: 'mi', engine: 'MyISAM', rows: miRows.length, files: mi.files, expected: { digest: mi.digest, splitKey: 'id', ranges: mi.ranges } },
        { database, table: 'gen', engine: 'InnoDB', rows: 2, files: duplicate.files, expected: { digest: duplicate.digest } },
      ], await tableColumns(admin, [database]), { parallelism: 2, logger: silentLogger }).then(() => undefined, (error: unknown) => error);

      // Assess
      expect(failed).toMatchObject({ code: 'MYSQL_LOAD_WARNINGS', message: expect.stringContaining(`${database}.gen`) });
      expect(await sessionsLeftBy('cl_failing')).toBe(0);
    });

    it('names the key range, or the whole table when its ranges do not account for its chunks, whose rows differ from what was expected', async () => {
      // Prepare
      const database = 'cl_readback_differs';
      await freshDatabase(database);
      const mi = await miByRange('rbd-mi');
      const ranges = mi.ranges.map((r, i) => (i === 2 ? { ...r, rows: 499 } : r));
      const gen = await writeChunks('rbd-gen', genRows, 200);
      const unaccounted = [{ rows: genRows.length, digest: gen.digest, chunks: 1 }, { from: '7', rows: 0, digest: gen.digest, chunks: 1 }]; // 2 chunks of 3

      // Act
      const loaded = await load(database, [
        { database, table: 'mi', engine: 'MyISAM', rows: miRows.length, files: mi.files, expected: { digest: mi.digest, splitKey: 'id', ranges } },
        { database, table: 'gen', engine: 'InnoDB', rows: genRows.length, files: gen.files, expected: { digest: '0'.repeat(32), splitKey: 'a', ranges: unaccounted } },
      ]);

      // Assess
      expect(loaded.readBack).toMatchObject({ tables: 2, differCount: 2, countsDiffer: 1 });
      expect(loaded.readBack!.differ.sort()).toEqual([`${database}.gen: digest differs`, `${database}.mi key range [1001, 1501): 500 rows, expected 499`]);
    });
  });
});
