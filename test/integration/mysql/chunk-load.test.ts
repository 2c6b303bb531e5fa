/**
 * Chunk loading on a real MariaDB 10.11 server, in both load modes: rows land byte for byte
 * (generated columns recomputed, invisible columns loaded like the others, MyISAM indexes rebuilt);
 * a load the server had to change, or that adds another number of rows than the manifest says,
 * fails the restore.
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
});
