/**
 * Point-in-time recovery against real MariaDB 10.11 servers: a backup B1 with archived binlogs,
 * writes W1 then W2, a later backup B2 whose archive carries W1 and W2; restoring B1 up to a time
 * or GTID between W1 and W2 replays the binlogs of both archives and ends with W1 and without W2.
 * Physical (time target) and logical (GTID target) restores. After a logical restore only the
 * backup's database is replayed (renamed like the restore): not `other`, a database outside the
 * backup, nor accounts; a logical backup of several databases is refused before the target is touched.
 */
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import mysql, { type Connection } from 'mysql2/promise';
import { fetchRestoreManifest } from '../../../core/restore/restore-steps';
import { unlistedArtifacts } from '../../../core/catalog/backup-record';
import { startTestMariaDb, trackServerPidFile, usingConnection, type TestMariaDb } from '../../harness/mariadb';
import { freePort } from '../../harness/ports';
import type { TestRuntime } from '../../harness/runtime';
import { startShopSource, stopShopSource } from '../../harness/shop-source';

let source: TestMariaDb;
let admin: Connection;
let rt: TestRuntime;
let scratch: string;

beforeAll(async () => {
  ({ source, admin, rt, scratch } = await startShopSource('pitr-src', 5_000));
  await admin.query(`
    CREATE DATABASE crm; CREATE TABLE crm.notes (id INT PRIMARY KEY AUTO_INCREMENT, body VARCHAR(100) NOT NULL) ENGINE=InnoDB;
    CREATE DATABASE other; CREATE TABLE other.notes (id INT PRIMARY KEY AUTO_INCREMENT, body VARCHAR(100) NOT NULL) ENGINE=InnoDB;
  `);
}, 120_000);

afterAll(() => stopShopSource({ source, admin, rt, scratch }));

async function customerNames(connection: Connection, database = 'shop'): Promise<string[]> {
  const [rows] = await connection.query(`SELECT name FROM \`${database}\`.customers WHERE name LIKE 'pitr-%' ORDER BY id`) as [Array<{ name: string }>, unknown];
  return rows.map((r) => r.name);
}

/**
 * Runs `sql` on the source from a session without a default database, as an administrator would:
 * mariadb-binlog files statements (not row changes) under the session's default database, and
 * `admin` has `shop` as its own.
 */
async function runWithoutDefaultDatabase(sql: string): Promise<void> {
  await usingConnection(source.connect(), (connection) => connection.query(sql));
}

/** The source's current GTID position (after the last write). */
async function sourceGtid(): Promise<string> {
  const [[row]] = await admin.query('SELECT @@gtid_binlog_pos AS g') as [Array<{ g: string }>, unknown];
  return row.g;
}

/** Which of `databases` and of `users` exist on the server `connection` is to. */
async function presentOn(connection: Connection, databases: string[], users: string[]): Promise<{ databases: string[]; users: string[] }> {
  const [dbs] = await connection.query('SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME IN (?)', [databases]) as [Array<{ name: string }>, unknown];
  const [accounts] = await connection.query('SELECT User AS name FROM mysql.user WHERE User IN (?)', [users]) as [Array<{ name: string }>, unknown];
  return { databases: dbs.map((r) => r.name), users: accounts.map((r) => r.name) };
}

async function insertCustomer(name: string): Promise<void> {
  await admin.query('INSERT INTO shop.customers (name, created) VALUES (?, NOW())', [name]);
}

/** Waits until the wall clock is past the next whole second after `iso` (binlog times have second resolution). */
async function waitPastSecondAfter(iso: string): Promise<void> {
  const next = Math.ceil(Date.parse(iso) / 1000) * 1000;
  await sleep(Math.max(0, next - Date.now()) + 150);
}

/**
 * Purges every binlog file of the source before the current one. The server silently keeps a file
 * a binlog dump thread still reads, and an earlier backup's archive reader can take a moment to go
 * after its tool has exited: purged again until none before the current file is left.
 */
async function purgeAllButCurrentBinlog(): Promise<void> {
  const [[current]] = await admin.query('SHOW MASTER STATUS') as [Array<{ File: string }>, unknown];
  for (let attempt = 1; ; attempt += 1) {
    await admin.query('PURGE BINARY LOGS TO ?', [current.File]);
    const [files] = await admin.query('SHOW BINARY LOGS') as [Array<{ Log_name: string }>, unknown];
    if (files.every((f) => f.Log_name >= current.File)) return;
    if (attempt === 300) throw new Error(`binlogs before ${current.File} are still held after 300 purges: ${files.map((f) => f.Log_name).join(', ')}`);
    await sleep(100);
  }
}

/** Gives `target` a database named like the backup's, holding a row to keep. */
async function holdPreciousShop(target: TestMariaDb): Promise<void> {
  await usingConnection(target.connect(), async (held) => {
    await held.query('CREATE DATABASE shop');
    await held.query("CREATE TABLE shop.precious (id INT PRIMARY KEY, v TEXT) SELECT 1 AS id, 'keep me' AS v");
  });
}

/** The rows of `shop.precious` on `target` ({@link holdPreciousShop}). */
async function preciousRows(target: TestMariaDb): Promise<unknown> {
  return usingConnection(target.connect(), async (connection) => (await connection.query('SELECT v FROM shop.precious'))[0]);
}

/** The error `promise` rejects with; fails the test when it resolves. */
async function failure(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected a failure, but it succeeded');
}

type Replay = { files: Array<{ file: string; backupId: string }>; database: string | null; replayedTo: { gtid: string | null }; transactions: number; reachedTarget: boolean };

describe('mysql point-in-time recovery', () => {
  it('restores a physical backup up to a time between two writes, replaying binlogs archived by a later backup', async () => {
    // Prepare: B1, W1 at T1, W2 after T1, B2 (a logical backup of the same instance, archiving W1 and W2).
    const config = { ...source.config(), mode: 'physical', archiveBinlogs: true };
    const b1 = await rt.backup({ engine: 'mysql', instance: 'pitr-phys', config });
    await insertCustomer('pitr-w1');
    const until = new Date().toISOString();
    await waitPastSecondAfter(until);
    await insertCustomer('pitr-w2');
    const b2 = await rt.backup({ engine: 'mysql', instance: 'pitr-phys', config: { ...config, mode: 'logical', databases: ['shop'] } });
    const datadir = path.join(scratch, 'phys', 'data');
    trackServerPidFile(`${datadir}.pid`);
    const port = await freePort();

    // Act
    const report = await rt.restore({ backupId: b1.backupId, target: { ...source.config(), port, physical: { datadir }, pointInTime: { until } } });

    // Assess
    expect(report.validation.checks.filter((c) => !c.ok)).toEqual([]);
    expect(report.validation.checks.map((c) => c.name)).toEqual(['pitr-replay', 'pitr-start', 'tables-present', 'pitr-time-reached', 'pitr-not-past-target']);
    const replay = report.endpoint.replay as Replay;
    expect(replay.files.map((f) => f.backupId)).toContain(b2.backupId);
    expect(replay.reachedTarget).toBe(true);
    const restored = await mysql.createConnection({ host: '127.0.0.1', port, user: 'root' });
    try {
      expect(await customerNames(restored)).toEqual(['pitr-w1']);
      const [[gtid]] = await restored.query('SELECT @@gtid_slave_pos AS g') as [Array<{ g: string }>, unknown];
      expect(gtid.g).toBe(replay.replayedTo.gtid);
    } finally {
      await restored.end();
    }
    expect(await customerNames(admin)).toEqual(['pitr-w1', 'pitr-w2']);
    // Each manifest lists every artifact its facts name (the physical stream, chunks, archived binlogs): what `verify` checks.
    for (const backup of [b1, b2]) {
      const { manifest } = await rt.catalog.get(backup.backupId);
      expect((manifest.facts as { binlogs?: string[] }).binlogs?.length).toBeGreaterThan(0);
      expect(unlistedArtifacts(rt.registry, manifest)).toEqual([]);
    }
  }, 180_000);

  it('restores a logical backup up to a GTID between two writes; a GTID of another server id is not taken for it', async () => {
    // Prepare: B1, W1 (its GTID recorded), W2, B2.
    const config = { ...source.config(), databases: ['shop'], archiveBinlogs: true };
    const b1 = await rt.backup({ engine: 'mysql', instance: 'pitr-logical', config });
    await insertCustomer('pitr-g1');
    const afterW1 = await sourceGtid();
    await insertCustomer('pitr-g2');
    await rt.backup({ engine: 'mysql', instance: 'pitr-logical', config });
    const target = await startTestMariaDb('pitr-target', 7);

    // Act
    const report = await rt.restore({ backupId: b1.backupId, target: { ...target.config(), pointInTime: { untilGtid: afterW1 } } });

    // Assess
    expect(report.validation.checks.filter((c) => !c.ok)).toEqual([]);
    expect(report.validation.checks.map((c) => c.name)).toEqual(['pitr-replay', 'pitr-start', 'tables-present', 'pitr-gtid-reached', 'pitr-not-past-target']);
    const replay = report.endpoint.replay as Replay;
    expect(replay.replayedTo.gtid).toBe(afterW1);
    expect(replay.transactions).toBe(1);
    const restored = await target.connect();
    try {
      expect(await customerNames(restored)).toEqual(['pitr-w1', 'pitr-w2', 'pitr-g1']);
    } finally {
      await restored.end();
    }
    // The later backups are read for a replay only: a plain restore of B1 reads none (their
    // manifests are as many as the backups taken since).
    const fetched = (pointInTime?: object) => fetchRestoreManifest({ backupId: b1.backupId, target: { ...target.config(), ...(pointInTime ? { pointInTime } : {}) } }, rt.deps);
    expect((await fetched({ untilGtid: afterW1 })).chain).toBeDefined();
    expect((await fetched()).chain).toBeUndefined();
    // A drill into a scratch target: its settings say whether it replays.
    const drilled = (targetSettings?: object) => fetchRestoreManifest({ backupId: b1.backupId, drill: targetSettings ? { targetSettings } : {} }, rt.deps);
    expect((await drilled({ pointInTime: { untilGtid: afterW1 } })).chain).toBeDefined();
    expect((await drilled()).chain).toBeUndefined();
    // A GTID no server logged (W1's domain and sequence, another server id) is not taken for W1's.
    const otherServer = afterW1.replace(/^(\d+)-\d+-/, '$1-99-');
    const unlogged = await failure(rt.restore({ backupId: b1.backupId, target: { ...(await startTestMariaDb('pitr-target-other', 12)).config(), pointInTime: { untilGtid: otherServer } } }));
    expect(unlogged).toMatchObject({ name: 'PermanentError', code: 'PITR_NOT_COVERED' });
    expect(unlogged.message).toMatch(new RegExp(`GTID ${otherServer} is not in the archived binary logs`));
  }, 180_000);

  it('keeps the replay out of the target\'s binary log too when the restore target says binlog false', async () => {
    // Prepare: B1, W1 (its GTID recorded), B2 archiving the binlog W1 is in
    const config = { ...source.config(), databases: ['shop'], archiveBinlogs: true };
    const b1 = await rt.backup({ engine: 'mysql', instance: 'pitr-unlogged', config });
    await insertCustomer('pitr-u1');
    const afterW1 = await sourceGtid();
    await rt.backup({ engine: 'mysql', instance: 'pitr-unlogged', config });
    const target = await startTestMariaDb('pitr-unlogged', 9);
    const restored = await target.connect();
    const binlogPosition = async () => ((await restored.query('SELECT @@gtid_binlog_pos AS g') as [Array<{ g: string }>, unknown])[0][0].g);

    try {
      const before = await binlogPosition();

      // Act
      const report = await rt.restore({ backupId: b1.backupId, target: { ...target.config(), binlog: false, pointInTime: { untilGtid: afterW1 } } });

      // Assess
      expect(report.validation.checks.filter((c) => !c.ok)).toEqual([]);
      expect((await customerNames(restored)).at(-1)).toBe('pitr-u1');
      expect(await binlogPosition()).toBe(before);
    } finally {
      await restored.end();
    }
  }, 180_000);

  it('refuses a GTID target or a time that lies before the backup when it prepares the target: a forced restore leaves the target\'s data', async () => {
    // Prepare: a target holding a database of the backup's name, its data to keep
    const b1 = await rt.backup({ engine: 'mysql', instance: 'pitr-early', config: { ...source.config(), databases: ['shop'], archiveBinlogs: true } });
    const target = await startTestMariaDb('pitr-early', 8);
    await holdPreciousShop(target);
    const forced = (pointInTime: Record<string, string>) => failure(rt.restore({ backupId: b1.backupId, target: { ...target.config(), pointInTime }, force: true }));

    // Act
    const byGtid = await forced({ untilGtid: '0-1-1' });
    const byTime = await forced({ until: '2001-01-01T00:00:00Z' });

    // Assess
    expect(byGtid).toMatchObject({ name: 'PermanentError', code: 'PITR_TARGET_BEFORE_BACKUP' });
    expect(byGtid.message).toMatch(/before the backup's position/);
    expect(byTime).toMatchObject({ name: 'PermanentError', code: 'PITR_TARGET_BEFORE_BACKUP' });
    expect(await preciousRows(target)).toEqual([{ v: 'keep me' }]);
  }, 180_000);

  it('replays after a renaming logical restore only the restored database\'s changes: not another database\'s, not accounts', async () => {
    // Prepare: B1 of shop; after it R1 in shop, a write to other and a new account (the target), then R2; B2.
    const config = { ...source.config(), databases: ['shop'], archiveBinlogs: true };
    const b1 = await rt.backup({ engine: 'mysql', instance: 'pitr-rename', config });
    await insertCustomer('pitr-r1');
    await admin.query("INSERT INTO other.notes (body) VALUES ('after the backup')");
    await runWithoutDefaultDatabase("CREATE USER 'pitr_rename'@'%' IDENTIFIED BY 'secret'");
    const untilGtid = await sourceGtid();
    await insertCustomer('pitr-r2');
    await rt.backup({ engine: 'mysql', instance: 'pitr-rename', config });
    const target = await startTestMariaDb('pitr-rename', 9);

    // Act
    const report = await rt.restore({ backupId: b1.backupId, target: { ...target.config(), renameDatabases: { shop: 'shop_pitr' }, pointInTime: { untilGtid } } });

    // Assess
    expect(report.validation.checks.filter((c) => !c.ok)).toEqual([]);
    const replay = report.endpoint.replay as Replay;
    expect(replay.database).toBe('shop');
    expect(replay.replayedTo.gtid).toBe(untilGtid);
    const restored = await target.connect();
    try {
      expect((await customerNames(restored, 'shop_pitr')).filter((n) => n.startsWith('pitr-r'))).toEqual(['pitr-r1']);
      expect(await presentOn(restored, ['shop', 'shop_pitr', 'other'], ['pitr_rename'])).toEqual({ databases: ['shop_pitr'], users: [] });
    } finally {
      await restored.end();
    }
  }, 180_000);

  it('refuses a point-in-time restore of a logical backup of several databases before touching the target', async () => {
    // Prepare: B1 of shop and crm; after it writes to both, to other (not backed up) and a new account; B2.
    const config = { ...source.config(), databases: ['shop', 'crm'], archiveBinlogs: true };
    const b1 = await rt.backup({ engine: 'mysql', instance: 'pitr-multi', config });
    await insertCustomer('pitr-m1');
    await admin.query("INSERT INTO crm.notes (body) VALUES ('after the backup')");
    await admin.query("INSERT INTO other.notes (body) VALUES ('after the backup')");
    await runWithoutDefaultDatabase("CREATE USER 'pitr_multi'@'%' IDENTIFIED BY 'secret'");
    const untilGtid = await sourceGtid();
    await rt.backup({ engine: 'mysql', instance: 'pitr-multi', config });
    const target = await startTestMariaDb('pitr-multi', 10);

    // Act
    const error = await failure(rt.restore({ backupId: b1.backupId, target: { ...target.config(), pointInTime: { untilGtid } } }));

    // Assess
    expect(error).toMatchObject({ name: 'PermanentError', code: 'UNSUPPORTED_RESTORE' });
    expect(error.message).toMatch(/logical backup of 2 databases \((crm, shop|shop, crm)\).*without pointInTime/);
    const untouched = await target.connect();
    try {
      expect(await presentOn(untouched, ['shop', 'crm', 'other'], ['pitr_multi'])).toEqual({ databases: [], users: [] });
    } finally {
      await untouched.end();
    }
  }, 180_000);

  it('refuses, before touching the target, a replay whose statements reach past the restored database: a qualified name under a rename (one of case only too), a change made from another default database, an account statement', async () => {
    // Prepare: B1 of shop (with table pitr_names); ALTER naming shop from shop's session (G1); ALTER from a session without a default database (G2); B2.
    await admin.query('CREATE TABLE shop.pitr_names (id INT PRIMARY KEY)');
    const config = { ...source.config(), databases: ['shop'], archiveBinlogs: true };
    const b1 = await rt.backup({ engine: 'mysql', instance: 'pitr-names', config });
    await admin.query('ALTER TABLE shop.pitr_names ADD qualified INT');
    const g1 = await sourceGtid();
    await runWithoutDefaultDatabase('ALTER TABLE shop.pitr_names ADD from_elsewhere INT');
    const g2 = await sourceGtid();
    await admin.query("CREATE USER 'pitr_names_evil'@'%' IDENTIFIED BY 'x'"); // from shop's session: the tool keeps it
    const g3 = await sourceGtid();
    await rt.backup({ engine: 'mysql', instance: 'pitr-names', config });
    const target = await startTestMariaDb('pitr-names', 13);
    await holdPreciousShop(target);

    // Act
    const renamed = await failure(rt.restore({ backupId: b1.backupId, target: { ...target.config(), renameDatabases: { shop: 'shop_copy' }, pointInTime: { untilGtid: g1 } } }));
    const elsewhere = await failure(rt.restore({ backupId: b1.backupId, target: { ...target.config(), renameDatabases: { shop: 'shop_copy' }, pointInTime: { untilGtid: g2 } } }));
    const caseOnly = await failure(rt.restore({ backupId: b1.backupId, target: { ...target.config(), renameDatabases: { shop: 'Shop' }, pointInTime: { untilGtid: g1 } } }));
    const account = await failure(rt.restore({ backupId: b1.backupId, target: { ...target.config(), renameDatabases: { shop: 'shop_copy' }, pointInTime: { untilGtid: g3 } } }));

    // Assess
    expect(renamed).toMatchObject({ name: 'PermanentError', code: 'UNSUPPORTED_RESTORE' });
    expect(renamed.message).toMatch(new RegExp(`GTID ${g1} in binlog\\.\\d+ \\(ALTER TABLE shop\\.pitr_names ADD qualified INT\\) names shop itself`));
    expect(elsewhere.message).toMatch(new RegExp(`GTID ${g2} in binlog\\.\\d+ \\(ALTER TABLE shop\\.pitr_names ADD from_elsewhere INT\\) changes shop from a session whose default database was another`));
    expect(caseOnly.message).toMatch(/names shop itself, which the rename to Shop does not reach/);
    expect(account.message).toMatch(new RegExp(`GTID ${g3} in binlog\\.\\d+ \\(CREATE USER .* IDENTIFIED BY '\\*\\*\\*'\\) changes accounts or privileges`));
    expect(await preciousRows(target)).toEqual([{ v: 'keep me' }]);
    expect(await usingConnection(target.connect(), (c) => presentOn(c, ['shop', 'shop_copy', 'Shop'], ['pitr_names_evil']))).toEqual({ databases: ['shop'], users: [] });
  }, 180_000);

  it('refuses a DROP DATABASE of the backed-up database under a rename: it would drop the target\'s database of that name', async () => {
    // Prepare: database pitr_gone, B1 of it; dropped from another session (G1); B2. The target holds its own pitr_gone.
    await admin.query('CREATE DATABASE pitr_gone; CREATE TABLE pitr_gone.t (id INT PRIMARY KEY)');
    const config = { ...source.config(), databases: ['pitr_gone'], archiveBinlogs: true };
    const b1 = await rt.backup({ engine: 'mysql', instance: 'pitr-gone', config });
    await runWithoutDefaultDatabase('DROP DATABASE pitr_gone');
    const g1 = await sourceGtid();
    await rt.backup({ engine: 'mysql', instance: 'pitr-gone', config: { ...config, databases: ['shop'] } });
    const target = await startTestMariaDb('pitr-gone', 18);
    await usingConnection(target.connect(), (c) => c.query("CREATE DATABASE pitr_gone; CREATE TABLE pitr_gone.mine (v TEXT) SELECT 'keep me' AS v"));

    // Act
    const error = await failure(rt.restore({ backupId: b1.backupId, target: { ...target.config(), renameDatabases: { pitr_gone: 'pitr_gone_copy' }, pointInTime: { untilGtid: g1 } } }));

    // Assess
    expect(error).toMatchObject({ name: 'PermanentError', code: 'UNSUPPORTED_RESTORE' });
    expect(error.message).toMatch(new RegExp(`GTID ${g1} in binlog\\.\\d+ \\(DROP DATABASE pitr_gone\\) names pitr_gone itself`));
    expect(await usingConnection(target.connect(), async (c) => (await c.query('SELECT v FROM pitr_gone.mine'))[0])).toEqual([{ v: 'keep me' }]);
  }, 180_000);

  it('refuses a data change logged as a statement when a trigger of the backup writes to another database: the target would run it again', async () => {
    // Prepare: a trigger on shop.pitr_trig writing to other.notes; B1; an insert logged as a statement (G1); B2
    await admin.query('CREATE TABLE shop.pitr_trig (id INT PRIMARY KEY)');
    await admin.query("CREATE TRIGGER shop.pitr_trig_log AFTER INSERT ON shop.pitr_trig FOR EACH ROW INSERT INTO other.notes (body) VALUES (CONCAT('trigger ', NEW.id))");
    try {
      const config = { ...source.config(), databases: ['shop'], archiveBinlogs: true };
      const b1 = await rt.backup({ engine: 'mysql', instance: 'pitr-trigger', config });
      await usingConnection(source.connect('shop'), async (c) => {
        await c.query("SET SESSION binlog_format = 'STATEMENT'");
        await c.query('INSERT INTO pitr_trig VALUES (1)');
      });
      const g1 = await sourceGtid();
      await rt.backup({ engine: 'mysql', instance: 'pitr-trigger', config });
      const target = await startTestMariaDb('pitr-trigger', 20);

      // Act
      const error = await failure(rt.restore({ backupId: b1.backupId, target: { ...target.config(), pointInTime: { untilGtid: g1 } } }));

      // Assess
      expect(error).toMatchObject({ name: 'PermanentError', code: 'UNSUPPORTED_RESTORE' });
      expect(error.message).toMatch(new RegExp(`GTID ${g1} in binlog\\.\\d+ \\(INSERT INTO pitr_trig VALUES \\(1\\)\\) is a data change logged as a statement .*trigger \\S*pitr_trig_log\\S* reaches outside shop`));
      expect(await usingConnection(target.connect(), (c) => presentOn(c, ['shop', 'other'], ['nobody']))).toEqual({ databases: [], users: [] });
    } finally {
      await admin.query('DROP TRIGGER shop.pitr_trig_log');
    }
  }, 180_000);

  it('replays into a target with its own GTID history under gtid_strict_mode, logging the changes under its own GTIDs; a table the replay dropped is not missed', async () => {
    // Prepare: shop.pitr_dropped; B1; W1 and the table dropped; B2. The target's own GTID sequence is far above the source's.
    await admin.query('CREATE TABLE shop.pitr_dropped (id INT PRIMARY KEY)');
    const config = { ...source.config(), databases: ['shop'], archiveBinlogs: true };
    const b1 = await rt.backup({ engine: 'mysql', instance: 'pitr-strict', config });
    await insertCustomer('pitr-s1');
    await admin.query('DROP TABLE pitr_dropped');
    const untilGtid = await sourceGtid();
    await rt.backup({ engine: 'mysql', instance: 'pitr-strict', config });
    const target = await startTestMariaDb('pitr-strict', 14);
    const own = await target.connect();
    try {
      await own.query('SET GLOBAL gtid_strict_mode = 1');
      await own.query('SET SESSION gtid_seq_no = 1000000');
      await own.query('CREATE DATABASE target_own');
      const ownPosition = ((await own.query('SELECT @@gtid_binlog_pos AS g') as [Array<{ g: string }>, unknown])[0][0].g);

      // Act
      const report = await rt.restore({ backupId: b1.backupId, target: { ...target.config(), pointInTime: { untilGtid } } });

      // Assess
      expect(report.validation.checks.filter((c) => !c.ok)).toEqual([]);
      expect(report.validation.checks.find((c) => c.name === 'tables-present')?.detail).toMatch(/the replay dropped or renamed 1: shop\.pitr_dropped/);
      expect((await customerNames(own)).at(-1)).toBe('pitr-s1');
      const [[after]] = await own.query('SELECT @@gtid_binlog_pos AS g') as [Array<{ g: string }>, unknown];
      expect(ownPosition).toBe('0-14-1000000');
      expect(after.g).toMatch(/^0-14-100\d{4}$/);
      expect(Number(after.g.split('-')[2])).toBeGreaterThan(1_000_000);
    } finally {
      await own.end();
    }
  }, 180_000);

  it('says which transactions a time target left out when one stamped ahead of its neighbours stopped the replay', async () => {
    // Prepare: B1; W1; F, stamped a day ahead (SET timestamp); W2; the target time; W3; B2.
    const config = { ...source.config(), databases: ['shop'], archiveBinlogs: true };
    const b1 = await rt.backup({ engine: 'mysql', instance: 'pitr-ahead', config });
    await insertCustomer('pitr-a1');
    await usingConnection(source.connect('shop'), async (connection) => {
      await connection.query('SET timestamp = UNIX_TIMESTAMP() + 86400');
      await connection.query("INSERT INTO customers (name, created) VALUES ('pitr-ahead', NOW())");
    });
    await insertCustomer('pitr-a2');
    const w2 = await sourceGtid();
    const until = new Date().toISOString();
    await waitPastSecondAfter(until);
    await insertCustomer('pitr-a3');
    await rt.backup({ engine: 'mysql', instance: 'pitr-ahead', config });
    const target = await startTestMariaDb('pitr-ahead', 15);

    // Act
    const report = await rt.restore({ backupId: b1.backupId, target: { ...target.config(), pointInTime: { until } } });

    // Assess
    const replay = report.endpoint.replay as Replay & { stampedBeforeTarget: { count: number; first: { gtid: string } } | null };
    expect(replay.stampedBeforeTarget).toMatchObject({ count: 1, first: { gtid: w2 } });
    expect(report.validation.checks.find((c) => c.name === 'pitr-time-reached')?.detail).toMatch(new RegExp(`1 transaction logged right after it is stamped before the target \\(first: GTID ${w2} .*not replayed.*untilGtid`));
    expect((await usingConnection(target.connect(), (c) => customerNames(c))).filter((n) => n.startsWith('pitr-a'))).toEqual(['pitr-a1']);
  }, 180_000);

  it('restores `latest` to a point in time from the newest backup taken before the point, naming the newer ones passed over; a point beyond the archives is refused before the target is touched', async () => {
    // Prepare: B1; W1; the target time; W2; B2 (taken after the point)
    const config = { ...source.config(), databases: ['shop'], archiveBinlogs: true };
    const b1 = await rt.backup({ engine: 'mysql', instance: 'pitr-latest', config });
    await insertCustomer('pitr-l1');
    const until = new Date().toISOString();
    await waitPastSecondAfter(until);
    await insertCustomer('pitr-l2');
    const b2 = await rt.backup({ engine: 'mysql', instance: 'pitr-latest', config });
    const target = await startTestMariaDb('pitr-latest', 16);

    // Act
    const report = await rt.restore({ backupId: 'latest', engine: 'mysql', instance: 'pitr-latest', target: { ...target.config(), pointInTime: { until } } });

    // Assess
    expect(report.backupId).toBe(b1.backupId);
    expect(report.passedOver).toEqual([{ backupId: b2.backupId, why: expect.stringMatching(/^until .* is before the backup/) }]);
    expect(report.validation.checks.filter((c) => !c.ok)).toEqual([]);
    expect((await usingConnection(target.connect(), (c) => customerNames(c))).filter((n) => n.startsWith('pitr-l'))).toEqual(['pitr-l1']);

    // A point beyond every archive: refused before the target is touched.
    const beyond = new Date(Date.now() + 3_600_000).toISOString();
    const beyondTarget = await startTestMariaDb('pitr-beyond', 17);
    const failed = await failure(rt.restore({ backupId: b1.backupId, target: { ...beyondTarget.config(), pointInTime: { until: beyond } } }));
    expect(failed).toMatchObject({ name: 'PermanentError', code: 'PITR_NOT_COVERED' });
    expect(failed.message).toMatch(/the archived binary logs end before .*take a backup with archiveBinlogs after the target time/);
    expect(await usingConnection(beyondTarget.connect(), (c) => presentOn(c, ['shop'], ['nobody']))).toEqual({ databases: [], users: [] });
  }, 180_000);

  it('replays to a point a later backup passed, though binlogs after that backup\'s file are missing from every archive; a point in the missing files is refused', async () => {
    // Prepare: B1; W1 (the target); a new binlog file; B2 (past the point, archives its file); two more files, the older ones purged; B3 archives the last only.
    const config = { ...source.config(), databases: ['shop'], archiveBinlogs: true };
    const b1 = await rt.backup({ engine: 'mysql', instance: 'pitr-gap-after', config });
    await insertCustomer('pitr-g-w1');
    const untilGtid = await sourceGtid();
    await admin.query('FLUSH BINARY LOGS');
    await rt.backup({ engine: 'mysql', instance: 'pitr-gap-after', config });
    await insertCustomer('pitr-g-w2');
    const inPurgedFile = await sourceGtid();
    await admin.query('FLUSH BINARY LOGS');
    await insertCustomer('pitr-g-w3');
    await admin.query('FLUSH BINARY LOGS');
    await purgeAllButCurrentBinlog();
    await rt.backup({ engine: 'mysql', instance: 'pitr-gap-after', config });
    const target = await startTestMariaDb('pitr-gap-after', 19);

    // Act
    const lost = await failure(rt.restore({ backupId: b1.backupId, target: { ...target.config(), pointInTime: { untilGtid: inPurgedFile } } }));
    const untouched = await usingConnection(target.connect(), (c) => presentOn(c, ['shop'], ['nobody']));
    const report = await rt.restore({ backupId: b1.backupId, target: { ...target.config(), pointInTime: { untilGtid } } });

    // Assess: a point past the gap is refused before the target is touched; one before it is restored
    expect(lost).toMatchObject({ name: 'PermanentError', code: 'BINLOG_GAP' });
    expect(untouched.databases).toEqual([]);
    expect(report.validation.checks.filter((c) => !c.ok)).toEqual([]);
    expect((await usingConnection(target.connect(), (c) => customerNames(c))).filter((n) => n.startsWith('pitr-g-'))).toEqual(['pitr-g-w1']);
  }, 180_000);

  it('does not replay another binlog history\'s files of the same names: after RESET MASTER, numbers and GTIDs caught up', async () => {
    // Prepare: B1 in file N at GTID S; W1; the point; RESET MASTER; files renumbered up to N, GTIDs past S; W2; B2
    const config = { ...source.config(), databases: ['shop'], archiveBinlogs: true };
    const b1 = await rt.backup({ engine: 'mysql', instance: 'pitr-reset', config });
    const [[before]] = await admin.query('SHOW MASTER STATUS') as [Array<{ File: string }>, unknown];
    await insertCustomer('pitr-x-w1');
    const until = new Date().toISOString();
    await waitPastSecondAfter(until);
    const sequence = Number((await sourceGtid()).split('-')[2]);
    await admin.query('RESET MASTER');
    for (let n = 1; n < Number(before.File.split('.')[1]); n += 1) await admin.query('FLUSH BINARY LOGS');
    await admin.query('SET SESSION gtid_seq_no = ?', [sequence + 100]);
    await insertCustomer('pitr-x-new-history');
    await rt.backup({ engine: 'mysql', instance: 'pitr-reset', config });
    const target = await startTestMariaDb('pitr-reset', 22);

    // Act
    const error = await failure(rt.restore({ backupId: b1.backupId, target: { ...target.config(), pointInTime: { until } } }));

    // Assess: only B1's own archive is of this history, and it was taken before W1: the point is not covered
    expect(error).toMatchObject({ name: 'PermanentError', code: 'PITR_NOT_COVERED' });
    expect(await usingConnection(target.connect(), (c) => presentOn(c, ['shop'], ['nobody']))).toEqual({ databases: [], users: [] });
  }, 180_000);

  // Last in the file: the source keeps a second GTID domain in its position from here on.
  it('refuses a GTID target when the binlogs hold several GTID domains (the binlog tool would replay the named one only) before touching the target', async () => {
    // Prepare: B1; a write in domain 0, one in domain 5, one in domain 0 again; B2
    const config = { ...source.config(), databases: ['shop'], archiveBinlogs: true };
    const b1 = await rt.backup({ engine: 'mysql', instance: 'pitr-domains', config });
    await insertCustomer('pitr-d0-1');
    await admin.query('SET SESSION gtid_domain_id = 5');
    try {
      await insertCustomer('pitr-d5-1');
    } finally {
      await admin.query('SET SESSION gtid_domain_id = 0');
    }
    await insertCustomer('pitr-d0-2');
    const untilGtid = [...(await sourceGtid()).split(',')].find((g) => g.startsWith('0-'))!;
    await rt.backup({ engine: 'mysql', instance: 'pitr-domains', config });
    const target = await startTestMariaDb('pitr-domains', 11);

    // Act
    const byGtid = await failure(rt.restore({ backupId: b1.backupId, target: { ...target.config(), pointInTime: { untilGtid } } }));

    // Assess
    expect(byGtid).toMatchObject({ name: 'PermanentError', code: 'UNSUPPORTED_RESTORE' });
    expect(byGtid.message).toMatch(/holds? transactions of domains 0, 5: .*restore to a time \(until\) instead/);
    const untouched = await target.connect();
    try {
      expect(await presentOn(untouched, ['shop'], ['nobody'])).toEqual({ databases: [], users: [] });
    } finally {
      await untouched.end();
    }
  }, 180_000);

  it('creates the backup\'s enabled events held while the binlogs replay, so they cannot run twice what the replay applies, then, the restore proven, enables those whose status the replay left alone, each keeping its definer', async () => {
    // Prepare: database clock and two enabled events (the source's event scheduler is off: they never run there); B1;
    // the window: a row, and tock disabled (from clock, so the binlog tool keeps it); B2. The target's event scheduler is on.
    await runWithoutDefaultDatabase(`CREATE DATABASE clock; CREATE TABLE clock.ticks (id INT PRIMARY KEY AUTO_INCREMENT, at DATETIME(6) NOT NULL) ENGINE=InnoDB;
      CREATE DEFINER = 'clock_owner'@'%' EVENT clock.tick ON SCHEDULE EVERY 1 SECOND DO INSERT INTO clock.ticks (at) VALUES (NOW(6));
      CREATE EVENT clock.tock ON SCHEDULE EVERY 1 HOUR DO INSERT INTO clock.ticks (at) VALUES (NOW(6))`);
    const config = { ...source.config(), databases: ['clock'], archiveBinlogs: true };
    const b1 = await rt.backup({ engine: 'mysql', instance: 'pitr-events', config });
    await usingConnection(source.connect(), async (connection) => {
      await connection.query('USE clock');
      await connection.query("INSERT INTO ticks (at) VALUES ('2000-01-01 00:00:00')");
      await connection.query('ALTER EVENT tock DISABLE');
    });
    const until = new Date().toISOString(); // a time: the binlogs hold another GTID domain's transactions by now
    await waitPastSecondAfter(until);
    await rt.backup({ engine: 'mysql', instance: 'pitr-events', config });
    const target = await startTestMariaDb('pitr-events', 21);
    const restored = await target.connect();
    const statuses = async () => (await restored.query("SELECT EVENT_NAME AS name, STATUS AS status, DEFINER AS definer FROM information_schema.EVENTS WHERE EVENT_SCHEMA = 'clock' ORDER BY EVENT_NAME") as [unknown[], unknown])[0];

    try {
      await restored.query('SET GLOBAL event_scheduler = ON');

      // Act
      const report = await rt.restore({ backupId: b1.backupId, target: { ...target.config(), pointInTime: { until } } });

      // Assess
      expect(report.validation.checks.filter((c) => !c.ok)).toEqual([]);
      expect(report.endpoint.eventsHeld).toEqual([{ database: 'clock', name: 'tick' }, { database: 'clock', name: 'tock' }]);
      expect(report.validation.checks.find((c) => c.name === 'events-enabled')).toEqual({
        name: 'events-enabled', ok: true, detail: '1 of 2 events, created held so none ran before the restore was proven, enabled after it: clock.tick; 1 left as the replay set or dropped them',
      });
      expect(await statuses()).toEqual([{ name: 'tick', status: 'ENABLED', definer: 'clock_owner@%' }, { name: 'tock', status: 'DISABLED', definer: expect.any(String) }]);
      const [[replayed]] = await restored.query("SELECT COUNT(*) AS n FROM clock.ticks WHERE at = '2000-01-01 00:00:00'") as [Array<{ n: number }>, unknown];
      expect(Number(replayed.n)).toBe(1);
    } finally {
      await restored.end();
      await runWithoutDefaultDatabase('DROP DATABASE clock');
    }
  }, 180_000);

  it('refuses a replay whose window creates or enables an event while the target\'s event scheduler is on (it would run there during the replay) before touching the target; with the scheduler off, it replays', async () => {
    // Prepare: B1 of database chime; the window creates an event (from chime, so the binlog tool keeps it) and writes a row; B2
    await runWithoutDefaultDatabase('CREATE DATABASE chime; CREATE TABLE chime.rings (id INT PRIMARY KEY AUTO_INCREMENT, at DATETIME(6) NOT NULL) ENGINE=InnoDB');
    const config = { ...source.config(), databases: ['chime'], archiveBinlogs: true };
    const b1 = await rt.backup({ engine: 'mysql', instance: 'pitr-chime', config });
    await usingConnection(source.connect(), async (connection) => {
      await connection.query('USE chime');
      await connection.query('CREATE EVENT ring ON SCHEDULE EVERY 1 SECOND DO INSERT INTO rings (at) VALUES (NOW(6))');
      await connection.query("INSERT INTO rings (at) VALUES ('2000-01-01 00:00:00')");
    });
    const until = new Date().toISOString();
    await waitPastSecondAfter(until);
    await rt.backup({ engine: 'mysql', instance: 'pitr-chime', config });
    const target = await startTestMariaDb('pitr-chime', 23);
    const restored = await target.connect();

    try {
      await restored.query('SET GLOBAL event_scheduler = ON');

      // Act
      const refused = await failure(rt.restore({ backupId: b1.backupId, target: { ...target.config(), pointInTime: { until } } }));

      // Assess
      expect(refused).toMatchObject({ name: 'PermanentError', code: 'UNSUPPORTED_RESTORE' });
      expect(refused.message).toMatch(/\(CREATE DEFINER=\S+ EVENT ring ON SCHEDULE .*\) creates or enables an event, which the target \(its event scheduler on\) would run while the replay applies .*SET GLOBAL event_scheduler = OFF/);
      expect(await presentOn(restored, ['chime'], ['nobody'])).toEqual({ databases: [], users: [] });

      // Act
      await restored.query('SET GLOBAL event_scheduler = OFF');
      const report = await rt.restore({ backupId: b1.backupId, target: { ...target.config(), pointInTime: { until } } });

      // Assess
      expect(report.validation.checks.filter((c) => !c.ok)).toEqual([]);
      const [rings] = await restored.query('SELECT at FROM chime.rings') as [Array<{ at: Date }>, unknown];
      expect(rings).toHaveLength(1);
    } finally {
      await restored.end();
      await runWithoutDefaultDatabase('DROP DATABASE chime');
    }
  }, 180_000);
});
