/**
 * Logical restore on real MariaDB 10.11 servers: the shop dumped from a source server (the real
 * logical backup, uploaded to a local-directory store) is restored into a second server table for
 * table and object for object, users and grants included; under other names; never over a
 * non-empty target without force; never from a tampered store; a retry after a crash cleans up its
 * own partial work; the load reads every table and key range back as it goes, and validation
 * reports what differs (and, reading itself, a row changed after the restore); tables of multi-MB rows
 * go through dump and restore with the dump's batches bounded in bytes.
 */
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Connection } from 'mysql2/promise';
import type { BlobStore } from '../../../core/store/blob-store';
import { LocalDirectoryStore } from '../../../core/store/local-directory-store';
import { silentLogger } from '../../../core/logger';
import type { BackupRecord, PreparedTarget } from '../../../core/driver/types';
import { MANY_TABLES, finishAfterReplay, prepareLogicalTarget, releaseAfterValidation, restoreLogical, validateTables } from '../../../drivers/mysql/logical/logical-restore';
import { sharedEncodePool } from '../../../drivers/mysql/shared/encode-pool';
import type { MysqlFacts } from '../../../drivers/mysql/shared/layout';
import { MARKER_TABLE } from '../../../drivers/mysql/logical/restore-marker';
import { assertTargetTimeZones } from '../../../drivers/mysql/logical/target-time-zones';
import { BATCH } from '../../../drivers/mysql/shared/row-packet';
import { DIGEST_ALGORITHM } from '../../../drivers/mysql/shared/table-digest';
import { seedShop, startTestMariaDb, stopAllMariaDb, tableChecksums, type TestMariaDb } from '../../harness/mariadb';
import { LogicalRoundTrip, type ServerLike } from '../../harness/mysql-logical';
import { freePort } from '../../harness/ports';
import { emptyUnlessForced, occupiedTables } from '../../../drivers/mysql/sharded/target-shards';
import { markShardDatabase } from '../../../drivers/mysql/sharded/shard-restore-marker';

let source: TestMariaDb;
let sourceAdmin: Connection;
let store: LocalDirectoryStore;
let roundTrip: LogicalRoundTrip;
let record: BackupRecord;
const connections: Connection[] = [];

async function connect(server: TestMariaDb): Promise<Connection> {
  const connection = await server.connect();
  connections.push(connection);
  return connection;
}

const tempDir = (label: string) => roundTrip.tempDir(label);
let shared: Promise<TestMariaDb> | undefined;
/** One target for the tests that restore under a name of their own. */
const sharedTarget = (): Promise<TestMariaDb> => (shared ??= startTestMariaDb('lr-shared', 7));
let folds: Promise<TestMariaDb> | undefined;
/** A target that stores names in lower case (lower_case_table_names = 1, Windows's default). */
const foldingTarget = (): Promise<TestMariaDb> => (folds ??= startTestMariaDb('lr-folding', 8, ['--lower-case-table-names=1']));
const restoreContext = (server: ServerLike, extra: Record<string, unknown> = {}, force = false, backup = record) =>
  roundTrip.restoreContext(server, backup, extra, force);
/** The names of the backup's artifacts that have a file under `dir`. */
async function backupFilesIn(dir: string): Promise<string[]> {
  const names = new Set(await readdir(dir, { recursive: true }).catch(() => []));
  return record.artifacts.map((a) => a.name).filter((name) => names.has(name)).sort();
}

const restoreInto = (server: ServerLike, extra: Record<string, unknown> = {}, force = false, backup = record) =>
  roundTrip.restoreInto(server, backup, extra, force);
/** A logical backup of `database` (by default `shop`, with users), uploaded to `store`. */
const backUp = (server: ServerLike, database = 'shop', config: Record<string, unknown> = { chunkRows: 3_000, includeUsers: true }) =>
  roundTrip.backUp(server, database, config, { backupId: `lr-${database}`, instance: database });

const MiB = 1024 * 1024;

/**
 * Creates database `wide`: `blobs` (integer key: dumped in key ranges) with 200 LONGBLOBs of
 * 1–4 MB, every tenth NULL, and two of 6 MiB (wider than a dump batch); `nokey` (no key: dumped in
 * one stream) with 62 of those rows. Values hold bytes the dump escapes (SHA-512 output).
 */
async function seedWideRows(admin: Connection): Promise<void> {
  const blob = (bytes: string) => `REPEAT(UNHEX(SHA2(seq, 512)), (${bytes}) DIV 64)`;
  await admin.query(`CREATE DATABASE wide;
    CREATE TABLE wide.blobs (id INT PRIMARY KEY, b LONGBLOB NULL, note VARCHAR(40) NULL) ENGINE=InnoDB;
    CREATE TABLE wide.nokey (b LONGBLOB NULL, id INT NULL) ENGINE=InnoDB`);
  for (let from = 1; from <= 200; from += 20) {
    await admin.query(`INSERT INTO wide.blobs SELECT seq, IF(seq % 10 = 0, NULL, ${blob('1000000 + (seq * 7919) % 3000000')}), CONCAT('row\\t', seq, '\\n\\\\')
      FROM wide.seq_${from}_to_${from + 19}`);
  }
  await admin.query(`INSERT INTO wide.blobs SELECT seq, ${blob(String(6 * MiB))}, NULL FROM wide.seq_201_to_202`);
  await admin.query('INSERT INTO wide.nokey SELECT b, id FROM wide.blobs WHERE id <= 60 OR id > 200; ANALYZE TABLE wide.blobs, wide.nokey');
}

beforeAll(async () => {
  source = await startTestMariaDb('lr-src');
  sourceAdmin = await connect(source);
  await seedShop(sourceAdmin);
  await sourceAdmin.query("CREATE USER 'shop_reader'@'%' IDENTIFIED BY 'secret-pw'; GRANT SELECT ON shop.* TO 'shop_reader'@'%'");
  await sourceAdmin.query("CREATE USER 'shop_intern'@'localhost' IDENTIFIED BY 'first-pw' PASSWORD EXPIRE ACCOUNT LOCK; GRANT SELECT ON shop.orders TO 'shop_intern'@'localhost'");
  roundTrip = await LogicalRoundTrip.create();
  store = roundTrip.store;
  record = await backUp(source);
}, 180_000);

afterAll(async () => {
  await Promise.all(connections.map((c) => c.end().catch(() => undefined)));
  await stopAllMariaDb();
  await roundTrip.cleanup();
});

describe('mysql logical restore', () => {
  it('restores every table byte for byte and every view, trigger, routine and event into a second server', async () => {
    // Prepare
    const target = await startTestMariaDb('lr-target', 2);

    // Act
    const { result, checks, ctx } = await restoreInto(target, { parallelism: 3 });

    // Assess
    const restored = await connect(target);
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(checks.map((c) => c.name)).toEqual(['tables-present', 'row-counts', 'table-digests', 'schema-objects']);
    expect(await backupFilesIn(ctx.spoolDir)).toEqual([]); // the local store's own files, read where they are
    expect(await tableChecksums(restored, 'shop')).toEqual(await tableChecksums(sourceAdmin, 'shop'));
    expect(result.endpoint).toMatchObject({ host: '127.0.0.1', port: target.port, databases: ['shop'], rows: 20_114 });
    const [[fn]] = await restored.query('SELECT shop.with_tax(10) AS v') as [Array<{ v: string }>, unknown];
    expect(fn.v).toBe('12.00');
    const [totals] = await restored.query('SELECT * FROM shop.customer_totals ORDER BY id') as [unknown[], unknown];
    const [sourceTotals] = await sourceAdmin.query('SELECT * FROM shop.customer_totals ORDER BY id') as [unknown[], unknown];
    expect(totals).toEqual(sourceTotals);
    await restored.query("INSERT INTO shop.orders (customer_id, total, status) VALUES (1, 1.00, 'new')");
    const [[audit]] = await restored.query('SELECT message FROM shop.audit_log ORDER BY id DESC LIMIT 1') as [Array<{ message: string }>, unknown];
    expect(audit.message).toBe('order 51');
    await restored.query('CALL shop.mark_paid(51)');
    const [[order]] = await restored.query('SELECT status FROM shop.orders WHERE id = 51') as [Array<{ status: string }>, unknown];
    expect(order.status).toBe('paid');
    const [events] = await restored.query("SELECT EVENT_NAME AS name, STATUS AS status FROM information_schema.EVENTS WHERE EVENT_SCHEMA = 'shop'") as [unknown[], unknown];
    expect(events).toEqual([{ name: 'nightly', status: 'DISABLED' }]);
    const [markers] = await restored.query('SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_NAME = ?', [MARKER_TABLE]) as [unknown[], unknown];
    expect(markers).toEqual([]);
    const [grants] = await restored.query("SHOW GRANTS FOR 'shop_reader'@'%'") as [Array<Record<string, string>>, unknown];
    expect(grants.map((g) => Object.values(g)[0])).toContain('GRANT SELECT ON `shop`.* TO `shop_reader`@`%`');
    const [[create]] = await restored.query('SHOW CREATE TABLE shop.big') as [Array<Record<string, string>>, unknown];
    const [[sourceCreate]] = await sourceAdmin.query('SHOW CREATE TABLE shop.big') as [Array<Record<string, string>>, unknown];
    expect(create).toEqual(sourceCreate);
  }, 120_000);

  it('restores the backup\'s accounts as the source holds them (expired and locked stay so); refuses, before writing anything, a target holding one of them otherwise, and replaces it with force', async () => {
    // Prepare: a target whose shop_reader has a password of its own
    const target = await startTestMariaDb('lr-accounts', 11);
    const admin = await connect(target);
    await admin.query("CREATE USER 'shop_reader'@'%' IDENTIFIED BY 'target-pw'");
    const created = async (server: Connection, account: string) => {
      const [[row]] = await server.query({ sql: `SHOW CREATE USER ${account}`, rowsAsArray: true }) as unknown as [string[][], unknown];
      return row[0];
    };

    // A restore user that may create accounts and grant, but not read mysql.*: it cannot compare the accounts
    await admin.query(`CREATE USER 'restorer'@'%' IDENTIFIED BY 'restorer-pw';
      GRANT INSERT, UPDATE, DELETE, CREATE, DROP, RELOAD, PROCESS, FILE, REFERENCES, INDEX, ALTER, SHOW DATABASES, SUPER, CREATE TEMPORARY TABLES, LOCK TABLES, EXECUTE,
        CREATE VIEW, SHOW VIEW, CREATE ROUTINE, ALTER ROUTINE, CREATE USER, EVENT, TRIGGER, SET USER, BINLOG ADMIN ON *.* TO 'restorer'@'%' WITH GRANT OPTION;
      GRANT SELECT ON shop.* TO 'restorer'@'%' WITH GRANT OPTION`);

    // Act
    const unprivileged = await restoreInto({ config: () => ({ ...target.config(), user: 'restorer', password: 'restorer-pw' }) }).then(() => undefined, (error: Error) => error);
    const refused = await restoreInto(target).then(() => undefined, (error: Error) => error);
    const [databases] = await admin.query("SHOW DATABASES LIKE 'shop'") as [unknown[], unknown];
    const { checks } = await restoreInto(target, {}, true);

    // Assess
    expect(unprivileged?.message).toMatch(/the restore user cannot read the target's accounts \(SHOW CREATE USER `shop_\w+`@`[%\w]+`: Access denied for user 'restorer'/);
    expect(unprivileged).toMatchObject({ code: 'MYSQL_PRIVILEGES' });
    expect(unprivileged!.message).toContain('grant it SELECT ON mysql.* too');
    expect(refused).toMatchObject({ code: 'TARGET_NOT_EMPTY', message: expect.stringContaining('already has account `shop_reader`@`%` the backup\'s users differ from') });
    expect(databases).toEqual([]); // refused before anything was written
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(await created(admin, "'shop_reader'@'%'")).toBe(await created(sourceAdmin, "'shop_reader'@'%'"));
    const intern = await created(admin, "'shop_intern'@'localhost'");
    expect(intern).toBe(await created(sourceAdmin, "'shop_intern'@'localhost'"));
    expect(intern).toMatch(/PASSWORD EXPIRE/);
    expect(intern).toMatch(/ACCOUNT LOCK/);
  }, 120_000);

  it('restores under another name next to the original, with views and routines following the rename', async () => {
    // Prepare: the source server itself is the target; shop stays untouched
    const before = await tableChecksums(sourceAdmin, 'shop');

    // Act
    const { checks } = await restoreInto(source, { renameDatabases: { shop: 'shop_copy' } });

    // Assess
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(await tableChecksums(sourceAdmin, 'shop_copy')).toEqual(before);
    expect(await tableChecksums(sourceAdmin, 'shop')).toEqual(before);
    const [[view]] = await sourceAdmin.query("SELECT VIEW_DEFINITION AS def FROM information_schema.VIEWS WHERE TABLE_SCHEMA = 'shop_copy'") as [Array<{ def: string }>, unknown];
    expect(view.def).toContain('`shop_copy`.`customers`');
    await sourceAdmin.query("INSERT INTO shop_copy.orders (customer_id, total, status) VALUES (2, 2.00, 'new')");
    const [[copyAudit]] = await sourceAdmin.query('SELECT COUNT(*) AS n FROM shop_copy.audit_log') as [Array<{ n: number }>, unknown];
    const [[shopAudit]] = await sourceAdmin.query('SELECT COUNT(*) AS n FROM shop.audit_log') as [Array<{ n: number }>, unknown];
    expect(Number(copyAudit.n)).toBe(Number(shopAudit.n) + 1);
    const [grants] = await sourceAdmin.query("SHOW GRANTS FOR 'shop_reader'@'%'") as [Array<Record<string, string>>, unknown];
    expect(grants.map((g) => Object.values(g)[0])).toEqual(expect.arrayContaining([
      'GRANT SELECT ON `shop`.* TO `shop_reader`@`%`', 'GRANT SELECT ON `shop_copy`.* TO `shop_reader`@`%`',
    ]));
    await sourceAdmin.query("DROP DATABASE shop_copy; REVOKE SELECT ON shop_copy.* FROM 'shop_reader'@'%'");
  }, 120_000);

  it('restores two databases whose names differ only by case where the target keeps case, and a target that folds names refuses them, naming both, and stores capitalised tables and views in lower case', async () => {
    // Prepare: Plain and plain on the source; a target started with lower_case_table_names = 1
    await sourceAdmin.query(`CREATE DATABASE \`Plain\`; CREATE TABLE \`Plain\`.t (id INT PRIMARY KEY, v VARCHAR(10)); INSERT INTO \`Plain\`.t VALUES (1, 'upper');
      CREATE DATABASE plain; CREATE TABLE plain.t (id INT PRIMARY KEY, v VARCHAR(10)); INSERT INTO plain.t VALUES (1, 'lower'), (2, 'lower');
      CREATE TABLE plain.\`Mixed\` (id INT PRIMARY KEY); INSERT INTO plain.\`Mixed\` VALUES (3); CREATE VIEW plain.\`Shown\` AS SELECT id FROM plain.\`Mixed\`;
      CREATE TRIGGER plain.\`Stamp\` BEFORE INSERT ON plain.\`Mixed\` FOR EACH ROW SET NEW.id = NEW.id`);
    const both = await roundTrip.backUp(source, 'Plain', { databases: ['Plain', 'plain'] }, { backupId: 'lr-cases', instance: 'cases' });
    const [keeping, folding] = [await sharedTarget(), await foldingTarget()];
    const target = await connect(keeping);

    // Act
    const { checks } = await restoreInto(keeping, {}, false, both);
    const refused = prepareLogicalTarget(await restoreContext(folding, {}, false, both));
    const capitalised = prepareLogicalTarget(await restoreContext(folding, { renameDatabases: { plain: 'lower_one' } }, false, both));
    const folded = await restoreInto(folding, { renameDatabases: { Plain: 'upper_one', plain: 'lower_one' } }, false, both);
    const olderFacts = both.facts as unknown as MysqlFacts; // a backup of an older version, which recorded no columns
    const older = { ...both, facts: { ...olderFacts, tables: olderFacts.tables.map(({ columns: _, ...t }) => t) } as unknown as BackupRecord['facts'] };
    const foldedOlder = await restoreInto(folding, { renameDatabases: { Plain: 'upper_old', plain: 'lower_old' } }, false, older);

    // Assess
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(await tableChecksums(target, 'Plain')).toEqual(await tableChecksums(sourceAdmin, 'Plain'));
    expect(await tableChecksums(target, 'plain')).toEqual(await tableChecksums(sourceAdmin, 'plain'));
    await expect(refused).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(/databases Plain and plain would both be restored as plain on .*lower_case_table_names = 1/) });
    await expect(capitalised).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('stores database names in lower case (lower_case_table_names = 1): restore Plain under lower-case names, e.g. renameDatabases {"Plain":"plain"}') });
    expect(folded.checks.filter((c) => !c.ok)).toEqual([]);
    expect(foldedOlder.checks.filter((c) => !c.ok)).toEqual([]);
    await target.query('DROP DATABASE `Plain`; DROP DATABASE plain');
    await sourceAdmin.query('DROP DATABASE `Plain`; DROP DATABASE plain');
  }, 120_000);

  it('finds the tables a sharded restore would replace as the target names them, on a target that folds names too', async () => {
    // Prepare: capitalised tables holding rows, in a database named with capitals on the folding target
    const [keeping, folding] = [await sharedTarget(), await foldingTarget()];
    const seed = 'CREATE DATABASE `Shard_A`; CREATE TABLE `Shard_A`.`Mixed` (id INT PRIMARY KEY); INSERT INTO `Shard_A`.`Mixed` VALUES (1); CREATE TABLE `Shard_A`.`Empty` (id INT PRIMARY KEY)';
    for (const server of [keeping, folding]) await (await connect(server)).query(seed);
    const mapOf = (server: TestMariaDb, database: string) => ({ servers: [{ name: 'one', ...server.config(), connectTimeoutMs: 5_000 }], shards: [{ shard: 0, server: 'one', database }] });

    // Act
    const onKeeping = await occupiedTables(mapOf(keeping, 'Shard_A'), ['Mixed', 'mixed', 'Empty', 'Absent']);
    const onFolding = await occupiedTables(mapOf(folding, 'Shard_A'), ['Mixed', 'Empty', 'Absent']);
    const lowerOnFolding = await occupiedTables(mapOf(folding, 'shard_a'), ['mixed']);
    const noDatabase = await occupiedTables(mapOf(keeping, 'shard_a'), ['Mixed']);

    // Assess
    expect(onKeeping).toEqual(['Shard_A.Mixed']);
    expect(onFolding).toEqual(['Shard_A.Mixed']);
    expect(lowerOnFolding).toEqual(['shard_a.mixed']);
    expect(noDatabase).toEqual([]);
    for (const server of [keeping, folding]) await (await connect(server)).query('DROP DATABASE `Shard_A`');
  }, 120_000);

  it('refuses a sharded restore into shard databases that hold rows, saying which an unfinished restore wrote and what to do about them', async () => {
    // Prepare: shard databases on two servers holding rows — two marked by a restore that did not finish, one not — and a marked one whose table is empty
    const [one, two] = [await sharedTarget(), await foldingTarget()];
    const seed = (database: string, rows: boolean) => `CREATE DATABASE ${database}; CREATE TABLE ${database}.rides (id INT PRIMARY KEY)${rows ? `; INSERT INTO ${database}.rides VALUES (1)` : ''}`;
    const [c1, c2] = [await connect(one), await connect(two)];
    await c1.query(`${seed('shard_a', true)}; ${seed('shard_kept', true)}; ${seed('shard_idle', false)}`);
    await c2.query(seed('shard_b', true));
    for (const [c, database] of [[c1, 'shard_a'], [c2, 'shard_b'], [c1, 'shard_idle']] as const) await markShardDatabase(c, database, 'a-restore', 'some-backup');
    const servers = [{ name: 'one', ...one.config(), connectTimeoutMs: 5_000 }, { name: 'two', ...two.config(), connectTimeoutMs: 5_000 }];
    const map = (...shards: Array<[string, string]>) => ({ servers, shards: shards.map(([server, database], shard) => ({ shard, server, database })) });
    const words = { shard: 'shard', engine: 'schemaless' };

    // Act
    const allMarked = emptyUnlessForced(map(['one', 'shard_a'], ['two', 'shard_b'], ['one', 'shard_idle']), ['rides'], false, words);
    const someMarked = emptyUnlessForced(map(['one', 'shard_a'], ['one', 'shard_kept']), ['rides'], false, words);
    const unmarked = emptyUnlessForced(map(['one', 'shard_kept'], ['one', 'shard_idle']), ['rides'], false, words);
    const forced = await emptyUnlessForced(map(['one', 'shard_a'], ['one', 'shard_kept']), ['rides'], true, words);

    // Assess
    await expect(allMarked).rejects.toMatchObject({
      code: 'TARGET_NOT_EMPTY',
      message: `the target holds data: shard_a.rides, shard_b.rides; shard_a on one, shard_b on two hold table ${MARKER_TABLE}: a restore into them did not finish — restore again with force to replace what it wrote, or drop what it wrote`,
    });
    await expect(someMarked).rejects.toMatchObject({
      code: 'TARGET_NOT_EMPTY',
      message: `the target holds data: shard_a.rides, shard_kept.rides (restore into empty shard databases, or force to replace them); shard_a on one holds table ${MARKER_TABLE}: a restore into it did not finish`,
    });
    await expect(unmarked).rejects.toMatchObject({ code: 'TARGET_NOT_EMPTY', message: 'the target holds data: shard_kept.rides (restore into empty shard databases, or force to replace them)' });
    expect(forced).toEqual(['shard_a.rides', 'shard_kept.rides']);
    await c1.query('DROP DATABASE shard_a; DROP DATABASE shard_kept; DROP DATABASE shard_idle');
    await c2.query('DROP DATABASE shard_b');
  }, 120_000);

  it('writes the restore to the target\'s binary log by default, nothing of it with binlog false, and says which privilege is missing', async () => {
    // Prepare: the source server is the target (its binlog is on); nothing else writes to it meanwhile
    const binlogPosition = async () => {
      const [[row]] = await sourceAdmin.query('SELECT @@gtid_binlog_pos AS pos') as [Array<{ pos: string }>, unknown];
      return row.pos;
    };
    await sourceAdmin.query("CREATE USER 'no_binlog'@'%' IDENTIFIED BY 'pw'; GRANT ALL ON `shop_quiet`.* TO 'no_binlog'@'%'");
    const before = await binlogPosition();

    // Act
    const quiet = await restoreInto(source, { renameDatabases: { shop: 'shop_quiet' }, binlog: false });

    // Assess
    expect(quiet.checks.filter((c) => !c.ok)).toEqual([]);
    expect(await tableChecksums(sourceAdmin, 'shop_quiet')).toEqual(await tableChecksums(sourceAdmin, 'shop'));
    expect(await binlogPosition()).toBe(before);

    // Act
    const logged = await restoreInto(source, { renameDatabases: { shop: 'shop_logged' } });

    // Assess
    expect(logged.checks.filter((c) => !c.ok)).toEqual([]);
    expect(await binlogPosition()).not.toBe(before);
    await sourceAdmin.query('DROP DATABASE shop_quiet');
    await expect(prepareLogicalTarget(await restoreContext(source, { user: 'no_binlog', password: 'pw', renameDatabases: { shop: 'shop_quiet' }, binlog: false })))
      .rejects.toMatchObject({ name: 'PermanentError', message: expect.stringMatching(/setting up a schema session.*(SUPER|BINLOG ADMIN)/) });
    await sourceAdmin.query("DROP DATABASE shop_logged; DROP USER 'no_binlog'@'%'");
  }, 120_000);

  it('refuses, before writing anything, a restore user without the global privileges the post-schema needs (other definers; functions and triggers under a binary log), its own privileges and PUBLIC\'s counted; with them it keeps the definers', async () => {
    // Prepare: a backup without accounts (their grants need more than this test's user holds); the target's binary log is on
    const target = await sharedTarget();
    const admin = await connect(target);
    const backup = await roundTrip.backUp(source, 'shop', { chunkRows: 3_000 }, { backupId: 'lr-definers', instance: 'definers' });
    // SELECT on mysql.* shows it every account's privileges in information_schema: none of them are its own
    await admin.query("CREATE USER 'plain_restorer'@'%' IDENTIFIED BY 'pw'; GRANT ALL ON `shop_definers`.* TO 'plain_restorer'@'%'; GRANT SELECT ON mysql.* TO 'plain_restorer'@'%'");
    const asPlain = { user: 'plain_restorer', password: 'pw', renameDatabases: { shop: 'shop_definers' } };
    const [[sourceView]] = await sourceAdmin.query("SELECT DEFINER AS definer FROM information_schema.VIEWS WHERE TABLE_SCHEMA = 'shop'") as [Array<{ definer: string }>, unknown];
    const escaped = sourceView.definer.replace(/[.%]/g, '\\$&');
    const created = async () => (await admin.query("SHOW DATABASES LIKE 'shop_definers'") as [unknown[], unknown])[0];

    // Act
    const refused = restoreInto(target, asPlain, false, backup);

    // Assess: both needs named, and nothing written (the load would have come first)
    await expect(refused).rejects.toMatchObject({ name: 'PermanentError', code: 'MYSQL_PRIVILEGES' });
    await expect(refused).rejects.toThrow(new RegExp(`the target would refuse plain_restorer@% part of the restore once every row is loaded — its objects keep their definers, other accounts \\(${escaped}\\): that needs SET USER or SUPER on \\*\\.\\* \\(GRANT SET USER ON \\*\\.\\* TO the restore user\\); `
      + 'it creates functions and triggers and the target.s binary log is on: that needs SUPER on .*Nothing was changed on the target'));
    expect(await created()).toEqual([]);

    // Act
    await admin.query('GRANT SET USER ON *.* TO PUBLIC'); // every account's, information_schema lists it for none
    const halfway = restoreInto(target, asPlain, false, backup);

    // Assess
    await expect(halfway).rejects.toThrow(/refuse plain_restorer@% part of the restore once every row is loaded — it creates functions and triggers and the target.s binary log is on: that needs SUPER on \*\.\* \(or log_bin_trust_function_creators = 1 on the target\)\. Nothing was changed/);
    expect(await created()).toEqual([]);

    // Act
    await admin.query('SET GLOBAL log_bin_trust_function_creators = 1');
    const kept = await restoreInto(target, asPlain, false, backup).finally(() => admin.query('SET GLOBAL log_bin_trust_function_creators = 0; REVOKE SET USER ON *.* FROM PUBLIC'));

    // Assess
    expect(kept.checks.filter((c) => !c.ok)).toEqual([]);
    const [[view]] = await admin.query("SELECT DEFINER AS definer FROM information_schema.VIEWS WHERE TABLE_SCHEMA = 'shop_definers'") as [Array<{ definer: string }>, unknown];
    expect(view.definer).toBe(sourceView.definer);
    await admin.query("DROP DATABASE shop_definers; DROP USER 'plain_restorer'@'%'");
  }, 120_000);

  it('with a point-in-time replay to follow, leaves its databases marked unfinished until the replay is done', async () => {
    // Prepare
    const target = await sharedTarget();
    const admin = await connect(target);
    const ctx = await restoreContext(target, { renameDatabases: { shop: 'shop_replayed' }, pointInTime: { until: new Date().toISOString() } });
    const marked = async () => Number(((await admin.query('SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', ['shop_replayed', MARKER_TABLE])) as [Array<{ n: number }>, unknown])[0][0].n);

    // Act
    const result = await restoreLogical(ctx, await prepareLogicalTarget(ctx), { store, prefix: '' });
    const before = await marked();
    await finishAfterReplay(ctx, result);

    // Assess: a replay that failed in between would have left them marked
    expect(before).toBe(1);
    expect(await marked()).toBe(0);
    expect(await backupFilesIn(ctx.spoolDir)).toEqual(record.artifacts.map((a) => a.name).sort()); // copied: the load is not read back before the replay
    await admin.query('DROP DATABASE shop_replayed');
  }, 120_000);

  it('creates the backup\'s enabled events held, so none runs before the restore is proven, and enables them, each keeping its definer, once the validation passed; one that failed leaves them held', async () => {
    // Prepare: database ticking with an enabled event of another definer (the source's event scheduler is off: it never runs there)
    await sourceAdmin.query(`CREATE DATABASE ticking; CREATE TABLE ticking.ticks (id INT PRIMARY KEY AUTO_INCREMENT, at DATETIME(6) NOT NULL) ENGINE=InnoDB;
      CREATE DEFINER = 'tick_owner'@'%' EVENT ticking.tick ON SCHEDULE EVERY 1 SECOND DO INSERT INTO ticking.ticks (at) VALUES (NOW(6));
      INSERT INTO ticking.ticks (at) VALUES ('2000-01-01 00:00:00')`);
    const backup = await backUp(source, 'ticking', {});
    await sourceAdmin.query('DROP DATABASE ticking');
    const target = await sharedTarget();
    const admin = await connect(target);
    const ctx = await restoreContext(target, { renameDatabases: { ticking: 'ticking_held' } }, false, backup);
    const event = async () => (await admin.query("SELECT STATUS AS status, DEFINER AS definer FROM information_schema.EVENTS WHERE EVENT_SCHEMA = 'ticking_held'") as [unknown[], unknown])[0];
    await admin.query('SET GLOBAL event_scheduler = ON');

    try {
      // Act
      const result = await restoreLogical(ctx, await prepareLogicalTarget(ctx), { store, prefix: '' });
      const held = await event();
      const checks = await validateTables(ctx, result);
      const leftHeld = await releaseAfterValidation(ctx, result, { ok: false, checks });
      const stillHeld = await event();
      const enabled = await releaseAfterValidation(ctx, result, { ok: true, checks });
      const retried = await releaseAfterValidation(ctx, result, { ok: true, checks }); // the validate step run again

      // Assess
      expect(result.endpoint.eventsHeld).toEqual([{ database: 'ticking_held', name: 'tick' }]);
      expect(held).toEqual([{ status: 'SLAVESIDE_DISABLED', definer: 'tick_owner@%' }]);
      expect(checks.filter((c) => !c.ok)).toEqual([]); // counted again with the event held: one row, as backed up
      expect(leftHeld).toEqual([{ name: 'events-enabled', ok: false, detail: expect.stringMatching(/^left held .* as the restore did not validate: event ticking_held\.tick; .*ENABLE$/) }]);
      expect(stillHeld).toEqual(held);
      expect(enabled).toEqual([{ name: 'events-enabled', ok: true, detail: '1 of 1 events, created held so none ran before the restore was proven, enabled after it: ticking_held.tick' }]);
      expect(await event()).toEqual([{ status: 'ENABLED', definer: 'tick_owner@%' }]);
      expect(retried).toEqual([{ name: 'events-enabled', ok: true, detail: expect.stringMatching(/^0 of 1 events, .*; 1 found enabled already \(by the replay, or an earlier attempt of this step\): ticking_held\.tick$/) }]);
    } finally {
      await admin.query('SET GLOBAL event_scheduler = OFF; DROP DATABASE IF EXISTS ticking_held');
    }
  }, 120_000);

  it('keeps a TIMESTAMP default\'s instant from a source in another zone, a default taken from a sequence whose name sorts after its table, and a sequence\'s cycle count', async () => {
    // Prepare: the source's sessions start at +02:00 (the backup's own too); a cycled sequence and a table taking its default from it
    await sourceAdmin.query(`CREATE DATABASE zoned; CREATE SEQUENCE zoned.z_seq START WITH 1 MAXVALUE 3 CYCLE NOCACHE;
      CREATE TABLE zoned.a_table (id INT PRIMARY KEY DEFAULT NEXTVAL(zoned.z_seq), at TIMESTAMP NULL DEFAULT '2024-07-01 12:00:00') ENGINE=InnoDB;
      INSERT INTO zoned.a_table (id) VALUES (100); SELECT NEXTVAL(zoned.z_seq), NEXTVAL(zoned.z_seq), NEXTVAL(zoned.z_seq), NEXTVAL(zoned.z_seq)`);
    await sourceAdmin.query("SET GLOBAL time_zone = '+02:00'");
    const backup = await backUp(source, 'zoned', {}).finally(() => sourceAdmin.query("SET GLOBAL time_zone = 'SYSTEM'"));
    const target = await sharedTarget();
    const admin = await connect(target);
    const stateOf = async (connection: Connection, database: string) => {
      await connection.query(`INSERT INTO ${database}.a_table (id) VALUES (200)`);
      const [[row]] = await connection.query(`SELECT UNIX_TIMESTAMP(at) AS at FROM ${database}.a_table WHERE id = 200`) as [Array<{ at: string }>, unknown];
      const [[sequence]] = await connection.query(`SELECT next_not_cached_value AS next, cycle_count AS round FROM ${database}.z_seq`) as [Array<{ next: number; round: number }>, unknown];
      await connection.query(`DELETE FROM ${database}.a_table WHERE id = 200`);
      return { defaultAt: row.at, sequence };
    };

    // Act
    const { checks } = await restoreInto(target, { renameDatabases: { zoned: 'zoned_r' } }, false, backup);

    // Assess
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(await stateOf(admin, 'zoned_r')).toEqual(await stateOf(sourceAdmin, 'zoned'));
    expect((await stateOf(admin, 'zoned_r')).sequence).toEqual({ next: '2', round: '1' });
    await admin.query('DROP DATABASE zoned_r');
    await sourceAdmin.query('DROP DATABASE zoned');
  }, 120_000);

  it('restores a table whose default is another database\'s sequence, that database restored too, whichever comes first', async () => {
    // Prepare: a_seq_user's table (its database restored first, by name) takes its ids from z_seq_owner's sequence
    await sourceAdmin.query(`CREATE DATABASE z_seq_owner; CREATE SEQUENCE z_seq_owner.ids START WITH 10;
      CREATE DATABASE a_seq_user; CREATE TABLE a_seq_user.items (id INT PRIMARY KEY DEFAULT NEXTVAL(z_seq_owner.ids), name VARCHAR(10));
      INSERT INTO a_seq_user.items (name) VALUES ('first')`);
    const backup = await backUp(source, 'a_seq_user', { databases: ['a_seq_user', 'z_seq_owner'] });
    const target = await sharedTarget();
    const admin = await connect(target);

    // Act
    const { checks } = await restoreInto(target, {}, false, backup);
    await admin.query("INSERT INTO a_seq_user.items (name) VALUES ('second')");

    // Assess: the rows, and the default still drawing from the sequence
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    const [rows] = await admin.query('SELECT id, name FROM a_seq_user.items ORDER BY id') as [Array<{ id: number; name: string }>, unknown];
    expect(rows[0]).toEqual({ id: 10, name: 'first' });
    expect(rows[1]).toEqual({ id: expect.any(Number), name: 'second' });
    expect(rows[1].id).toBeGreaterThan(10); // past the source's cached range, as sequences restart (see the README)
    await admin.query('DROP DATABASE a_seq_user; DROP DATABASE z_seq_owner');
    await sourceAdmin.query('DROP DATABASE a_seq_user; DROP DATABASE z_seq_owner');
  }, 120_000);

  it('refuses, before writing anything, a target that lacks a table\'s storage engine (it would make the table with another) or a time zone the backup\'s events were created in', async () => {
    // Prepare: an ARCHIVE table on the source, whose plugin the target has not loaded
    await sourceAdmin.query("INSTALL SONAME 'ha_archive'");
    await sourceAdmin.query('CREATE DATABASE archived; CREATE TABLE archived.log (id INT NOT NULL, line VARCHAR(40)) ENGINE=ARCHIVE; INSERT INTO archived.log VALUES (1, \'kept\')');
    const backup = await backUp(source, 'archived', {});
    await sourceAdmin.query("DROP DATABASE archived; UNINSTALL SONAME 'ha_archive'");
    const target = await sharedTarget();
    const admin = await connect(target);

    // Act / Assess
    const refused = restoreInto(target, {}, false, backup);
    await expect(refused).rejects.toMatchObject({ code: 'UNSUPPORTED_RESTORE', message: expect.stringMatching(/does not offer the storage engine ARCHIVE \(archived\.log\): .*Nothing was changed on the target$/) });
    expect((await admin.query("SHOW DATABASES LIKE 'archived'") as [unknown[], unknown])[0]).toEqual([]);
    await expect(assertTargetTimeZones(admin, ["SET SESSION time_zone = '+02:00'", "SET SESSION time_zone = 'Europe/Berlin'", 'CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO SELECT 1'], 'restoring b')).rejects.toMatchObject({ code: 'UNSUPPORTED_RESTORE', message: expect.stringMatching(/^restoring b: the target does not know the time zone Europe\/Berlin, which the backup's events were created in; .*Nothing was changed on the target$/) });
  }, 120_000);

  it('restores an account whose TLS subject holds a quote and whose issuer holds a backslash exactly, though the server prints them unescaped', async () => {
    // Prepare: MariaDB's SHOW CREATE USER prints REQUIRE ISSUER '/C=a\\b' SUBJECT '/CN=x'y'
    await sourceAdmin.query("CREATE DATABASE tls_accounts; CREATE TABLE tls_accounts.t (id INT PRIMARY KEY)");
    await sourceAdmin.query("CREATE USER 'tls_user'@'%' REQUIRE SUBJECT '/CN=x''y' AND ISSUER '/C=a\\\\b' AND CIPHER 'EDH-RSA-DES-CBC3-SHA'");
    const backup = await backUp(source, 'tls_accounts', { includeUsers: true });
    const target = await sharedTarget();
    const admin = await connect(target);

    // Act
    const { checks } = await restoreInto(target, {}, false, backup);

    // Assess: the stored strings equal the source's, and they are what was asked for
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    const stored = async (connection: Connection) => (await connection.query(
      "SELECT JSON_VALUE(Priv, '$.x509_subject') AS subject, JSON_VALUE(Priv, '$.x509_issuer') AS issuer, JSON_VALUE(Priv, '$.ssl_cipher') AS cipher FROM mysql.global_priv WHERE User = 'tls_user'",
    ) as [unknown[], unknown])[0];
    expect(await stored(admin)).toEqual(await stored(sourceAdmin));
    expect(await stored(admin)).toEqual([{ subject: "/CN=x'y", issuer: '/C=a\\b', cipher: 'EDH-RSA-DES-CBC3-SHA' }]);
    await admin.query("DROP DATABASE tls_accounts; DROP USER 'tls_user'@'%'");
    await sourceAdmin.query("DROP DATABASE tls_accounts; DROP USER 'tls_user'@'%'");
  }, 120_000);

  it('restores the backup\'s accounts leaving out a grant on a routine of a database it does not bring, which the target lacks', async () => {
    // Prepare: an account with a grant on a routine of another database, which the target lacks
    await sourceAdmin.query("CREATE DATABASE granted_here; CREATE TABLE granted_here.t (id INT PRIMARY KEY); CREATE DATABASE routines_elsewhere; CREATE PROCEDURE routines_elsewhere.pr() SELECT 1");
    await sourceAdmin.query("CREATE USER 'routine_user'@'%'; GRANT SELECT ON granted_here.* TO 'routine_user'@'%'; GRANT EXECUTE ON PROCEDURE routines_elsewhere.pr TO 'routine_user'@'%'");
    const backup = await backUp(source, 'granted_here', { includeUsers: true });
    const target = await sharedTarget();
    const admin = await connect(target);

    // Act
    const { checks } = await restoreInto(target, {}, false, backup);

    // Assess: the account and its grant on what the restore brought; not the one on the routine
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    const [grants] = await admin.query("SHOW GRANTS FOR 'routine_user'@'%'") as [Array<Record<string, string>>, unknown];
    expect(grants.map((g) => Object.values(g)[0])).toEqual(['GRANT USAGE ON *.* TO `routine_user`@`%`', 'GRANT SELECT ON `granted_here`.* TO `routine_user`@`%`']);
    await admin.query("DROP DATABASE granted_here; DROP USER 'routine_user'@'%'");
    await sourceAdmin.query("DROP DATABASE granted_here; DROP DATABASE routines_elsewhere; DROP USER 'routine_user'@'%'");
  }, 120_000);

  it('refuses, before writing anything, a restore of accounts whose authentication plugin the target has not loaded', async () => {
    // Prepare: an account of the ed25519 plugin, which the target has not loaded
    await sourceAdmin.query("INSTALL SONAME 'auth_ed25519'");
    await sourceAdmin.query("CREATE DATABASE ed_accounts; CREATE TABLE ed_accounts.t (id INT PRIMARY KEY); CREATE USER 'ed_user'@'%' IDENTIFIED VIA ed25519 USING PASSWORD('secret')");
    const backup = await backUp(source, 'ed_accounts', { includeUsers: true })
      .finally(() => sourceAdmin.query("DROP DATABASE ed_accounts; DROP USER 'ed_user'@'%'; UNINSTALL SONAME 'auth_ed25519'"));
    const target = await sharedTarget();
    const admin = await connect(target);

    // Act / Assess
    await expect(restoreInto(target, {}, false, backup)).rejects.toMatchObject({
      code: 'UNSUPPORTED_RESTORE', message: expect.stringMatching(/has not loaded the authentication plugin ed25519 \(`ed_user`@`%`\) .*Nothing was changed on the target$/),
    });
    expect((await admin.query("SHOW DATABASES LIKE 'ed_accounts'") as [unknown[], unknown])[0]).toEqual([]);
  }, 120_000);

  it('restores a view and a routine whose definer is a role, with the backup\'s accounts, still defined by the role', async () => {
    // Prepare: a role the target lacks, defining a view and a procedure
    await sourceAdmin.query("CREATE ROLE reporting_role; CREATE DATABASE role_defined; CREATE TABLE role_defined.t (id INT PRIMARY KEY); INSERT INTO role_defined.t VALUES (1)");
    await sourceAdmin.query('CREATE DEFINER=reporting_role VIEW role_defined.v AS SELECT id FROM role_defined.t; CREATE DEFINER=reporting_role PROCEDURE role_defined.p() SELECT COUNT(*) FROM role_defined.t');
    const backup = await backUp(source, 'role_defined', { includeUsers: true });
    const target = await sharedTarget();
    const admin = await connect(target);

    // Act
    const { checks } = await restoreInto(target, {}, false, backup);

    // Assess: the same definer as on the source (a role: no host)
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    const definers = async (connection: Connection) => (await connection.query(
      "SELECT DEFINER AS d FROM information_schema.VIEWS WHERE TABLE_SCHEMA = 'role_defined' UNION ALL SELECT DEFINER FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = 'role_defined'",
    ) as [Array<{ d: string }>, unknown])[0].map((r) => r.d);
    expect(await definers(admin)).toEqual(await definers(sourceAdmin));
    expect(await definers(admin)).toEqual(['reporting_role@', 'reporting_role']); // a role: no host (a view's definer ends with its @)
    await admin.query('DROP DATABASE role_defined');
    await sourceAdmin.query('DROP DATABASE role_defined; DROP ROLE reporting_role');
  }, 120_000);

  it('backs up a FEDERATED table\'s definition, not its rows, and restores it without writing to the server it points at', async () => {
    // Prepare: a FEDERATED table of the source pointing at a table of the source itself
    await sourceAdmin.query("INSTALL SONAME 'ha_federatedx'");
    await sourceAdmin.query("CREATE DATABASE remote_rows; CREATE TABLE remote_rows.t (id INT PRIMARY KEY, v VARCHAR(10)); INSERT INTO remote_rows.t VALUES (1, 'one'), (2, 'two')");
    await sourceAdmin.query(`CREATE DATABASE fed; CREATE TABLE fed.local_rows (id INT PRIMARY KEY); INSERT INTO fed.local_rows VALUES (7);
      CREATE TABLE fed.ft (id INT PRIMARY KEY, v VARCHAR(10)) ENGINE=FEDERATED CONNECTION='mysql://root@127.0.0.1:${source.port}/remote_rows/t'`);
    const backup = await backUp(source, 'fed', {});
    await sourceAdmin.query('DELETE FROM remote_rows.t WHERE id = 2'); // the remote moves on after the backup
    const target = await sharedTarget();
    const admin = await connect(target);
    await admin.query("INSTALL SONAME 'ha_federatedx'");

    // Act
    const { checks } = await restoreInto(target, {}, false, backup);

    // Assess: the definition restored (reading the remote as it is now), the remote not written; the local table's rows restored and proven
    expect((backup.facts as MysqlFacts).rowsElsewhere).toEqual([{ database: 'fed', table: 'ft', engine: 'FEDERATED' }]);
    expect((backup.facts as MysqlFacts).tables.map((t) => t.table)).toEqual(['local_rows']);
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect((await sourceAdmin.query('SELECT id FROM remote_rows.t ORDER BY id') as [unknown[], unknown])[0]).toEqual([{ id: 1 }]);
    expect((await admin.query('SELECT id FROM fed.ft ORDER BY id') as [unknown[], unknown])[0]).toEqual([{ id: 1 }]);
    expect((await admin.query('SELECT id FROM fed.local_rows') as [unknown[], unknown])[0]).toEqual([{ id: 7 }]);
    await admin.query('DROP DATABASE fed');
    await sourceAdmin.query('DROP DATABASE fed; DROP DATABASE remote_rows');
  }, 120_000);

  it('under another name, renames the reference after a string ending in a backslash in a routine created under NO_BACKSLASH_ESCAPES: the copy reads its own tables', async () => {
    // Prepare
    await sourceAdmin.query("CREATE DATABASE nb; CREATE TABLE nb.cfg (id INT PRIMARY KEY, name VARCHAR(40)); INSERT INTO nb.cfg VALUES (1, 'restored')");
    await sourceAdmin.query("SET SESSION sql_mode = 'NO_BACKSLASH_ESCAPES'");
    await sourceAdmin.query("CREATE FUNCTION nb.path_of() RETURNS VARCHAR(100) READS SQL DATA RETURN (SELECT CONCAT('C:\\', name) FROM nb.cfg WHERE id = 1)")
      .finally(() => sourceAdmin.query('SET SESSION sql_mode = DEFAULT'));
    const backup = await backUp(source, 'nb', {});
    const target = await sharedTarget();
    const admin = await connect(target);
    await admin.query("CREATE DATABASE nb; CREATE TABLE nb.cfg (id INT PRIMARY KEY, name VARCHAR(40)); INSERT INTO nb.cfg VALUES (1, 'the target''s own')");

    // Act
    const { checks } = await restoreInto(target, { renameDatabases: { nb: 'nb_copy' } }, false, backup);

    // Assess
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect((await admin.query('SELECT nb_copy.path_of() AS path') as [unknown[], unknown])[0]).toEqual([{ path: 'C:\\restored' }]);
    await admin.query('DROP DATABASE nb_copy; DROP DATABASE nb');
    await sourceAdmin.query('DROP DATABASE nb');
  }, 120_000);

  it('under another name, renames the double-quoted names of a routine created under ANSI_QUOTES: the copy writes its own tables', async () => {
    // Prepare: a procedure that writes through "db"."table" names, created under ANSI_QUOTES
    await sourceAdmin.query('CREATE DATABASE aq; CREATE TABLE aq.audit (id INT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(40))');
    await sourceAdmin.query("SET SESSION sql_mode = 'ANSI_QUOTES'");
    await sourceAdmin.query('CREATE PROCEDURE aq.note_it(IN what VARCHAR(40)) INSERT INTO "aq"."audit" ("note") VALUES (what)')
      .finally(() => sourceAdmin.query('SET SESSION sql_mode = DEFAULT'));
    const backup = await backUp(source, 'aq', {});
    const target = await sharedTarget();
    const admin = await connect(target);
    await admin.query('CREATE DATABASE aq; CREATE TABLE aq.audit (id INT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(40))');

    // Act
    const { checks } = await restoreInto(target, { renameDatabases: { aq: 'aq_copy' } }, false, backup);
    await admin.query("CALL aq_copy.note_it('into the copy')");

    // Assess
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect((await admin.query('SELECT note FROM aq_copy.audit') as [unknown[], unknown])[0]).toEqual([{ note: 'into the copy' }]);
    expect((await admin.query('SELECT note FROM aq.audit') as [unknown[], unknown])[0]).toEqual([]);
    await admin.query('DROP DATABASE aq_copy; DROP DATABASE aq');
    await sourceAdmin.query('DROP DATABASE aq');
  }, 120_000);

  it('under another name, leaves a column of a table named like its database alone: the routines and triggers still run', async () => {
    // Prepare: database named and a table of the same name, whose columns a procedure and a trigger qualify with it
    await sourceAdmin.query(`CREATE DATABASE named; CREATE TABLE named.named (id INT PRIMARY KEY, total INT);
      CREATE TABLE named.audit (id INT AUTO_INCREMENT PRIMARY KEY, n INT);
      CREATE PROCEDURE named.p_total() SELECT named.id, named.total FROM named.named;
      CREATE TRIGGER named.t_ai AFTER INSERT ON named.named FOR EACH ROW INSERT INTO named.audit (n) SELECT COUNT(*) FROM named.named WHERE named.total > 0`);
    const backup = await backUp(source, 'named', {});
    await sourceAdmin.query('DROP DATABASE named');
    const target = await sharedTarget();
    const admin = await connect(target);

    // Act
    const { checks } = await restoreInto(target, { renameDatabases: { named: 'named_r' } }, false, backup);
    await admin.query('INSERT INTO named_r.named VALUES (1, 5)');
    const [called] = await admin.query('CALL named_r.p_total()') as unknown as [Array<Array<{ id: number; total: number }>>, unknown];

    // Assess
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(called[0]).toEqual([{ id: 1, total: 5 }]);
    expect((await admin.query('SELECT n FROM named_r.audit') as [unknown[], unknown])[0]).toEqual([{ n: 1 }]);
    await admin.query('DROP DATABASE named_r');
  }, 120_000);

  it('restores a disabled one-time event, and a recurring one, whose time has passed and that are not preserved, which a server drops when it is created so, keeping their definer', async () => {
    // Prepare: the source keeps them: disabled, they never ran
    await sourceAdmin.query(`CREATE DATABASE once;
      CREATE DEFINER = 'once_owner'@'%' EVENT once.past ON SCHEDULE AT '2020-01-01 00:00:00' ON COMPLETION PRESERVE DISABLE DO SELECT 1;
      ALTER DEFINER = 'once_owner'@'%' EVENT once.past ON COMPLETION NOT PRESERVE;
      CREATE DEFINER = 'once_owner'@'%' EVENT once.ended ON SCHEDULE EVERY 1 DAY STARTS '2020-01-01 00:00:00' ENDS '2020-01-02 00:00:00' ON COMPLETION PRESERVE DISABLE DO SELECT 1;
      ALTER DEFINER = 'once_owner'@'%' EVENT once.ended ON COMPLETION NOT PRESERVE`);
    const backup = await backUp(source, 'once', {});
    await sourceAdmin.query('DROP DATABASE once');
    const target = await sharedTarget();
    const admin = await connect(target);

    // Act
    const { checks } = await restoreInto(target, {}, false, backup);

    // Assess
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    const [events] = await admin.query("SELECT EVENT_NAME AS name, STATUS AS status, ON_COMPLETION AS completion, DEFINER AS definer FROM information_schema.EVENTS WHERE EVENT_SCHEMA = 'once' ORDER BY EVENT_NAME") as [unknown[], unknown];
    expect(events).toEqual([
      { name: 'ended', status: 'DISABLED', completion: 'NOT PRESERVE', definer: 'once_owner@%' },
      { name: 'past', status: 'DISABLED', completion: 'NOT PRESERVE', definer: 'once_owner@%' },
    ]);
    await admin.query('DROP DATABASE once');
  }, 120_000);

  it('restores rows whose generated columns the source stored cut, in a lax SQL mode: the server computes them the same, and the digests prove it', async () => {
    // Prepare
    await sourceAdmin.query(`CREATE DATABASE gen; CREATE TABLE gen.cut (id INT PRIMARY KEY, a VARCHAR(10),
      g VARCHAR(3) AS (CONCAT(a, 'xyz')) STORED, n TINYINT AS (LENGTH(a) * 100) STORED) ENGINE=InnoDB`);
    await sourceAdmin.query("SET SESSION sql_mode = ''");
    await sourceAdmin.query("INSERT INTO gen.cut (id, a) VALUES (1, 'ab'), (2, NULL)").finally(() => sourceAdmin.query('SET SESSION sql_mode = DEFAULT'));
    const backup = await backUp(source, 'gen', {});
    const target = await sharedTarget();
    const admin = await connect(target);

    // Act
    const { checks } = await restoreInto(target, {}, false, backup);

    // Assess
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(await tableChecksums(admin, 'gen')).toEqual(await tableChecksums(sourceAdmin, 'gen'));
    expect((await admin.query('SELECT g, n FROM gen.cut WHERE id = 1') as [unknown[], unknown])[0]).toEqual([{ g: 'abx', n: 127 }]);
    await admin.query('DROP DATABASE gen');
    await sourceAdmin.query('DROP DATABASE gen');
  }, 120_000);

  it('warns, before writing anything, of objects whose definer has no account on the target (using them would fail), unless it restores the backup\'s accounts', async () => {
    // Prepare: a view and a trigger of an account the target lacks, one of root's
    await sourceAdmin.query(`CREATE DATABASE orphans; CREATE TABLE orphans.t (id INT PRIMARY KEY);
      CREATE DEFINER = 'gone_app'@'%' VIEW orphans.v AS SELECT id FROM orphans.t;
      CREATE DEFINER = 'gone_app'@'%' TRIGGER orphans.t_bi BEFORE INSERT ON orphans.t FOR EACH ROW SET NEW.id = NEW.id;
      CREATE DEFINER = 'root'@'localhost' VIEW orphans.w AS SELECT id FROM orphans.t`);
    const backup = await backUp(source, 'orphans', {});
    await sourceAdmin.query('DROP DATABASE orphans');
    const target = await sharedTarget();
    const warnings: Array<{ message: string; extra?: Record<string, unknown> }> = [];
    const ctx = { ...await restoreContext(target, {}, false, backup), logger: { ...silentLogger, warn: (message: string, extra?: Record<string, unknown>) => { warnings.push({ message, extra }); } } };

    // Act
    const result = await restoreLogical(ctx, await prepareLogicalTarget(ctx), { store, prefix: '' });

    // Assess
    expect(result.endpoint.tables).toBe(1);
    expect(warnings).toEqual([{ message: expect.stringMatching(/^mysql restore: objects whose definer has no account on the target are created, but each fails when used \(ERROR 1449\)/), extra: { definers: ['gone_app@%'] } }]);
    await (await connect(target)).query('DROP DATABASE orphans');
  }, 120_000);

  it('refuses a non-empty target without force and leaves it untouched; replaces it with force', async () => {
    // Prepare
    const target = await startTestMariaDb('lr-occupied', 3);
    const admin = await connect(target);
    await admin.query('CREATE DATABASE shop; CREATE TABLE shop.precious (id INT PRIMARY KEY); INSERT INTO shop.precious VALUES (42)');

    // Act
    const refused = restoreInto(target);

    // Assess
    await expect(refused).rejects.toMatchObject({ name: 'PermanentError', code: 'TARGET_NOT_EMPTY' });
    await expect(refused).rejects.toThrow(/shop \(1 table\).*--force to replace these databases \(allowed on the servers this host.s DBBACKUP_RESTORE_SERVERS names\)/);
    const [kept] = await admin.query('SELECT id FROM shop.precious') as [unknown[], unknown];
    expect(kept).toEqual([{ id: 42 }]);

    // Act
    const { checks, ctx } = await restoreInto(target, {}, true);

    // Assess
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(await backupFilesIn(ctx.spoolDir)).toEqual(record.artifacts.map((a) => a.name).sort()); // all of it here before the target was touched
    const [tables] = await admin.query("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'shop' AND TABLE_NAME = 'precious'") as [unknown[], unknown];
    expect(tables).toEqual([]);
  }, 120_000);

  it('fails with CHECKSUM_MISMATCH on a tampered chunk before touching the target, even with force', async () => {
    // Prepare: a copy of the backup whose chunk is altered in the store
    const target = await startTestMariaDb('lr-tampered', 4);
    const admin = await connect(target);
    await admin.query('CREATE DATABASE shop; CREATE TABLE shop.precious (id INT PRIMARY KEY); INSERT INTO shop.precious VALUES (7)');
    const chunk = record.artifacts.find((a) => a.name.startsWith('data/shop/big.'))!;
    const tamperedStore = new LocalDirectoryStore(await tempDir('tampered'));
    for (const artifact of record.artifacts) {
      await tamperedStore.putFile(artifact.key, path.join(store.root, artifact.key), { checkpointPath: path.join(await tempDir('cp'), 'cp.json') });
    }
    await writeFile(path.join(tamperedStore.root, chunk.key), Buffer.from('not the chunk'));
    const ctx = await restoreContext(target, {}, true);
    const prepared = await prepareLogicalTarget(ctx);

    // Act
    const restore = restoreLogical(ctx, prepared, { store: tamperedStore, prefix: '' });

    // Assess
    await expect(restore).rejects.toMatchObject({ name: 'PermanentError', code: 'CHECKSUM_MISMATCH' });
    const [kept] = await admin.query('SELECT id FROM shop.precious') as [unknown[], unknown];
    expect(kept).toEqual([{ id: 7 }]);
  }, 120_000);

  it('into an empty target, loads while downloading, and a tampered chunk fails the restore with CHECKSUM_MISMATCH, what it created marked unfinished', async () => {
    // Prepare
    const chunk = record.artifacts.find((a) => a.name.startsWith('data/shop/big.'))!;
    const tamperedStore = new LocalDirectoryStore(await tempDir('tampered-empty'));
    for (const artifact of record.artifacts) {
      await tamperedStore.putFile(artifact.key, path.join(store.root, artifact.key), { checkpointPath: path.join(await tempDir('cp'), 'cp.json') });
    }
    await writeFile(path.join(tamperedStore.root, chunk.key), Buffer.from('not the chunk'));
    const target = await sharedTarget();
    const ctx = await restoreContext(target, { renameDatabases: { shop: 'shop_tampered' } });
    const prepared = await prepareLogicalTarget(ctx);

    // Act
    const restore = restoreLogical(ctx, prepared, { store: tamperedStore, prefix: '' });

    // Assess: the download's error, not a load error; whatever was created is recognisably this restore's
    await expect(restore).rejects.toMatchObject({ name: 'PermanentError', code: 'CHECKSUM_MISMATCH' });
    const admin = await connect(target);
    const [[{ tables, marked }]] = await admin.query(
      'SELECT COUNT(*) AS tables, SUM(table_name = ?) AS marked FROM information_schema.tables WHERE table_schema = ?', [MARKER_TABLE, 'shop_tampered'],
    ) as [Array<{ tables: number; marked: string | null }>, unknown];
    expect(tables === 0 || Number(marked) === 1).toBe(true);
  }, 120_000);

  it('from a local directory store, fails NOT_FOUND naming a chunk file removed after it was verified in place, what it created marked unfinished', async () => {
    // Prepare: a store whose chunk of shop.big goes once it has been hashed
    const chunk = record.artifacts.find((a) => a.name.startsWith('data/shop/big.'))!;
    const vanishing: BlobStore = Object.assign(Object.create(store) as BlobStore, {
      async hashObject(key: string) {
        const hashed = await store.hashObject(key);
        if (key === chunk.key) await rm(store.localFile(key));
        return hashed;
      },
    });
    const target = await sharedTarget();
    const ctx = await restoreContext(target, { renameDatabases: { shop: 'shop_vanished' } });
    const prepared = await prepareLogicalTarget(ctx);
    const kept = path.join(await tempDir('kept'), 'chunk');
    await writeFile(kept, await readFile(store.localFile(chunk.key)));

    try {
      // Act
      const restore = restoreLogical(ctx, prepared, { store: vanishing, prefix: '' });

      // Assess
      await expect(restore).rejects.toMatchObject({ name: 'PermanentError', code: 'NOT_FOUND', message: expect.stringContaining(`${store.localFile(chunk.key)} is missing`) });
      const admin = await connect(target);
      const [[{ marked }]] = await admin.query('SELECT COUNT(*) AS marked FROM information_schema.tables WHERE table_schema = ? AND table_name = ?', ['shop_vanished', MARKER_TABLE]) as [Array<{ marked: number }>, unknown];
      expect(Number(marked)).toBe(1);
    } finally {
      await writeFile(store.localFile(chunk.key), await readFile(kept)); // the shared backup, whole again
    }
  }, 120_000);

  it('a retried restore replaces its own unfinished work without force; another restore needs force for it', async () => {
    // Prepare: a restore interrupted during the load
    const target = await startTestMariaDb('lr-retry', 5);
    const ctx = await restoreContext(target, { parallelism: 1 });
    const prepared: PreparedTarget = await prepareLogicalTarget(ctx);
    const abort = new AbortController();
    const abortOnceCreated = { ...ctx.logger, info: (message: string, extra?: Record<string, unknown>) => { if (message === 'mysql restore: tables created') abort.abort(); ctx.logger.info(message, extra); } };
    const interrupted = restoreLogical({ ...ctx, signal: abort.signal, logger: abortOnceCreated }, prepared, { store, prefix: '' });
    await expect(interrupted).rejects.toMatchObject({ code: 'ABORTED' });
    const admin = await connect(target);
    const [marker] = await admin.query(`SELECT COUNT(*) AS n FROM shop.${MARKER_TABLE}`) as [Array<{ n: number }>, unknown];
    expect(Number(marker[0].n)).toBe(1);

    // Act: a different restore (new prepare) is refused; the same one, retried, goes through
    const other = prepareLogicalTarget(await restoreContext(target));
    await expect(other).rejects.toThrow(/an unfinished restore/);
    await rm(ctx.spoolDir, { recursive: true, force: true }); // retried on another host: only the marker is left
    const result = await restoreLogical(ctx, prepared, { store, prefix: '' });
    const checks = await validateTables(ctx, result);

    // Assess
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(await tableChecksums(admin, 'shop')).toEqual(await tableChecksums(sourceAdmin, 'shop'));
  }, 120_000);

  it('the load reads every table and key range back as it goes, and validation reports what differs from the backup', async () => {
    // Prepare: a backup whose facts differ from its chunks in one key range of shop.big and in shop.customers
    const facts = record.facts as unknown as MysqlFacts;
    const big = facts.tables.find((t) => t.table === 'big')!;
    expect(big.splitKey).toBe('id');
    expect(big.ranges!.length).toBeGreaterThan(1);
    expect(big.ranges!.reduce((sum, r) => sum + r.chunks, 0)).toBe(big.chunks.length);
    const second = big.ranges![1];
    const altered: MysqlFacts = {
      ...facts,
      tables: facts.tables.map((t) => {
        if (t.table === 'customers') return { ...t, digest: '0'.repeat(32) };
        if (t.table === 'big') return { ...t, ranges: t.ranges!.map((r, i) => (i === 1 ? { ...r, digest: 'f'.repeat(32) } : r)) };
        return t;
      }),
    };
    const target = await startTestMariaDb('lr-readback', 6);

    // Act
    const { checks, result } = await restoreInto(target, {}, false, { ...record, facts: altered as unknown as BackupRecord['facts'] });

    // Assess
    const byName = Object.fromEntries(checks.map((c) => [c.name, c]));
    expect(result.endpoint.readBack).toMatchObject({ tables: facts.tables.length, differCount: 2 });
    expect(byName['tables-present'].ok).toBe(true);
    expect(byName['row-counts'].ok).toBe(true);
    expect(byName['table-digests']).toMatchObject({ ok: false, detail: expect.stringContaining(`shop.big key range [${second.from}, ${second.to ?? '…'}): digest differs`) });
    expect(byName['table-digests'].detail).toContain('shop.customers: digest differs');
  }, 120_000);

  it('restores a backup that recorded no columns (an older version) by creating every table first and asking the target for them', async () => {
    // Prepare
    const facts = record.facts as unknown as MysqlFacts;
    expect(facts.tables.every((t) => (t.columns?.length ?? 0) > 0)).toBe(true); // this version records them
    const older = { ...facts, tables: facts.tables.map(({ columns: _, ...t }) => t) };
    const target = await sharedTarget();

    // Act
    const { checks, result } = await restoreInto(target, { renameDatabases: { shop: 'shop_older' } }, false, { ...record, facts: older as unknown as BackupRecord['facts'] });

    // Assess
    expect(checks.every((c) => c.ok)).toBe(true);
    expect(result.endpoint.readBack).toMatchObject({ tables: facts.tables.length, differCount: 0 });
  }, 120_000);

  it(`creates a schema of ${MANY_TABLES}+ tables over several connections while loading each as it exists, foreign keys included`, async () => {
    // Prepare: many small tables, some referencing others
    const count = MANY_TABLES + 8;
    const statements = ['CREATE DATABASE many'];
    for (let t = 1; t <= count; t += 1) {
      const references = t % 10 === 0 ? `, parent INT NULL, FOREIGN KEY (parent) REFERENCES many.t${String(t - 1).padStart(3, '0')} (id)` : '';
      statements.push(`CREATE TABLE many.t${String(t).padStart(3, '0')} (id INT PRIMARY KEY, v VARCHAR(20) NOT NULL${references}) ENGINE=InnoDB`);
      statements.push(`INSERT INTO many.t${String(t).padStart(3, '0')} (id, v) SELECT seq, CONCAT('v', seq) FROM many.seq_1_to_${t * 3}`);
    }
    for (const statement of statements) await sourceAdmin.query(statement);
    const backup = await backUp(source, 'many', {});
    const target = await startTestMariaDb('lr-lanes', 10); // its own: the connections it saw at once are this restore's

    // Act
    const { checks, result } = await restoreInto(target, { parallelism: 2 }, false, backup);

    // Assess
    const restored = await connect(target);
    // Two creating connections beside the two loading ones (one creating, without the lanes).
    const [[peak]] = await restored.query("SHOW GLOBAL STATUS LIKE 'Max_used_connections'") as [Array<{ Value: string }>, unknown];
    expect(Number(peak.Value)).toBeGreaterThanOrEqual(4);
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(result.endpoint.readBack).toMatchObject({ tables: count, differCount: 0 });
    expect(await tableChecksums(restored, 'many')).toEqual(await tableChecksums(sourceAdmin, 'many'));
    const [[fks]] = await restored.query("SELECT COUNT(*) AS n FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = 'many'") as [Array<{ n: number }>, unknown];
    expect(Number(fks.n)).toBe(Math.floor(count / 10));
  }, 180_000);

  it('backs up views the source cannot resolve, naming them; the restore creates everything else and says what it left out; a view only the target cannot create still fails it', async () => {
    // Prepare: v reads a dropped table, vv reads v (and a user may read it), vc a dropped column; w is whole; x reads a database the restore does not bring, as does a grant
    await sourceAdmin.query(`CREATE DATABASE other; CREATE TABLE other.t (id INT PRIMARY KEY);
      CREATE DATABASE bv; CREATE TABLE bv.gone (id INT PRIMARY KEY); CREATE TABLE bv.keep (id INT PRIMARY KEY, c INT); INSERT INTO bv.keep VALUES (1, 0), (2, 0);
      CREATE VIEW bv.v AS SELECT id FROM bv.gone; CREATE VIEW bv.vv AS SELECT id FROM bv.v; CREATE VIEW bv.vc AS SELECT id, c FROM bv.keep; CREATE VIEW bv.w AS SELECT id FROM bv.keep;
      CREATE USER 'bv_reader'@'%'; GRANT SELECT ON bv.vv TO 'bv_reader'@'%'; GRANT SELECT ON bv.w TO 'bv_reader'@'%'; GRANT SELECT ON other.t TO 'bv_reader'@'%';
      DROP TABLE bv.gone; ALTER TABLE bv.keep DROP COLUMN c`);
    const broken = await backUp(source, 'bv', { includeUsers: true });
    await sourceAdmin.query('CREATE VIEW bv.x AS SELECT id FROM other.t');
    const crossing = await roundTrip.backUp(source, 'bv', {}, { backupId: 'lr-bv-crossing', instance: 'bv' });
    const target = await sharedTarget();
    const restored = await connect(target);

    // Act
    const { checks, result } = await restoreInto(target, { renameDatabases: { bv: 'bv_restored' } }, false, broken);
    const refused = restoreInto(target, { renameDatabases: { bv: 'bv_crossing' } }, false, crossing);

    // Assess
    expect((broken.facts as unknown as MysqlFacts).schema).toEqual([expect.objectContaining({ database: 'bv', brokenViews: ['v', 'vc', 'vv'] })]);
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(checks.find((c) => c.name === 'schema-objects')!.detail).toBe('1 views, triggers, routines and events present; left out, as the source could not resolve them either: view bv_restored.v, bv_restored.vc, bv_restored.vv');
    expect(result.endpoint.viewsLeftOut).toEqual(['bv_restored.v', 'bv_restored.vc', 'bv_restored.vv']);
    const [grants] = await restored.query("SHOW GRANTS FOR 'bv_reader'@'%'") as [Array<Record<string, string>>, unknown];
    expect(grants.map((g) => Object.values(g)[0])).toContain('GRANT SELECT ON `bv_restored`.`w` TO `bv_reader`@`%`');
    expect(grants.map((g) => Object.values(g)[0]).filter((g) => g.includes('`other`'))).toEqual([]); // a grant on a table of a database not restored, which the target lacks: left out
    const [rows] = await restored.query('SELECT id FROM bv_restored.w ORDER BY id') as [Array<{ id: number }>, unknown];
    expect(rows).toEqual([{ id: 1 }, { id: 2 }]);
    const [[marker]] = await restored.query(`SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'bv_restored' AND TABLE_NAME = '${MARKER_TABLE}'`) as [Array<{ n: number }>, unknown];
    expect(Number(marker.n)).toBe(0);
    // A view reading a database the restore does not bring, which the target lacks: refused before anything is written (it failed after the load).
    await expect(refused).rejects.toMatchObject({ code: 'UNSUPPORTED_RESTORE', message: expect.stringContaining('lacks what the backup\'s views read outside the databases restored: view x reads other.t; create those tables there (or restore their databases too) and restore again. Nothing was changed on the target') });
    const [crossingCreated] = await restored.query("SHOW DATABASES LIKE 'bv_crossing'") as [unknown[], unknown];
    expect(crossingCreated).toEqual([]);
    await restored.query("DROP DATABASE bv_restored; DROP USER 'bv_reader'@'%'");
    await sourceAdmin.query("DROP DATABASE bv; DROP DATABASE other; DROP USER 'bv_reader'@'%'");
  }, 120_000);

  it('fails naming a table its pre-schema does not create, rather than wait for it', async () => {
    // Prepare: facts listing a table no CREATE TABLE of the backup makes
    const facts = record.facts as unknown as MysqlFacts;
    const customers = facts.tables.find((t) => t.table === 'customers')!;
    const ghostly = { ...facts, tables: [...facts.tables, { ...customers, table: 'ghost' }] };
    const target = await sharedTarget();

    // Act
    const restoring = restoreInto(target, { renameDatabases: { shop: 'shop_ghost' } }, false, { ...record, facts: ghostly as unknown as BackupRecord['facts'] });

    // Assess
    await expect(restoring).rejects.toMatchObject({ code: 'SCHEMA_INVALID', message: expect.stringContaining('shop_ghost.ghost does not exist on the target') });
  }, 120_000);

  it('commits what it loads and reads back on a server whose sessions start with autocommit off', async () => {
    // Prepare
    const target = await sharedTarget();
    const admin = await connect(target);
    await admin.query('SET GLOBAL autocommit = 0');
    let outcome: Awaited<ReturnType<typeof restoreInto>>;
    try {
      // Act
      outcome = await restoreInto(target, { renameDatabases: { shop: 'shop_autocommit' } });
    } finally {
      await admin.query('SET GLOBAL autocommit = 1');
    }

    // Assess: another session sees every row the manifest lists
    const facts = record.facts as unknown as MysqlFacts;
    const reader = await connect(target);
    for (const t of facts.tables) {
      const [[row]] = await reader.query(`SELECT COUNT(*) AS n FROM shop_autocommit.\`${t.table}\``) as [Array<{ n: number }>, unknown];
      expect([t.table, Number(row.n)]).toEqual([t.table, t.rows]);
    }
    expect(outcome.checks.every((c) => c.ok)).toBe(true);
  }, 120_000);

  it('validation counts every table again, and finds the views', async () => {
    // Prepare
    const target = await sharedTarget();
    const { ctx, result } = await restoreInto(target, { renameDatabases: { shop: 'shop_counted' } });
    const admin = await connect(target);
    await admin.query('DELETE FROM shop_counted.big WHERE id = 7; DROP VIEW shop_counted.customer_totals');

    // Act
    const checks = await validateTables(ctx, result);

    // Assess
    const byName = Object.fromEntries(checks.map((c) => [c.name, c]));
    expect(byName['tables-present'].ok).toBe(true);
    expect(byName['row-counts']).toMatchObject({ ok: false, detail: expect.stringContaining('shop_counted.big: 19999 rows now, expected 20000') });
    expect(byName['schema-objects']).toMatchObject({ ok: false, detail: expect.stringContaining('view shop_counted.customer_totals') });
  }, 120_000);

  it('validation fails a table the backup\'s schema creates and its facts do not list (a manifest that lost a table would restore it empty)', async () => {
    // Prepare: the backup's record as a manifest edited to drop one table's facts and chunks would give it
    const facts = record.facts as unknown as MysqlFacts;
    const dropped = facts.tables.find((t) => t.rows > 0 && t.chunks.length > 0)!;
    const edited: BackupRecord = {
      ...record,
      facts: { ...facts, tables: facts.tables.filter((t) => t !== dropped) } as never,
      artifacts: record.artifacts.filter((a) => !dropped.chunks.includes(a.name)),
    };
    const target = await sharedTarget();
    const { ctx, result } = await restoreInto(target, { renameDatabases: { shop: 'shop_edited' } }, false, edited);

    // Act
    const checks = await validateTables(ctx, result);

    // Assess
    const byName = Object.fromEntries(checks.map((c) => [c.name, c]));
    expect(byName['tables-present']).toMatchObject({
      ok: false,
      detail: `not in the backup's facts, so restored without their rows: shop_edited.${dropped.table} (the backup's schema creates them but its manifest records no rows of them: an edited manifest?)`,
    });
    expect(byName['row-counts'].ok).toBe(true); // every table the facts list is whole: only the schema tells
  }, 120_000);

  it('validation reads the tables itself when the load did not (a point-in-time replay changes them after): a row changed is found', async () => {
    // Prepare
    const target = await sharedTarget();
    const { ctx, result } = await restoreInto(target, { renameDatabases: { shop: 'shop_read' } });
    const admin = await connect(target);
    await admin.query("UPDATE shop_read.customers SET name = 'Ada L.' WHERE id = 1; DELETE FROM shop_read.big WHERE id = 7");
    const { readBack: _, ...endpoint } = result.endpoint;

    // Act
    const checks = await validateTables(ctx, { ...result, endpoint });

    // Assess
    const byName = Object.fromEntries(checks.map((c) => [c.name, c]));
    expect(byName['row-counts']).toMatchObject({ ok: false, detail: expect.stringContaining('shop_read.big: 19999 rows, expected 20000') });
    expect(byName['table-digests']).toMatchObject({ ok: false, detail: expect.stringMatching(/shop_read\.big.*shop_read\.customers|shop_read\.customers.*shop_read\.big/) });
  }, 120_000);

  it('records how digests were computed, and never compares digests computed another way', async () => {
    // Prepare
    const target = await startTestMariaDb('lr-algorithm', 8);
    const { ctx, result } = await restoreInto(target);
    const older = { ...record, facts: { ...record.facts, digestAlgorithm: 'sum128(murmur3(u32-length-prefixed fields))' } };

    // Act
    const checks = await validateTables({ ...ctx, backup: older }, result);

    // Assess
    expect(record.facts.digestAlgorithm).toBe(DIGEST_ALGORITHM);
    expect(checks.find((c) => c.name === 'row-counts')?.ok).toBe(true);
    expect(checks.find((c) => c.name === 'table-digests')).toMatchObject({ ok: false, detail: expect.stringContaining('not comparable') });
  }, 120_000);

  it('dumps and restores tables of 1–6 MB rows byte for byte, the dump\'s batches in flight bounded in bytes', async () => {
    // Prepare
    await seedWideRows(sourceAdmin);
    const target = await startTestMariaDb('lr-wide', 9);
    const pool = sharedEncodePool(); // the backup driver's encoder threads
    const parallelism = 2;

    // Act
    const wide = await backUp(source, 'wide', { chunkRows: 50, parallelism });
    const { checks } = await restoreInto(target, { parallelism }, false, wide);

    // Assess
    const facts = (wide.facts as unknown as MysqlFacts).tables;
    expect(facts.map((t) => [t.table, t.rows])).toEqual([['blobs', 202], ['nokey', 62]]);
    expect(facts[0].chunks.length).toBeGreaterThanOrEqual(5); // 50 rows or 16 MiB a chunk
    expect(facts[1].chunks.length).toBeGreaterThanOrEqual(2);
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(await tableChecksums(await connect(target), 'wide')).toEqual(await tableChecksums(sourceAdmin, 'wide'));
    // A batch holds up to BATCH.bytes, or one wider row; per chunk being written, two batches per
    // encoder thread are in flight, plus the one that may go past that (a row wider than a batch).
    const widestRow = 6 * MiB + 64; // the 6 MiB value and the row's other bytes
    const perChunk = 2 * pool.size * BATCH.bytes + widestRow;
    expect(pool.largestBatchBytes).toBeGreaterThan(6 * MiB);
    expect(pool.largestBatchBytes).toBeLessThan(widestRow);
    expect(pool.peakInFlightBytes).toBeLessThanOrEqual(parallelism * perChunk);
    await sourceAdmin.query('DROP DATABASE wide');
  }, 600_000);

  it('says AUTH_FAILED for a wrong password and a transient error for an unreachable target', async () => {
    // Prepare
    const wrongPassword = await restoreContext(source, { password: 'wrong' });
    const unreachable = await restoreContext(source, { port: await freePort(), connectTimeoutMs: 2_000 });

    // Act / Assess
    await expect(prepareLogicalTarget(wrongPassword)).rejects.toMatchObject({ name: 'PermanentError', code: 'AUTH_FAILED', message: expect.stringContaining('(MYSQL_AUTH)') });
    await expect(prepareLogicalTarget(unreachable)).rejects.toMatchObject({ name: 'TransientError' });
  });
});
