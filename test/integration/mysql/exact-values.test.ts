/**
 * Exactness of a logical round trip, judged by the server itself: `CHECKSUM TABLE` of every
 * restored table equals the source's, for the hostile data set (test/harness/hostile-mysql.ts):
 * non-ASCII and quoting characters in every identifier position, and edge values of every
 * MariaDB 10.11 type. Source and target run in different time zones, and the target's default
 * SQL mode is strict and hostile; the restore must not depend on either. The digest must depend
 * on the stored value: a change the server's text form hides is a failed validation. Through the
 * state machines too: a physical backup narrowed to the database, and a point-in-time replay of
 * its binlog after a renaming logical restore.
 */
import path from 'node:path';
import mysql, { type Connection } from 'mysql2/promise';
import type { BackupRecord } from '../../../core/driver/types';
import { quoteId } from '../../../drivers/mysql/shared/connection';
import type { MysqlFacts } from '../../../drivers/mysql/shared/layout';
import { validateTables } from '../../../drivers/mysql/logical/logical-restore';
import { HOSTILE_DATABASE, HOSTILE_PHYSICAL_DATABASE, HOSTILE_TABLES, seedHostile } from '../../harness/hostile-mysql';
import { startTestMariaDb, stopAllMariaDb, tableChecksums, trackServerPidFile, usingConnection, type TestMariaDb } from '../../harness/mariadb';
import { LogicalRoundTrip } from '../../harness/mysql-logical';
import { freePort } from '../../harness/ports';
import { createTestRuntime, type TestRuntime } from '../../harness/runtime';

let source: TestMariaDb;
let target: TestMariaDb;
let sourceAdmin: Connection;
let targetAdmin: Connection;
let roundTrip: LogicalRoundTrip;
let backup: BackupRecord;


/** Source and target objects of one kind, by name, from information_schema. */
async function objectNames(connection: Connection, database: string): Promise<Record<string, string[]>> {
  const list = async (sql: string) => {
    const [rows] = await connection.query(sql, [database]) as [Array<{ n: string }>, unknown];
    return rows.map((r) => r.n).sort();
  };
  return {
    tables: await list("SELECT TABLE_NAME AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE'"),
    sequences: await list("SELECT TABLE_NAME AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'SEQUENCE'"),
    views: await list('SELECT TABLE_NAME AS n FROM information_schema.VIEWS WHERE TABLE_SCHEMA = ?'),
    columns: await list("SELECT CONCAT(TABLE_NAME, '.', COLUMN_NAME, ':', COLUMN_COMMENT) AS n FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ?"),
    indexes: await list("SELECT DISTINCT CONCAT(TABLE_NAME, '.', INDEX_NAME) AS n FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ?"),
    partitions: await list('SELECT CONCAT(TABLE_NAME, \'.\', PARTITION_NAME) AS n FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = ? AND PARTITION_NAME IS NOT NULL'),
    routines: await list("SELECT CONCAT(ROUTINE_TYPE, ' ', ROUTINE_NAME) AS n FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ?"),
    triggers: await list('SELECT TRIGGER_NAME AS n FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?'),
    events: await list('SELECT EVENT_NAME AS n FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ?'),
  };
}

beforeAll(async () => {
  [source, target] = await Promise.all([startTestMariaDb('exact-src', 1), startTestMariaDb('exact-dst', 2)]);
  sourceAdmin = await source.connect();
  targetAdmin = await target.connect();
  // Different clocks, and a target whose defaults refuse what the source holds.
  await sourceAdmin.query("SET GLOBAL time_zone = '+05:30'");
  await targetAdmin.query("SET GLOBAL time_zone = '-08:00', GLOBAL sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE,PAD_CHAR_TO_FULL_LENGTH,EMPTY_STRING_IS_NULL,ERROR_FOR_DIVISION_BY_ZERO'");
  await seedHostile(sourceAdmin);
  roundTrip = await LogicalRoundTrip.create();
  backup = await roundTrip.backUp(source, HOSTILE_DATABASE, { chunkRows: 2, parallelism: 2, includeUsers: true });
}, 180_000);

afterAll(async () => {
  await Promise.all([sourceAdmin, targetAdmin].map((c) => c?.end().catch(() => undefined)));
  await stopAllMariaDb();
  await roundTrip?.cleanup();
});

describe('mysql logical round trip, exact', () => {
  it('backs up every table of a database with non-ASCII names', () => {
    const facts = backup.facts as unknown as MysqlFacts;
    expect(facts.databases).toEqual([HOSTILE_DATABASE]);
    expect(facts.tables.map((t) => t.table).sort()).toEqual([...HOSTILE_TABLES].sort());
    expect(facts.tables.find((t) => t.table === 'typés')?.rows).toBe(6);
  });

  it('restores every value exactly (CHECKSUM TABLE) and every named object, and validation agrees', async () => {
    // Act
    const { checks } = await roundTrip.restoreInto(target, backup);

    // Assess
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(await tableChecksums(targetAdmin, HOSTILE_DATABASE)).toEqual(await tableChecksums(sourceAdmin, HOSTILE_DATABASE));
    expect(await objectNames(targetAdmin, HOSTILE_DATABASE)).toEqual(await objectNames(sourceAdmin, HOSTILE_DATABASE));
    const [grants] = await targetAdmin.query("SHOW GRANTS FOR 'ünï ☃ `q`'@'%'") as [Array<Record<string, string>>, unknown];
    expect(grants.map((g) => Object.values(g)[0])).toContain(`GRANT SELECT, INSERT ON ${quoteId(HOSTILE_DATABASE)}.* TO \`ünï ☃ \`\`q\`\`\`@\`%\``);
    const [[next]] = await targetAdmin.query(`SELECT NEXTVAL(${quoteId(HOSTILE_DATABASE)}.\`seqü ☃\`) AS n`) as [Array<{ n: number }>, unknown];
    expect(Number(next.n)).toBeGreaterThanOrEqual(7);
  }, 180_000);

  it('restores under another non-ASCII name, exactly', async () => {
    // Prepare
    const renamed = 'zïel ☃ `x` \'y\'';

    // Act
    const { checks } = await roundTrip.restoreInto(target, backup, { renameDatabases: { [HOSTILE_DATABASE]: renamed } });

    // Assess
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(await tableChecksums(targetAdmin, renamed)).toEqual(await tableChecksums(sourceAdmin, HOSTILE_DATABASE));
    expect(await objectNames(targetAdmin, renamed)).toEqual(await objectNames(sourceAdmin, HOSTILE_DATABASE));
    const [[called]] = await targetAdmin.query(`SELECT ${quoteId(renamed)}.\`fün ☃\`(3) AS v`) as [Array<{ v: string }>, unknown];
    expect(called.v).toBe('☃3');
  }, 180_000);

  it.each([
    ['a FLOAT one step away, the same in its 6-digit text', 'f = 1.2345679998397827', 2],
    ['the ENUM error value turned into the empty member', "e = ''", 3],
    ['a SET holding the empty member instead of nothing', 's = 1', 2],
    ['a DOUBLE one step away', 'd = 0.30000000000000009', 2],
  ])('validation fails for %s', async (_what, assignment, id) => {
    // Prepare
    const database = `changed ${id} ${assignment.slice(0, 1)}`;
    const { ctx, result } = await roundTrip.restoreInto(target, backup, { renameDatabases: { [HOSTILE_DATABASE]: database } });
    const [before] = await targetAdmin.query(`CHECKSUM TABLE ${quoteId(database)}.\`typés\` EXTENDED`) as [Array<{ Checksum: unknown }>, unknown];
    await targetAdmin.query(`UPDATE ${quoteId(database)}.\`typés\` SET ${assignment} WHERE id = ?`, [id]);
    const [after] = await targetAdmin.query(`CHECKSUM TABLE ${quoteId(database)}.\`typés\` EXTENDED`) as [Array<{ Checksum: unknown }>, unknown];

    // Act: the validation reads the table itself (the load's read-back left out, as when a replay follows)
    const { readBack: _, ...endpoint } = result.endpoint;
    const checks = await validateTables(ctx, { ...result, endpoint });

    // Assess: the server stores a different value, and validation sees it
    expect(after[0].Checksum).not.toEqual(before[0].Checksum);
    expect(checks.find((c) => c.name === 'table-digests')).toMatchObject({ ok: false, detail: expect.stringContaining('typés') });
  }, 180_000);
});

describe('mysql non-ASCII names through the state machines', () => {
  let rt: TestRuntime;

  beforeAll(async () => {
    rt = await createTestRuntime();
  });

  afterAll(() => rt?.dispose());

  it('physical backup narrowed to the database by its name: digested, restored, proven', async () => {
    // Prepare: a server of its own (a physical backup copies the whole server, see the next test)
    const server = await startTestMariaDb('exact-physical', 3);
    const admin = await server.connect();
    await seedHostile(admin, HOSTILE_PHYSICAL_DATABASE);
    const config = { ...server.config(), mode: 'physical', databases: [HOSTILE_PHYSICAL_DATABASE] };
    const datadir = path.join(await roundTrip.tempDir('physical'), 'data'); // outlives rt: the restored server is stopped in the last afterAll
    trackServerPidFile(`${datadir}.pid`);
    const port = await freePort();

    // Act
    const summary = await rt.backup({ engine: 'mysql', instance: 'exact-physical', config });
    const report = await rt.restore({ backupId: summary.backupId, target: { ...server.config(), port, physical: { datadir } } });

    // Assess
    const manifest = (await rt.catalog.get(summary.backupId)).manifest!;
    expect(manifest.validation.checks.filter((c) => !c.ok)).toEqual([]);
    const facts = manifest.facts as unknown as MysqlFacts;
    expect(facts.databases).toEqual([HOSTILE_PHYSICAL_DATABASE]);
    // The prepare check's server runs without grant tables, where information_schema lists no events.
    expect((facts.objects as Record<string, { event: string[] }>)[HOSTILE_PHYSICAL_DATABASE].event).toEqual(['evënt ☃']);
    expect(facts.tables.map((t) => t.table).sort()).toEqual([...HOSTILE_TABLES].sort());
    expect(report.validation.checks.filter((c) => !c.ok)).toEqual([]);
    const restored = usingConnection(mysql.createConnection({ host: '127.0.0.1', port, user: 'root' }), (c) => tableChecksums(c, HOSTILE_PHYSICAL_DATABASE));
    expect(await restored).toEqual(await tableChecksums(admin, HOSTILE_PHYSICAL_DATABASE));
    await admin.end();
  }, 240_000);

  it('says clearly why mariabackup cannot copy a server holding a non-InnoDB table named with a backtick', async () => {
    // Act
    const backup = rt.backup({ engine: 'mysql', instance: 'exact-backtick', config: { ...source.config(), mode: 'physical' } });

    // Assess
    await expect(backup).rejects.toMatchObject({ name: 'PermanentError', code: 'MYSQL_UNSUPPORTED_NAME' });
    await expect(backup).rejects.toThrow(/cannot lock the non-InnoDB table .*nö_kéy.*logical mode/);
    expect((await rt.catalog.list({ includeIncomplete: true })).filter((e) => e.instance === 'exact-backtick' && e.complete)).toEqual([]);
  }, 240_000);

  it('replays the database\'s binlog after a renaming logical restore, up to a GTID', async () => {
    // Prepare: B1; W1 (its GTID recorded) and W2 in the database, as its default database; B2 archives both.
    const config = { ...source.config(), databases: [HOSTILE_DATABASE], archiveBinlogs: true };
    const b1 = await rt.backup({ engine: 'mysql', instance: 'exact-pitr', config });
    const table = `${quoteId(HOSTILE_DATABASE)}.\`tü ☃\``;
    await sourceAdmin.query(`USE ${quoteId(HOSTILE_DATABASE)}; INSERT INTO ${table} VALUES (100, 'nach ☃ w1')`);
    const [[position]] = await sourceAdmin.query('SELECT @@gtid_binlog_pos AS g') as [Array<{ g: string }>, unknown];
    await sourceAdmin.query(`INSERT INTO ${table} VALUES (101, 'nach ☃ w2')`);
    await rt.backup({ engine: 'mysql', instance: 'exact-pitr', config });
    const renamed = 'pitr☃`zïel`.\'x\''; // no blank: mariadb-binlog --rewrite-db ends a name there (refused, see the unit tests)

    // Act
    const report = await rt.restore({
      backupId: b1.backupId,
      target: { ...target.config(), renameDatabases: { [HOSTILE_DATABASE]: renamed }, pointInTime: { untilGtid: position.g } },
    });

    // Assess
    expect(report.validation.checks.filter((c) => !c.ok)).toEqual([]);
    expect(report.endpoint.replay).toMatchObject({ database: HOSTILE_DATABASE, replayedTo: { gtid: position.g }, transactions: 1 });
    const [rows] = await targetAdmin.query(`SELECT \`cö\` AS id, \`wért ☃\` AS v FROM ${quoteId(renamed)}.\`tü ☃\` WHERE \`cö\` >= 100`) as [unknown[], unknown];
    expect(rows).toEqual([{ id: 100, v: 'nach ☃ w1' }]);
  }, 240_000);
});
