/**
 * Point-in-time recovery against real MariaDB 10.11 servers: a backup B1 with archived binlogs,
 * writes W1 then W2, a later backup B2 whose archive carries W1 and W2; restoring B1 up to a time
 * or GTID between W1 and W2 replays the binlogs of both archives and ends with W1 and without W2.
 * Physical (time target) and logical (GTID target) restores.
 */
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import mysql, { type Connection } from 'mysql2/promise';
import { startTestMariaDb, trackServerPidFile, type TestMariaDb } from '../../harness/mariadb';
import { freePort } from '../../harness/ports';
import type { TestRuntime } from '../../harness/runtime';
import { startShopSource, stopShopSource } from '../../harness/shop-source';

let source: TestMariaDb;
let admin: Connection;
let rt: TestRuntime;
let scratch: string;

beforeAll(async () => {
  ({ source, admin, rt, scratch } = await startShopSource('pitr-src', 5_000));
}, 120_000);

afterAll(() => stopShopSource({ source, admin, rt, scratch }));

async function customerNames(connection: Connection): Promise<string[]> {
  const [rows] = await connection.query("SELECT name FROM shop.customers WHERE name LIKE 'pitr-%' ORDER BY id") as [Array<{ name: string }>, unknown];
  return rows.map((r) => r.name);
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

type Replay = { files: Array<{ file: string; backupId: string }>; replayedTo: { gtid: string | null }; transactions: number; reachedTarget: boolean };

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

  it('restores a logical backup up to a GTID between two writes', async () => {
    // Prepare: B1, W1 (its GTID recorded), W2, B2.
    const config = { ...source.config(), databases: ['shop'], archiveBinlogs: true };
    const b1 = await rt.backup({ engine: 'mysql', instance: 'pitr-logical', config });
    await insertCustomer('pitr-g1');
    const [[afterW1]] = await admin.query('SELECT @@gtid_binlog_pos AS g') as [Array<{ g: string }>, unknown];
    await insertCustomer('pitr-g2');
    await rt.backup({ engine: 'mysql', instance: 'pitr-logical', config });
    const target = await startTestMariaDb('pitr-target', 7);

    // Act
    const report = await rt.restore({ backupId: b1.backupId, target: { ...target.config(), pointInTime: { untilGtid: afterW1.g } } });

    // Assess
    expect(report.validation.checks.filter((c) => !c.ok)).toEqual([]);
    expect(report.validation.checks.map((c) => c.name)).toEqual(['pitr-replay', 'pitr-start', 'tables-present', 'pitr-gtid-reached', 'pitr-not-past-target']);
    const replay = report.endpoint.replay as Replay;
    expect(replay.replayedTo.gtid).toBe(afterW1.g);
    expect(replay.transactions).toBe(1);
    const restored = await target.connect();
    try {
      expect(await customerNames(restored)).toEqual(['pitr-w1', 'pitr-w2', 'pitr-g1']);
    } finally {
      await restored.end();
    }
  }, 180_000);

  it('refuses a GTID target that lies before the backup', async () => {
    // Prepare
    const b1 = await rt.backup({ engine: 'mysql', instance: 'pitr-early', config: { ...source.config(), databases: ['shop'], archiveBinlogs: true } });
    const target = await startTestMariaDb('pitr-early', 8);

    // Act
    const error = await failure(rt.restore({ backupId: b1.backupId, target: { ...target.config(), pointInTime: { untilGtid: '0-1-1' } } }));

    // Assess
    expect(error).toMatchObject({ name: 'PermanentError', code: 'PITR_TARGET_BEFORE_BACKUP' });
    expect(error.message).toMatch(/before the backup's position/);
  }, 180_000);
});
