/**
 * The logical backup against real MariaDB 10.11 servers: a consistent snapshot of the seeded shop
 * validated and compared with the source, the lock it takes, its binlog coordinates, the schema it
 * captures, corruption caught by validation, a failed chunk write retried alone, a lost worker, and
 * clear errors for bad credentials, unreachable servers and missing privileges.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { decompress } from 'zstd-napi';
import type { Connection } from 'mysql2/promise';
import type { BackupContext, JsonObject, SnapshotRef } from '../../../core/driver/types';
import { PermanentError, TransientError } from '../../../core/errors';
import { silentLogger } from '../../../core/logger';
import { mysqlConfigSchema, type MysqlConfig } from '../../../drivers/mysql/config';
import { openDataConnection } from '../../../drivers/mysql/shared/connection';
import { chunkArtifact, postSchemaArtifact, schemaArtifact, USERS_ARTIFACT } from '../../../drivers/mysql/shared/layout';
import { initializeDataDir, startServer } from '../../../drivers/mysql/shared/local-server';
import { ArtifactReader, spoolSink } from '../../../core/driver/artifact-sink';
import { takeLogicalSnapshot, validateLogicalSnapshot, type LogicalSnapshot, type LogicalSnapshotOptions } from '../../../drivers/mysql/logical/logical-backup';
import { SHOW_CREATE_BATCH, formatSchemaStatements, splitSchemaStatements } from '../../../drivers/mysql/logical/schema-capture';
import { dumpServerError } from '../../../drivers/mysql/logical/dump-pipeline';
import { chunkFileLines } from '../../../drivers/mysql/shared/chunk-codec';
import { MARKER_TABLE } from '../../../drivers/mysql/logical/restore-marker';
import { digestTable } from '../../../drivers/mysql/shared/table-reader';
import { seedShop, startTestMariaDb, stopAllMariaDb, trackServerPidFile, type TestMariaDb } from '../../harness/mariadb';
import { freePort } from '../../harness/ports';
import { tempDir as runTempDir } from '../../harness/test-run';

let source: TestMariaDb;
let admin: Connection;
const dirs: string[] = [];

async function tempDir(label: string): Promise<string> {
  const dir = await runTempDir(`mysql-${label}`);
  dirs.push(dir);
  return dir;
}

async function context(overrides: Partial<MysqlConfig> & { port?: number } = {}, server: { config(): object } = source): Promise<BackupContext<MysqlConfig>> {
  return {
    backupId: 'backup-1',
    instance: 'shop',
    logger: silentLogger,
    config: mysqlConfigSchema.parse({ ...server.config(), ...overrides }),
    node: { name: 'default' },
    spoolDir: await tempDir('spool'),
  };
}

function snapshotRef(ctx: BackupContext<MysqlConfig>, taken: LogicalSnapshot): SnapshotRef {
  return {
    backupId: ctx.backupId, engine: 'mysql', instance: ctx.instance, spoolDir: ctx.spoolDir, artifacts: taken.artifacts,
    consistency: taken.consistency as unknown as JsonObject, facts: taken.facts as unknown as JsonObject, createdAt: new Date().toISOString(),
  };
}

async function statements(ctx: BackupContext<MysqlConfig>, name: string): Promise<string[]> {
  return splitSchemaStatements(await readFile(path.join(ctx.spoolDir, name)));
}

async function query<T = Record<string, unknown>>(sql: string, values: unknown[] = []): Promise<T[]> {
  const [rows] = await admin.query(sql, values) as [T[], unknown];
  return rows;
}

/** What `act` returns, and the statements the server was sent meanwhile (its general log). */
async function withGeneralLog<T>(act: () => Promise<T>): Promise<{ result: T; statements: string[] }> {
  const [{ output }] = await query<{ output: string }>('SELECT @@GLOBAL.log_output AS output');
  await admin.query("SET GLOBAL log_output = 'TABLE'; TRUNCATE mysql.general_log; SET GLOBAL general_log = 1");
  try {
    const result = await act();
    const logged = await query<{ statement: string }>("SELECT CONVERT(argument USING utf8mb4) AS statement FROM mysql.general_log WHERE command_type = 'Query'");
    // Less the statement that holds the tables backed up (consistency.ts), which reads no row.
    return { result, statements: logged.map((r) => r.statement).filter((q) => !/^SELECT 1 FROM .* WHERE 0$/s.test(q)) };
  } finally {
    await admin.query('SET GLOBAL general_log = 0; TRUNCATE mysql.general_log; SET GLOBAL log_output = ?', [output]);
  }
}

beforeAll(async () => {
  source = await startTestMariaDb('logical');
  admin = await source.connect();
  await seedShop(admin);
  // A copy without the MyISAM table, with a sequence and a view on a view.
  await seedShop(admin, { database: 'shop_innodb', bigRows: 5_000 });
  await admin.query(`
    USE shop_innodb;
    DROP TRIGGER orders_audit;
    DROP TABLE audit_log;
    CREATE SEQUENCE ticket START WITH 100 INCREMENT BY 5;
    CREATE VIEW v_base AS SELECT id, name FROM customers;
    CREATE VIEW a_on_base AS SELECT COUNT(*) AS n FROM v_base;
  `);
  // Edge cases of cutting tables into chunks: an empty table, extreme and negative integer keys, no key.
  await admin.query(`
    CREATE DATABASE edge;
    USE edge;
    CREATE TABLE empty_one (id INT PRIMARY KEY, v TEXT) ENGINE=InnoDB;
    CREATE TABLE extremes (id BIGINT UNSIGNED PRIMARY KEY, v VARCHAR(20)) ENGINE=InnoDB;
    INSERT INTO extremes VALUES (0, 'zero'), (1, 'one'), (9223372036854775807, 'max signed'), (18446744073709551614, 'max-1'), (18446744073709551615, 'max');
    CREATE TABLE negatives (id INT PRIMARY KEY, v INT) ENGINE=InnoDB;
    INSERT INTO negatives SELECT CAST(seq AS SIGNED) - 10, seq FROM seq_1_to_20;
    CREATE TABLE no_pk (a INT NULL, b VARCHAR(20) NULL) ENGINE=InnoDB;
    INSERT INTO no_pk VALUES (1, 'dup'), (1, 'dup'), (NULL, NULL), (2, '\\\\N'), (3, '');
    CREATE TABLE uniq_only (code INT NOT NULL, v CHAR(1), UNIQUE KEY (code)) ENGINE=InnoDB;
    INSERT INTO uniq_only VALUES (5, 'a'), (4, 'b'), (3, 'c'), (2, 'd'), (1, 'e');
    CREATE TABLE composite (a INT, b INT, PRIMARY KEY (a, b)) ENGINE=InnoDB;
    INSERT INTO composite VALUES (1, 1), (1, 2), (2, 1), (2, 2), (3, 1);
    CREATE TABLE skewed (id INT PRIMARY KEY, v INT) ENGINE=InnoDB;
    INSERT INTO skewed SELECT seq, seq FROM seq_1_to_20;
    INSERT INTO skewed VALUES (1000000, 0);
    CREATE TABLE wide (id INT PRIMARY KEY, body BLOB) ENGINE=InnoDB;
    INSERT INTO wide SELECT seq, REPEAT(CHAR(64 + seq), 1000) FROM seq_1_to_12;
    CREATE TABLE wide_no_key (body BLOB) ENGINE=InnoDB;
    INSERT INTO wide_no_key SELECT body FROM wide;
    ANALYZE TABLE wide,  extremes, negatives, uniq_only, composite, skewed;
  `);
  await admin.query('SELECT NEXTVAL(shop_innodb.ticket), NEXTVAL(shop_innodb.ticket)');
  await admin.query('USE shop');
}, 120_000);

afterAll(async () => {
  await admin?.end();
  await stopAllMariaDb();
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('takeLogicalSnapshot + validateLogicalSnapshot', () => {
  it('dumps the seeded shop in chunks whose rows and digests equal the source, and validation passes', async () => {
    // Prepare
    const ctx = await context({ databases: ['shop'], parallelism: 3, chunkRows: 3_000 });
    const reader = await openDataConnection(ctx.config);

    // Act
    const taken = await takeLogicalSnapshot(ctx, spoolSink(ctx.spoolDir));
    const checks = await validateLogicalSnapshot(snapshotRef(ctx, taken), new ArtifactReader(ctx.spoolDir, undefined));

    // Assess
    try {
      expect(checks.map((c) => [c.name, c.ok])).toEqual([['schema-present', true], ['tables-present', true], ['rows-read-back', true]]);
      expect(taken.facts.databases).toEqual(['shop']);
      expect(taken.facts.tables.map((t) => t.table)).toEqual(['audit_log', 'big', 'blobs', 'customers', 'no_pk', 'orders']);
      for (const t of taken.facts.tables) {
        const fromSource = await digestTable(reader, t);
        expect({ table: t.table, rows: t.rows, digest: t.digest }).toEqual({ table: t.table, ...fromSource });
      }
      const big = taken.facts.tables.find((t) => t.table === 'big')!;
      expect(big.rows).toBe(20_000);
      expect(big.chunks).toEqual(Array.from({ length: 7 }, (_, i) => chunkArtifact('shop', 'big', i)));
      expect(taken.facts.tables.find((t) => t.table === 'audit_log')).toMatchObject({ engine: 'MyISAM', rows: 50 });
      const names = taken.artifacts.map((a) => a.name);
      expect(names).toEqual(expect.arrayContaining([schemaArtifact('shop'), postSchemaArtifact('shop'), ...taken.facts.tables.flatMap((t) => t.chunks)]));
      expect(new Set(names).size).toBe(names.length);
      expect(taken.facts.schema).toEqual([{ database: 'shop', pre: schemaArtifact('shop'), post: postSchemaArtifact('shop') }]);
    } finally {
      await reader.end();
    }
  });

  it('holds FLUSH TABLES WITH READ LOCK while MyISAM tables are dumped, and reports the time', async () => {
    // Prepare
    const ctx = await context({ databases: ['shop'], parallelism: 2 });

    // Act
    const taken = await takeLogicalSnapshot(ctx, spoolSink(ctx.spoolDir));

    // Assess
    expect(taken.consistency).toMatchObject({ flavor: 'mariadb', lock: 'flush-tables-with-read-lock', binlogEnabled: true });
    expect(taken.consistency.lockMs).toEqual(expect.any(Number));
    expect(taken.consistency.lockMs).toBeGreaterThan(0);
    expect(taken.consistency.lockMs).toBeLessThan(30_000);
    await admin.query('SET SESSION lock_wait_timeout = 5'); // a lock left behind fails the insert instead of hanging
    const [inserted] = await admin.query("INSERT INTO shop.audit_log (message) VALUES ('after backup')") as [{ affectedRows: number }, unknown];
    expect(inserted.affectedRows).toBe(1);
    await admin.query("DELETE FROM shop.audit_log WHERE message = 'after backup'");
  });

  it('blocks commits with BACKUP STAGE only when every table is InnoDB, and records the binlog position and GTID the server reports', async () => {
    // Prepare
    const ctx = await context({ databases: ['shop_innodb'], parallelism: 4, chunkRows: 1_000 });
    const [status] = await query<{ File: string; Position: number | string }>('SHOW MASTER STATUS');
    const [{ gtid }] = await query<{ gtid: string }>('SELECT @@GLOBAL.gtid_binlog_pos AS gtid');

    // Act
    const taken = await takeLogicalSnapshot(ctx, spoolSink(ctx.spoolDir));
    const checks = await validateLogicalSnapshot(snapshotRef(ctx, taken), new ArtifactReader(ctx.spoolDir, undefined));

    // Assess
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(taken.consistency).toMatchObject({
      lock: 'backup-stage', binlogEnabled: true, binlogFile: status.File, binlogPosition: Number(status.Position), gtid, verifiedWorkers: 4,
    });
    expect(taken.consistency.lockMs).toBeGreaterThanOrEqual(0);
    expect(taken.consistency.lockMs).toBeLessThan(30_000);
    expect(taken.facts.tables.map((t) => t.table)).not.toContain('ticket'); // a sequence has no rows to dump
    const [after] = await query<{ File: string; Position: number | string }>('SHOW MASTER STATUS');
    expect({ file: after.File, position: Number(after.Position) }).toEqual({ file: status.File, position: Number(status.Position) });
  });

  it('cuts integer keys into ranges up to their extremes, never more than chunkRows rows in a chunk, and keeps empty tables as one empty chunk', async () => {
    // Prepare
    const ctx = await context({ databases: ['edge'], parallelism: 2, chunkRows: 2 });
    const reader = await openDataConnection(ctx.config);

    // Act
    const taken = await takeLogicalSnapshot(ctx, spoolSink(ctx.spoolDir));
    const checks = await validateLogicalSnapshot(snapshotRef(ctx, taken), new ArtifactReader(ctx.spoolDir, undefined));

    // Assess
    try {
      expect(checks.filter((c) => !c.ok)).toEqual([]);
      const byName = new Map(taken.facts.tables.map((t) => [t.table, t]));
      const ranges = (table: string, n: number) => Array.from({ length: n }, (_, i) => chunkArtifact('edge', table, i));
      const parts = (table: string, n: number) => Array.from({ length: n }, (_, i) => chunkArtifact('edge', table, 0, i));
      expect(byName.get('extremes')).toMatchObject({ rows: 5, chunks: ranges('extremes', 3) });
      expect(byName.get('negatives')).toMatchObject({ rows: 20, chunks: ranges('negatives', 10) });
      expect(byName.get('empty_one')).toMatchObject({ rows: 0, chunks: ranges('empty_one', 1) });
      expect(byName.get('no_pk')).toMatchObject({ rows: 5, chunks: parts('no_pk', 3) });
      expect(byName.get('composite')).toMatchObject({ rows: 5, chunks: parts('composite', 3) });
      expect(byName.get('uniq_only')).toMatchObject({ rows: 5, chunks: ranges('uniq_only', 3) });
      // 21 rows, all but one in the first of ~11 equal-width ranges: that range is written in parts
      const skewed = byName.get('skewed')!;
      expect(skewed.rows).toBe(21);
      expect(skewed.chunks.slice(0, 10)).toEqual(parts('skewed', 10));
      const lines = async (chunk: string) => decompress(await readFile(path.join(ctx.spoolDir, chunk))).toString().split('\n').filter(Boolean);
      expect(await lines(chunkArtifact('edge', 'uniq_only', 0))).toEqual(['1\te', '2\td']); // cut by key, in key order
      expect(await lines(chunkArtifact('edge', 'skewed', 0, 1))).toEqual(['3\t3', '4\t4']);
      expect(await lines(skewed.chunks.at(-1)!)).toEqual(['1000000\t0']);
      for (const t of taken.facts.tables) {
        for (const chunk of t.chunks) expect((await lines(chunk)).length).toBeLessThanOrEqual(2);
      }
      for (const t of taken.facts.tables) expect(t.digest).toBe((await digestTable(reader, t)).digest);
    } finally {
      await reader.end();
    }
  });

  it('cuts wide rows by bytes too: a chunk ends with the row that reaches chunkBytes', async () => {
    // Prepare: 12 rows of ~1 KB, chunks of 2 500 bytes: 3 rows each
    const ctx = await context({ databases: ['edge'], parallelism: 2, chunkRows: 1_000, chunkBytes: 2_500 });

    // Act
    const taken = await takeLogicalSnapshot(ctx, spoolSink(ctx.spoolDir));
    const checks = await validateLogicalSnapshot(snapshotRef(ctx, taken), new ArtifactReader(ctx.spoolDir, undefined));

    // Assess
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    const byName = new Map(taken.facts.tables.map((t) => [t.table, t]));
    const rowsIn = async (chunk: string) => decompress(await readFile(path.join(ctx.spoolDir, chunk))).toString().split('\n').filter(Boolean).length;
    for (const table of ['wide', 'wide_no_key']) {
      const t = byName.get(table)!;
      expect(t.rows).toBe(12);
      const counts = await Promise.all(t.chunks.map(rowsIn));
      expect(counts.every((n) => n <= 3)).toBe(true);
      expect(counts.reduce((a, b) => a + b, 0)).toBe(12);
    }
    expect(byName.get('wide_no_key')!.chunks).toEqual(Array.from({ length: 4 }, (_, i) => chunkArtifact('edge', 'wide_no_key', 0, i)));
    expect(byName.get('wide')!.chunks.length).toBeGreaterThan(1); // cut into key ranges, not one stream
  });

  it('captures the database, tables, routines, views (dependencies first), triggers and events with their session settings', async () => {
    // Prepare
    const ctx = await context({ databases: ['shop', 'shop_innodb'], parallelism: 2 });

    // Act
    await takeLogicalSnapshot(ctx, spoolSink(ctx.spoolDir));
    const pre = await statements(ctx, schemaArtifact('shop'));
    const post = await statements(ctx, postSchemaArtifact('shop'));
    const innodbPre = await statements(ctx, schemaArtifact('shop_innodb'));
    const innodbPost = await statements(ctx, postSchemaArtifact('shop_innodb'));

    // Assess
    expect(pre[0]).toMatch(/^CREATE DATABASE `shop` .*CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci/);
    expect(pre.slice(1).map((s) => /^CREATE TABLE `(\w+)`/.exec(s)?.[1])).toEqual(['audit_log', 'big', 'blobs', 'customers', 'no_pk', 'orders']);
    expect(pre.find((s) => s.startsWith('CREATE TABLE `orders`'))).toContain('CONSTRAINT `fk_customer` FOREIGN KEY');
    const creates = post.filter((s) => !s.startsWith('SET '));
    expect(creates.map((s) => /^CREATE (?:ALGORITHM=\w+ )?DEFINER=\S+ (?:SQL SECURITY \w+ )?(FUNCTION|PROCEDURE|VIEW|TRIGGER|EVENT) `?(\w+)/.exec(s)?.slice(1).join(' ')))
      .toEqual(['FUNCTION with_tax', 'PROCEDURE mark_paid', 'VIEW customer_totals', 'TRIGGER orders_audit', 'EVENT nightly']);
    const before = (create: string) => post.slice(0, post.indexOf(create)).reverse();
    const trigger = creates.find((s) => s.includes('TRIGGER orders_audit'))!;
    expect(before(trigger).slice(0, 3).reverse()).toEqual([
      expect.stringMatching(/^SET SESSION sql_mode = 'IGNORE_SPACE,STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'$/),
      "SET SESSION character_set_client = 'utf8mb4'",
      "SET SESSION collation_connection = 'utf8mb4_unicode_ci'",
    ]);
    const event = creates.find((s) => s.includes('EVENT `nightly`'))!;
    expect(before(event)[0]).toBe("SET SESSION time_zone = 'SYSTEM'");
    expect(event).toContain('DISABLE');
    const view = creates.find((s) => s.includes('VIEW `customer_totals`'))!;
    expect(view).toContain('from (`customers` `c` left join `orders` `o`'); // same-database names unqualified
    expect(before(view)[2]).toBe("SET SESSION sql_mode = ''");
    // A sequence restarts after its cached range (start 100 + cache 1000 × increment 5): never reissues a value.
    expect(innodbPre).toEqual(expect.arrayContaining([expect.stringMatching(/^CREATE SEQUENCE `ticket` start with 100 .*increment by 5/), 'DO SETVAL(`ticket`, 5100, 0, 0)']));
    const views = innodbPost.filter((s) => / VIEW `/.test(s)).map((s) => / VIEW `(\w+)`/.exec(s)?.[1]);
    expect(views).toEqual(['customer_totals', 'v_base', 'a_on_base']);
  });

  it('captures a schema of more tables than one query asks the definitions of, each once, in order, in few queries', async () => {
    // Prepare: SHOW_CREATE_BATCH + 2 tables, so the last batch holds two
    const names = Array.from({ length: SHOW_CREATE_BATCH + 2 }, (_, i) => `t${String(i).padStart(3, '0')}`);
    await admin.query(`CREATE DATABASE many_tables; ${names.map((n, i) => `CREATE TABLE many_tables.${n} (id INT PRIMARY KEY, c${i} VARCHAR(${i + 1}))`).join('; ')}`);
    const ctx = await context({ databases: ['many_tables'], parallelism: 1 });

    // Act
    const { statements: logged } = await withGeneralLog(() => takeLogicalSnapshot(ctx, spoolSink(ctx.spoolDir)));
    const pre = await statements(ctx, schemaArtifact('many_tables'));

    // Assess
    expect(pre.slice(1).map((s) => /^CREATE TABLE `(\w+)` \(\n {2}`id` int\(11\) NOT NULL,\n {2}`c(\d+)` varchar\((\d+)\)/.exec(s)?.slice(1).join(' ')))
      .toEqual(names.map((n, i) => `${n} ${i} ${i + 1}`));
    expect(logged.filter((q) => q.startsWith('SHOW CREATE TABLE')).map((q) => q.split(';').length)).toEqual([SHOW_CREATE_BATCH, 2]);
    await admin.query('DROP DATABASE many_tables');
  });

  it('captures accounts and grants with includeUsers, never root', async () => {
    // Prepare
    await admin.query("CREATE USER 'app'@'%' IDENTIFIED BY 'secret'; GRANT SELECT, INSERT ON shop.* TO 'app'@'%'; CREATE ROLE reporting; GRANT SELECT ON shop.orders TO reporting; GRANT reporting TO 'app'@'%'");
    const ctx = await context({ databases: ['shop'], includeUsers: true, parallelism: 1 });

    // Act
    const taken = await takeLogicalSnapshot(ctx, spoolSink(ctx.spoolDir));
    const users = await statements(ctx, USERS_ARTIFACT);
    await admin.query("DROP USER 'app'@'%'; DROP ROLE reporting");

    // Assess
    expect(taken.facts.users).toBe(USERS_ARTIFACT);
    expect(users[0]).toBe('CREATE ROLE IF NOT EXISTS `reporting`');
    expect(users[1]).toMatch(/^CREATE USER IF NOT EXISTS `app`@`%` IDENTIFIED BY PASSWORD '\*[0-9A-F]{40}'/);
    expect(users).toEqual(expect.arrayContaining([
      'GRANT SELECT ON `shop`.`orders` TO `reporting`',
      'GRANT `reporting` TO `app`@`%`',
      'GRANT SELECT, INSERT ON `shop`.* TO `app`@`%`',
    ]));
    expect(users.join('\n')).not.toMatch(/root|mariadb\.sys/);
  });

  it('reports a flipped byte in a chunk as failed checks instead of throwing', async () => {
    // Prepare
    const ctx = await context({ databases: ['shop'], parallelism: 2, chunkRows: 5_000 });
    const taken = await takeLogicalSnapshot(ctx, spoolSink(ctx.spoolDir));
    const chunk = path.join(ctx.spoolDir, chunkArtifact('shop', 'big', 1));
    const bytes = await readFile(chunk);
    bytes[Math.floor(bytes.length / 2)] ^= 0x01;
    await writeFile(chunk, bytes);
    const missingSchema = { ...snapshotRef(ctx, taken), artifacts: taken.artifacts.filter((a) => a.name !== postSchemaArtifact('shop')) };

    // Act
    const checks = await validateLogicalSnapshot(snapshotRef(ctx, taken), new ArtifactReader(ctx.spoolDir, undefined));
    const withoutPost = await validateLogicalSnapshot(missingSchema, new ArtifactReader(ctx.spoolDir, undefined));

    // Assess
    expect(checks.map((c) => [c.name, c.ok])).toEqual([['schema-present', true], ['tables-present', true], ['rows-read-back', false]]);
    expect(checks.find((c) => c.name === 'rows-read-back')?.detail).toMatch(/^shop\.big: .*000001\.tsv\.zst: artifact .* does not match its checksum/);
    expect(withoutPost.find((c) => c.name === 'schema-present')).toMatchObject({ ok: false, detail: expect.stringContaining('shop.post.sql is not in the snapshot') });
  });

  it('retries a chunk whose write failed, alone, and the result is still exact', async () => {
    // Prepare
    const ctx = await context({ databases: ['shop'], parallelism: 2, chunkRows: 5_000 });
    const calls = new Map<string, number>();
    const failing = chunkArtifact('shop', 'big', 2);
    const stage: LogicalSnapshotOptions['stage'] = (name) => {
      calls.set(name, (calls.get(name) ?? 0) + 1);
      let seen = 0;
      return new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          seen += chunk.length;
          const fail = name === failing && calls.get(name) === 1 && seen > 1_000;
          callback(fail ? Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }) : null, chunk);
        },
      });
    };

    // Act
    const taken = await takeLogicalSnapshot(ctx, spoolSink(ctx.spoolDir), { stage });
    const checks = await validateLogicalSnapshot(snapshotRef(ctx, taken), new ArtifactReader(ctx.spoolDir, undefined));

    // Assess
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(calls.get(failing)).toBe(2);
    expect([...calls].filter(([name, n]) => name !== failing && n !== 1)).toEqual([]);
    expect(taken.facts.tables.find((t) => t.table === 'big')?.rows).toBe(20_000);
  });

  it('reads small tables many to a query, and retries one whose chunk write failed alone: the result is still exact', async () => {
    // Prepare: the first write of customers' chunk fails; the statements the server runs are logged
    const ctx = await context({ databases: ['shop_innodb'], parallelism: 1 });
    const failing = chunkArtifact('shop_innodb', 'customers', 0);
    const calls = new Map<string, number>();
    const stage: LogicalSnapshotOptions['stage'] = (name) => {
      calls.set(name, (calls.get(name) ?? 0) + 1);
      return new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          const fail = name === failing && calls.get(name) === 1;
          callback(fail ? Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' }) : null, chunk);
        },
      });
    };

    // Act
    const { result: taken, statements: logged } = await withGeneralLog(() => takeLogicalSnapshot(ctx, spoolSink(ctx.spoolDir), { stage }));
    const checks = await validateLogicalSnapshot(snapshotRef(ctx, taken), new ArtifactReader(ctx.spoolDir, undefined));

    // Assess
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(calls.get(failing)).toBe(2);
    const readsOf = (table: string) => logged.filter((q) => q.includes(`FROM \`shop_innodb\`.\`${table}\``));
    const [together, alone] = [...readsOf('customers')].sort((a, b) => b.length - a.length);
    expect(readsOf('customers')).toHaveLength(2);
    expect(together.split(';').length).toBeGreaterThan(1);
    expect(alone.split(';')).toHaveLength(1);
    expect(readsOf('orders')).toEqual([together]); // read in the same query
    expect(taken.facts.tables.find((t) => t.table === 'customers')?.rows).toBe(Number((await query<{ n: string }>('SELECT COUNT(*) AS n FROM shop_innodb.customers'))[0].n));
  });

  it('holds every table it backs up from the moment its read view opens: two tables swapped by RENAME right then wait for the backup, which records each as it was', async () => {
    // Prepare: a big table read first, then two tables of one shape; the rename sent as the read view opens
    await query('CREATE DATABASE swapped');
    await query('CREATE TABLE swapped.big (id INT PRIMARY KEY, pad CHAR(100) NOT NULL) ENGINE=InnoDB');
    await query("INSERT INTO swapped.big SELECT seq, REPEAT('x', 100) FROM seq_1_to_200000");
    await query('ANALYZE TABLE swapped.big');
    await query('CREATE TABLE swapped.t1 (id INT PRIMARY KEY, v VARCHAR(10)) ENGINE=InnoDB');
    await query("INSERT INTO swapped.t1 VALUES (1, 'one')");
    await query('CREATE TABLE swapped.t2 (id INT PRIMARY KEY, v VARCHAR(10)) ENGINE=InnoDB');
    await query("INSERT INTO swapped.t2 VALUES (2, 'two'), (3, 'two')");
    const renamer = await source.connect();
    let renaming: Promise<unknown> | undefined;
    const rename = () => renamer.query('RENAME TABLE swapped.t1 TO swapped.tmp, swapped.t2 TO swapped.t1, swapped.tmp TO swapped.t2');
    // Two workers: one that asked for a table's lock only as it came to read it would queue behind the waiting rename, which waits for the other's (a hang).
    const ctx = { ...(await context({ databases: ['swapped'], parallelism: 2 })), logger: { ...silentLogger, info: (message: string) => { if (message === 'mysql backup: consistent snapshot open') renaming = rename(); } } };

    // Act
    const taken = await takeLogicalSnapshot(ctx, spoolSink(ctx.spoolDir));
    await renaming;
    await renamer.end();

    // Assess: each table as it was at the backup's point; the rename done once the backup ended
    const rowsOf = (table: string) => taken.facts.tables.find((t) => t.table === table)?.rows;
    expect([rowsOf('t1'), rowsOf('t2')]).toEqual([1, 2]);
    expect(await query('SELECT id FROM swapped.t1 ORDER BY id')).toEqual([{ id: 2 }, { id: 3 }]);
    await query('DROP DATABASE swapped');
  }, 120_000);

  it('writes each small table as one frame, read with others or alone, however many reads of the socket its rows came in', async () => {
    // Prepare: tables of ~150 KB of rows each (a read of the socket holds 64 KB at most), small enough to be read together
    await query('CREATE DATABASE small_many');
    for (let t = 1; t <= 6; t += 1) {
      await query(`CREATE TABLE small_many.t${t} (id INT PRIMARY KEY, body VARCHAR(200) NOT NULL) ENGINE=InnoDB`);
      await query(`INSERT INTO small_many.t${t} SELECT seq, REPEAT(MD5(seq * ${t}), 4) FROM seq_1_to_1000`);
      await query(`ANALYZE TABLE small_many.t${t}`);
    }
    const ctx = await context({ databases: ['small_many'], parallelism: 1 });

    // Act
    const { result: taken, statements: logged } = await withGeneralLog(() => takeLogicalSnapshot(ctx, spoolSink(ctx.spoolDir)))
      .finally(() => query('DROP DATABASE small_many'));

    // Assess
    expect(logged.filter((q) => q.includes('FROM `small_many`.`t1`'))[0].split(';').length).toBeGreaterThan(1); // read together
    const framesOf = async (name: string) => {
      let frames = 0;
      for await (const _frame of chunkFileLines(path.join(ctx.spoolDir, name))) frames += 1;
      return frames;
    };
    const chunks = taken.facts.tables.flatMap((t) => t.chunks);
    expect(chunks).toHaveLength(6);
    expect(await Promise.all(chunks.map(framesOf))).toEqual(Array(6).fill(1));
    expect(taken.facts.tables.map((t) => t.rows)).toEqual(Array(6).fill(1000));
  });

  it('holds the read lock only while the non-transactional tables are dumped, also one cut into key ranges (no InnoDB table is read under it)', async () => {
    // Prepare: one worker; the MyISAM audit_log cut into ranges of 2 rows; the order of chunk writes and the lock's release
    const events: string[] = [];
    const ctx = { ...(await context({ databases: ['shop'], parallelism: 1, chunkRows: 2 })), logger: { ...silentLogger, info: (message: string) => { if (message === 'mysql backup: lock released') events.push('released'); } } };
    const stage: LogicalSnapshotOptions['stage'] = (name) => {
      events.push(name.startsWith('data/shop/audit_log.') ? 'myisam' : 'innodb');
      return new Transform({ transform: (chunk: Buffer, _encoding, callback) => callback(null, chunk) });
    };

    // Act
    await takeLogicalSnapshot(ctx, spoolSink(ctx.spoolDir), { stage });

    // Assess
    const released = events.indexOf('released');
    expect(events.filter((e) => e === 'myisam').length).toBeGreaterThan(1);
    expect(released).toBeGreaterThan(0);
    expect(events.slice(0, released).filter((e) => e === 'innodb')).toEqual([]);
    expect(events.slice(released).filter((e) => e === 'myisam')).toEqual([]);
  });

  it('starts the next small table on a worker before the last one\'s chunk is written (a slow store waits less)', async () => {
    // Prepare: one worker; the first small table's chunk is held, once compressed, until another chunk's write has begun
    const ctx = await context({ databases: ['shop_innodb'], parallelism: 1 });
    let writing = 0;
    let mostAtOnce = 0;
    let held: Promise<void> | undefined;
    let release: () => void = () => undefined;
    const stage: LogicalSnapshotOptions['stage'] = (name) => {
      writing += 1;
      mostAtOnce = Math.max(mostAtOnce, writing);
      release();
      const hold = held === undefined && !name.includes('/big/')
        ? (held = new Promise<void>((resolve) => {
          release = resolve;
          setTimeout(resolve, 10_000).unref(); // nothing else begins: carry on, so the test fails rather than hangs
        }))
        : undefined;
      return new Transform({
        transform: (chunk: Buffer, _encoding, callback) => callback(null, chunk),
        flush(callback) {
          const done = () => {
            writing -= 1;
            callback();
          };
          if (hold) void hold.then(done);
          else done();
        },
      });
    };

    // Act
    const taken = await takeLogicalSnapshot(ctx, spoolSink(ctx.spoolDir), { stage });
    const checks = await validateLogicalSnapshot(snapshotRef(ctx, taken), new ArtifactReader(ctx.spoolDir, undefined));

    // Assess
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(mostAtOnce).toBeGreaterThan(1);
  });

  it('fails with a TransientError when a worker connection is lost, and leaves no lock behind', async () => {
    // Prepare
    // Prepare: the workers are killed as the first chunk's write begins, and no chunk is written
    // before they are dead — so the tables a worker has not yet started (more than it takes at once:
    // `big` is cut into 40 ranges) are read on a dead connection.
    const ctx = await context({ databases: ['shop'], parallelism: 2, chunkRows: 500 });
    let killed = 0;
    const killWorkers = async () => {
      const [rows] = await admin.query('SELECT trx_mysql_thread_id AS id FROM information_schema.INNODB_TRX WHERE trx_mysql_thread_id <> CONNECTION_ID()');
      for (const { id } of rows as Array<{ id: number }>) await admin.query(`KILL CONNECTION ${Number(id)}`);
      killed = (rows as unknown[]).length;
    };
    let killing: Promise<void> | undefined;
    const stage: LogicalSnapshotOptions['stage'] = () => {
      const dead = (killing ??= killWorkers());
      return new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          dead.then(() => callback(null, chunk), callback);
        },
      });
    };

    // Act
    const attempt = takeLogicalSnapshot(ctx, spoolSink(ctx.spoolDir), { stage });

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(TransientError);
    await expect(attempt).rejects.toMatchObject({ code: 'MYSQL_UNAVAILABLE', message: expect.stringContaining('cannot be re-joined') });
    await killing; // the snapshot may fail on the first worker's death, before the second KILL returns
    expect(killed).toBe(2);
    await admin.query('SET SESSION lock_wait_timeout = 5');
    const [inserted] = await admin.query("INSERT INTO shop.audit_log (message) VALUES ('not locked')") as [{ affectedRows: number }, unknown];
    expect(inserted.affectedRows).toBe(1);
    await admin.query("DELETE FROM shop.audit_log WHERE message = 'not locked'");
  });
});

describe('names the server tells apart that information_schema does not', () => {
  it('backs up a database without the tables and objects of one whose name differs only by case or accent', async () => {
    // Prepare: Plain and plain, café and cafe — four databases on a server that keeps case (Linux)
    await admin.query(`
      CREATE DATABASE \`Plain\`; CREATE TABLE \`Plain\`.upper_t (id INT PRIMARY KEY); CREATE VIEW \`Plain\`.upper_v AS SELECT id FROM \`Plain\`.upper_t;
      CREATE PROCEDURE \`Plain\`.upper_p() SELECT 1;
      CREATE DATABASE plain; CREATE TABLE plain.lower_t (id INT PRIMARY KEY); CREATE VIEW plain.lower_v AS SELECT id FROM plain.lower_t;
      CREATE PROCEDURE plain.lower_p() SELECT 2; CREATE TRIGGER plain.lower_tr BEFORE INSERT ON plain.lower_t FOR EACH ROW SET NEW.id = NEW.id;
      CREATE DATABASE \`café\`; CREATE TABLE \`café\`.accented (id INT PRIMARY KEY);
      CREATE DATABASE cafe; CREATE TABLE cafe.plain_e (id INT PRIMARY KEY); INSERT INTO cafe.plain_e VALUES (1), (2)`);
    const upper = await context({ databases: ['Plain'], parallelism: 1 });
    const unaccented = await context({ databases: ['cafe'], parallelism: 1 });

    // Act
    const taken = await takeLogicalSnapshot(upper, spoolSink(upper.spoolDir));
    const checks = await validateLogicalSnapshot(snapshotRef(upper, taken), new ArtifactReader(upper.spoolDir, undefined));
    const cafe = await takeLogicalSnapshot(unaccented, spoolSink(unaccented.spoolDir));

    // Assess
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(taken.facts.tables.map((t) => `${t.database}.${t.table}`)).toEqual(['Plain.upper_t']);
    expect((await statements(upper, schemaArtifact('Plain'))).filter((st) => st.startsWith('CREATE TABLE'))).toEqual([expect.stringMatching(/^CREATE TABLE `upper_t`/)]);
    const post = (await statements(upper, postSchemaArtifact('Plain'))).filter((st) => st.startsWith('CREATE'));
    expect(post.map((st) => /(PROCEDURE|VIEW|TRIGGER) `(\w+)`/.exec(st)?.slice(1).join(' '))).toEqual(['PROCEDURE upper_p', 'VIEW upper_v']);
    expect(cafe.facts.tables.map((t) => [t.database, t.table, t.rows])).toEqual([['cafe', 'plain_e', 2]]);
    await admin.query('DROP DATABASE `Plain`; DROP DATABASE plain; DROP DATABASE `café`; DROP DATABASE cafe');
  });
});

describe('errors an operator can act on', () => {
  beforeAll(async () => {
    await admin.query(`
      CREATE USER 'reader'@'%' IDENTIFIED BY 'pw'; GRANT SELECT ON shop.* TO 'reader'@'%';
      CREATE USER 'nobody'@'%' IDENTIFIED BY 'pw';
      CREATE USER 'noreload'@'%' IDENTIFIED BY 'pw'; GRANT SELECT, SHOW VIEW, TRIGGER, EVENT, BINLOG MONITOR ON *.* TO 'noreload'@'%';
      CREATE USER 'dbonly'@'%' IDENTIFIED BY 'pw'; GRANT SELECT, SHOW VIEW, TRIGGER, EVENT ON shop.* TO 'dbonly'@'%'; GRANT RELOAD, BINLOG MONITOR ON *.* TO 'dbonly'@'%';
      CREATE USER 'backup'@'%' IDENTIFIED BY 'pw'; GRANT SELECT, SHOW VIEW, TRIGGER, EVENT, RELOAD, BINLOG MONITOR ON *.* TO 'backup'@'%';
      CREATE ROLE backup_role; GRANT SELECT, SHOW VIEW, TRIGGER, EVENT, RELOAD, BINLOG MONITOR ON *.* TO backup_role;
      CREATE USER 'viarole'@'%' IDENTIFIED BY 'pw'; GRANT backup_role TO 'viarole'@'%'; SET DEFAULT ROLE backup_role FOR 'viarole'@'%';
    `);
  });

  it('a wrong password is PermanentError AUTH_FAILED (MYSQL_AUTH)', async () => {
    // Prepare
    const ctx = await context({ user: 'root', password: 'wrong' });

    // Act
    const attempt = takeLogicalSnapshot(ctx, spoolSink(ctx.spoolDir));

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(PermanentError);
    await expect(attempt).rejects.toMatchObject({ code: 'AUTH_FAILED', message: expect.stringContaining('authentication failed (MYSQL_AUTH): the server refused the login') });
  });

  it('an unreachable port is TransientError MYSQL_UNAVAILABLE', async () => {
    // Prepare
    const ctx = await context({ port: await freePort(), connectTimeoutMs: 2_000 });

    // Act
    const attempt = takeLogicalSnapshot(ctx, spoolSink(ctx.spoolDir));

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(TransientError);
    await expect(attempt).rejects.toMatchObject({ code: 'MYSQL_UNAVAILABLE', message: expect.stringContaining('ECONNREFUSED') });
  });

  it('a user with only SELECT on the database is told every privilege it lacks before anything is locked', async () => {
    // Prepare
    const ctx = await context({ user: 'reader', password: 'pw', databases: ['shop'] });

    // Act
    const attempt = takeLogicalSnapshot(ctx, spoolSink(ctx.spoolDir));

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(PermanentError);
    await expect(attempt).rejects.toMatchObject({
      code: 'MYSQL_PRIVILEGES',
      message: expect.stringContaining('missing privileges SHOW VIEW, TRIGGER, EVENT on shop; SELECT on mysql.proc: without them the server hides'),
    });
  });

  it('a user without RELOAD is told that RELOAD is missing', async () => {
    // Prepare
    const ctx = await context({ user: 'noreload', password: 'pw', databases: ['shop'] });

    // Act
    const attempt = takeLogicalSnapshot(ctx, spoolSink(ctx.spoolDir));

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(PermanentError);
    await expect(attempt).rejects.toMatchObject({ code: 'MYSQL_PRIVILEGES', message: expect.stringContaining('missing privilege RELOAD') });
  });

  it('a user who cannot see the database, or any database, gets a clear PermanentError', async () => {
    // Prepare
    const named = await context({ user: 'nobody', password: 'pw', databases: ['shop'] });
    const all = await context({ user: 'nobody', password: 'pw' });

    // Act
    const namedError = await takeLogicalSnapshot(named, spoolSink(named.spoolDir)).catch((error: unknown) => error);
    const allError = await takeLogicalSnapshot(all, spoolSink(all.spoolDir)).catch((error: unknown) => error);

    // Assess
    expect(namedError).toMatchObject({ name: 'PermanentError', code: 'MYSQL_DATABASE_NOT_FOUND', message: expect.stringContaining('cannot see it') });
    expect(allError).toMatchObject({ name: 'PermanentError', code: 'MYSQL_NOTHING_TO_BACK_UP' });
  });

  it('a user who cannot see other definers\' routines is refused instead of silently missing them', async () => {
    // Prepare
    const ctx = await context({ user: 'dbonly', password: 'pw', databases: ['shop'] });

    // Act
    const attempt = takeLogicalSnapshot(ctx, spoolSink(ctx.spoolDir));

    // Assess
    await expect(attempt).rejects.toMatchObject({ name: 'PermanentError', code: 'MYSQL_PRIVILEGES', message: expect.stringMatching(/^missing privileges SELECT on mysql\.proc: /) });
  });

  it.each([
    ['granted directly', 'backup'],
    ['granted through a default role', 'viarole'],
  ])('the documented privileges are enough, %s', async (_label, user) => {
    // Prepare
    const ctx = await context({ user, password: 'pw', databases: ['shop', 'shop_innodb'], parallelism: 2 });

    // Act
    const taken = await takeLogicalSnapshot(ctx, spoolSink(ctx.spoolDir));
    const checks = await validateLogicalSnapshot(snapshotRef(ctx, taken), new ArtifactReader(ctx.spoolDir, undefined));
    const post = await statements(ctx, postSchemaArtifact('shop'));

    // Assess
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(taken.consistency.binlogFile).toEqual(expect.any(String));
    expect(post.filter((s) => /^CREATE DEFINER/.test(s))).toHaveLength(4); // 2 routines, trigger, event
  });

  it('a system database asked for by name is refused', async () => {
    // Prepare
    const ctx = await context({ databases: ['mysql'] });

    // Act
    const attempt = takeLogicalSnapshot(ctx, spoolSink(ctx.spoolDir));

    // Assess
    await expect(attempt).rejects.toMatchObject({ name: 'PermanentError', code: 'INVALID_INPUT' });
  });

  it('a database holding an unfinished restore\'s marker table is refused when named, left out of a backup of every database; a user database named Sys is not a system one', async () => {
    // Prepare: half_restored (marked), Sys (a user database on a server that keeps case); every other database excluded
    await admin.query(`CREATE DATABASE half_restored; CREATE TABLE half_restored.t (id INT PRIMARY KEY); CREATE TABLE half_restored.${MARKER_TABLE} (token VARCHAR(64));
      CREATE DATABASE \`Sys\`; CREATE TABLE \`Sys\`.settings (id INT PRIMARY KEY); INSERT INTO \`Sys\`.settings VALUES (7)`);
    const others = (await query<{ Database: string }>('SHOW DATABASES')).map((r) => r.Database).filter((d) => !['half_restored', 'Sys'].includes(d));
    const named = await context({ databases: ['half_restored'] });
    const everything = await context({ excludeDatabases: others, parallelism: 1 });

    // Act
    const attempt = takeLogicalSnapshot(named, spoolSink(named.spoolDir));
    const taken = await takeLogicalSnapshot(everything, spoolSink(everything.spoolDir));

    // Assess
    await expect(attempt).rejects.toMatchObject({ name: 'PermanentError', code: 'MYSQL_UNFINISHED_RESTORE', message: expect.stringContaining(`database half_restored holds table ${MARKER_TABLE}`) });
    expect(taken.facts.databases).toEqual(['Sys']);
    expect(taken.facts.tables.map((t) => [t.database, t.table, t.rows])).toEqual([['Sys', 'settings', 1]]);
    await admin.query('DROP DATABASE half_restored; DROP DATABASE `Sys`');
  });

  it('checks privileges on a database by its exact name: a grant on plain gives nothing on Plain', async () => {
    // Prepare: everything on plain, only SELECT on Plain (and the global privileges a backup needs)
    await admin.query(`CREATE DATABASE \`Plain\`; CREATE TABLE \`Plain\`.t (id INT PRIMARY KEY); CREATE DATABASE plain;
      CREATE USER 'casey'@'%' IDENTIFIED BY 'pw'; GRANT SELECT, SHOW VIEW, TRIGGER, EVENT ON plain.* TO 'casey'@'%'; GRANT SELECT ON \`Plain\`.* TO 'casey'@'%';
      GRANT RELOAD, BINLOG MONITOR ON *.* TO 'casey'@'%'; GRANT SELECT ON mysql.proc TO 'casey'@'%'`);
    const ctx = await context({ databases: ['Plain'], user: 'casey', password: 'pw' });

    // Act
    const attempt = takeLogicalSnapshot(ctx, spoolSink(ctx.spoolDir));

    // Assess
    await expect(attempt).rejects.toMatchObject({ code: 'MYSQL_PRIVILEGES', message: expect.stringMatching(/SHOW VIEW, TRIGGER, EVENT on Plain/) });
    await admin.query("DROP USER 'casey'@'%'; DROP DATABASE `Plain`; DROP DATABASE plain");
  });

  it('a column or table gone under the dump is DDL during the backup (transient), named; a server statement time limit is said as such, not as a lost connection', async () => {
    // Prepare: the server's own errors
    const errorOf = (sql: string) => admin.query(sql).then(() => undefined, (error: unknown) => error);
    const noColumn = await errorOf('SELECT `gone` FROM shop.customers');
    const noTable = await errorOf('SELECT * FROM shop.gone_table');
    const timedOut = await errorOf('SET STATEMENT max_statement_time = 0.01 FOR SELECT SLEEP(1)');

    // Act
    const column = dumpServerError('dumping shop.customers', noColumn);
    const table = dumpServerError('dumping shop.gone_table', noTable);
    const limit = dumpServerError('dumping shop.big', timedOut);

    // Assess
    expect(column).toMatchObject({ name: 'TransientError', code: 'MYSQL_SCHEMA_CHANGED', message: expect.stringMatching(/^dumping shop\.customers: a column of the table was dropped or renamed during the backup/) });
    expect(table).toMatchObject({ name: 'TransientError', code: 'MYSQL_SCHEMA_CHANGED', message: expect.stringMatching(/^dumping shop\.gone_table: the table disappeared during the backup/) });
    expect(limit).toMatchObject({ name: 'PermanentError', code: 'MYSQL_STATEMENT_TIMEOUT', message: expect.stringContaining('max_statement_time') });
  });

  it('dumps on sessions without the server\'s statement time limit', async () => {
    // Prepare: a limit of 1 ms for every statement on the server
    await admin.query('SET GLOBAL max_statement_time = 0.001');
    try {
      const ctx = await context({ databases: ['shop'], parallelism: 2, chunkRows: 5_000 });

      // Act
      const taken = await takeLogicalSnapshot(ctx, spoolSink(ctx.spoolDir));
      const checks = await validateLogicalSnapshot(snapshotRef(ctx, taken), new ArtifactReader(ctx.spoolDir, undefined));

      // Assess
      expect(checks.filter((c) => !c.ok)).toEqual([]);
      expect(taken.facts.tables.find((t) => t.table === 'big')?.rows).toBe(20_000);
    } finally {
      await admin.query('SET GLOBAL max_statement_time = 0');
    }
  });
});

describe('a server without binary logging', () => {
  it('takes a consistent dump without coordinates and, with one worker, under no lock but the moment of BACKUP STAGE that holds its tables', async () => {
    // Prepare
    const dataDir = path.join(await tempDir('nobinlog'), 'data');
    await initializeDataDir(dataDir);
    trackServerPidFile(`${dataDir}.pid`);
    const server = await startServer({ dataDir, port: await freePort(), extraArgs: ['--skip-log-bin'] });
    const ctx = await context({ parallelism: 1 }, { config: () => ({ host: server.host, port: server.port, user: 'root', password: '' }) });
    const seed = await openDataConnection({ host: server.host, port: server.port, user: 'root', connectTimeoutMs: 5_000 });
    await seed.query('CREATE DATABASE plain; CREATE TABLE plain.t (id INT PRIMARY KEY, v VARCHAR(10)); INSERT INTO plain.t VALUES (1, \'a\'), (2, \'b\')');
    await seed.end();

    // Act
    const taken = await takeLogicalSnapshot(ctx, spoolSink(ctx.spoolDir));
    const checks = await validateLogicalSnapshot(snapshotRef(ctx, taken), new ArtifactReader(ctx.spoolDir, undefined));
    await server.stop();

    // Assess
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(taken.consistency).toEqual({
      flavor: 'mariadb', serverVersion: expect.stringContaining('MariaDB'), lock: 'backup-stage', lockMs: expect.any(Number), binlogEnabled: false, snapshotAt: expect.any(String),
    });
    expect(taken.facts.tables).toEqual([expect.objectContaining({ database: 'plain', table: 't', rows: 2 })]);
  });
});

describe('schema statement framing', () => {
  it('round-trips any statement text, even one containing the marker', () => {
    // Prepare
    const tricky = [
      'CREATE TABLE `t` (`a` int)',
      "CREATE PROCEDURE p() BEGIN SELECT '\n-- dbbackup:statement 12\nx'; END",
      'SELECT \'日本語 🚀\'',
      '',
      'line\r\nbreaks\n',
    ];

    // Act
    const text = formatSchemaStatements(tricky, 'a header comment');
    const split = splitSchemaStatements(text);

    // Assess
    expect(text.startsWith('-- a header comment\n-- dbbackup:statement 26\nCREATE TABLE `t` (`a` int)\n')).toBe(true);
    expect(split).toEqual(tricky);
    expect(splitSchemaStatements(Buffer.from(text))).toEqual(tricky);
  });

  it('refuses truncated or foreign text', () => {
    // Prepare
    const text = formatSchemaStatements(['CREATE TABLE `t` (`a` int)', 'CREATE TABLE `u` (`b` int)']);

    // Act
    const truncated = () => splitSchemaStatements(text.slice(0, -5));
    const foreign = () => splitSchemaStatements('CREATE TABLE t (a int);\n');
    const badLength = () => splitSchemaStatements('-- dbbackup:statement x\nabc\n');

    // Assess
    for (const split of [truncated, foreign, badLength]) expect(split).toThrow(expect.objectContaining({ name: 'PermanentError', code: 'SCHEMA_INVALID' }));
  });
});
