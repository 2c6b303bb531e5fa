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
    expect(unlogged.message).toMatch(new RegExp(`pitr-not-past-target.*last GTID applied in domain \\d+: ${afterW1}, wanted ${otherServer}`));
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
    const held = await target.connect();
    try {
      await held.query('CREATE DATABASE shop');
      await held.query("CREATE TABLE shop.precious (id INT PRIMARY KEY, v TEXT) SELECT 1 AS id, 'keep me' AS v");
    } finally {
      await held.end();
    }
    const forced = (pointInTime: Record<string, string>) => failure(rt.restore({ backupId: b1.backupId, target: { ...target.config(), pointInTime }, force: true }));

    // Act
    const byGtid = await forced({ untilGtid: '0-1-1' });
    const byTime = await forced({ until: '2001-01-01T00:00:00Z' });

    // Assess
    expect(byGtid).toMatchObject({ name: 'PermanentError', code: 'PITR_TARGET_BEFORE_BACKUP' });
    expect(byGtid.message).toMatch(/before the backup's position/);
    expect(byTime).toMatchObject({ name: 'PermanentError', code: 'PITR_TARGET_BEFORE_BACKUP' });
    const untouched = await target.connect();
    try {
      const [rows] = await untouched.query('SELECT v FROM shop.precious');
      expect(rows).toEqual([{ v: 'keep me' }]);
    } finally {
      await untouched.end();
    }
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
});
