/**
 * Physical MySQL/MariaDB backups against real MariaDB 10.11 servers: mariabackup streamed into the
 * store, the snapshot checked (xbstream integrity, prepare dry run) and digested, restored into a
 * new data dir with its server started, GTID state set and every table proven; a corrupt stream
 * fails clearly and costs no target its data; a non-empty data dir is refused without force; a
 * backup taken under continuous writes is exactly the state at its recorded binlog position.
 */
import { takeSnapshot } from '../../../core/driver/take-snapshot';
import { readFile, readdir, writeFile, mkdir, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import mysql, { type Connection } from 'mysql2/promise';
import { silentLogger } from '../../../core/logger';
import type { BackupContext } from '../../../core/driver/types';
import { MysqlBackupDriver } from '../../../drivers/mysql/backup-driver';
import { mysqlConfigSchema, type MysqlConfig } from '../../../drivers/mysql/config';
import { PHYSICAL_ARTIFACT } from '../../../drivers/mysql/shared/layout';
import { startContinuousWriter, tableChecksums, usingConnection, trackServerPidFile, type TestMariaDb } from '../../harness/mariadb';
import { replayToCurrent } from '../../harness/mysql-replay';
import { freePort } from '../../harness/ports';
import type { TestRuntime } from '../../harness/runtime';
import { startShopSource, stopShopSource } from '../../harness/shop-source';

let source: TestMariaDb;
let admin: Connection;
let rt: TestRuntime;
let scratch: string;

beforeAll(async () => {
  ({ source, admin, rt, scratch } = await startShopSource('phys-src', 50_000));
}, 120_000);

afterAll(() => stopShopSource({ source, admin, rt, scratch }));

const physicalConfig = (extra: Record<string, unknown> = {}) => ({ ...source.config(), mode: 'physical', ...extra });

/** A new data dir path (not created) and a free port; its server is stopped at the end. */
async function newTarget(label: string): Promise<{ datadir: string; port: number }> {
  const datadir = path.join(scratch, label, 'data');
  trackServerPidFile(`${datadir}.pid`);
  return { datadir, port: await freePort() };
}

async function connectTo(port: number): Promise<Connection> {
  return mysql.createConnection({ host: '127.0.0.1', port, user: 'root', multipleStatements: true, supportBigNumbers: true, bigNumberStrings: true, dateStrings: true });
}

async function storedArtifactPath(backupId: string): Promise<string> {
  const entry = await rt.catalog.get(backupId);
  const artifact = entry.manifest!.artifacts.find((a) => a.name.endsWith(PHYSICAL_ARTIFACT))!;
  return path.join(rt.storeDir, artifact.key);
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

async function flipByte(file: string, at: number): Promise<void> {
  const bytes = await readFile(file);
  bytes[at] ^= 0xff;
  await writeFile(file, bytes);
}

describe('mysql physical backups (mariabackup)', () => {
  let backupId: string;
  let consistency: Record<string, unknown>;

  it('streams a backup of InnoDB + MyISAM tables to the store, validated by extraction, prepare and table digests; says a MEMORY table\'s rows are not in it', async () => {
    // Prepare: a MEMORY table with a row (the server keeps it in memory only)
    await admin.query('CREATE DATABASE volatile; CREATE TABLE volatile.sessions (id INT PRIMARY KEY) ENGINE=MEMORY; INSERT INTO volatile.sessions VALUES (1)');

    // Act
    const summary = await rt.backup({ engine: 'mysql', instance: 'phys', config: physicalConfig() });

    // Assess
    backupId = summary.backupId;
    consistency = summary.consistency;
    const entry = await rt.catalog.get(backupId);
    const manifest = entry.manifest!;
    expect(manifest.validation.checks.filter((c) => !c.ok)).toEqual([]);
    expect(manifest.validation.checks.map((c) => c.name)).toEqual(expect.arrayContaining(['xbstream-integrity', 'backup-metadata', 'binlog-position', 'prepare-dry-run', 'table-digests']));
    const [[status]] = await admin.query('SHOW MASTER STATUS') as [Array<{ File: string; Position: number }>, unknown];
    const [[gtid]] = await admin.query('SELECT @@gtid_binlog_pos AS g') as [Array<{ g: string }>, unknown];
    expect(consistency).toMatchObject({ flavor: 'mariadb', binlogFile: status.File, binlogPosition: Number(status.Position), gtid: gtid.g, lock: 'backup-stage', tool: 'mariabackup' });
    expect(consistency.lockMs).toEqual(expect.any(Number));
    const facts = manifest.facts as { mode: string; tables: Array<{ table: string; engine: string; rows: number }> };
    expect(facts.mode).toBe('physical');
    expect(facts.tables.map((t) => `${t.table}:${t.engine}:${t.rows}`)).toEqual([
      'audit_log:MyISAM:50', 'big:InnoDB:50000', 'blobs:InnoDB:4', 'customers:InnoDB:5', 'no_pk:InnoDB:5', 'orders:InnoDB:50', 'sessions:MEMORY:0',
    ]);
    expect(manifest.validation.checks.find((c) => c.name === 'table-digests')!.detail).toMatch(/; MEMORY tables restore empty \(a physical backup holds no rows of them: the server keeps them in memory only\): volatile\.sessions — a logical backup dumps their rows$/);
    expect(manifest.artifacts.map((a) => a.name)).toEqual([PHYSICAL_ARTIFACT]);
  }, 120_000);

  it('restores into a new data dir, starts the server, sets its GTID state and proves every table', async () => {
    // Prepare
    const { datadir, port } = await newTarget('restore');

    // Act
    const report = await rt.restore({ backupId, target: { ...source.config(), port, physical: { datadir } } });

    // Assess
    expect(report.validation.checks.filter((c) => !c.ok)).toEqual([]);
    expect(report.validation.checks.map((c) => c.name)).toEqual(expect.arrayContaining(['tables-present', 'row-counts', 'table-digests']));
    expect(report.endpoint).toMatchObject({ host: '127.0.0.1', port, datadir, started: true, gtidSlavePos: consistency.gtid });
    expect(JSON.stringify(report.endpoint)).not.toMatch(/password/i);
    const restored = await connectTo(port);
    try {
      expect(await tableChecksums(restored, 'shop')).toEqual(await tableChecksums(admin, 'shop'));
      const [[fn]] = await restored.query('SELECT shop.with_tax(10) AS v') as [Array<{ v: string }>, unknown];
      expect(fn.v).toBe('12.00');
    } finally {
      await restored.end();
    }
    // Beside the data dir: the server's files, the record that this restore started it, and the
    // restore's marker, marked done (a failed restore's cleanup tells a finished data dir from a half-written one).
    expect((await readdir(path.dirname(datadir))).sort()).toEqual(['data', 'data-binlog', 'data.err', 'data.pid', 'data.pid.started-by.json', 'data.restore.json', 'data.sock', 'data.tmp']);
    expect(JSON.parse(await readFile(`${datadir}.restore.json`, 'utf8'))).toMatchObject({ backupId, done: true });
  }, 120_000);

  it('restores with a source account that may read every table but not set gtid_slave_pos: the data restored and proven, the GTID left unset with the statement to run; the server_id the target names', async () => {
    // Prepare: an account of the source that may read every table and schema object and nothing more, in a new backup
    await admin.query("CREATE USER IF NOT EXISTS 'reader'@'%'");
    await admin.query("GRANT SELECT, SHOW VIEW, TRIGGER, EVENT ON *.* TO 'reader'@'%'");
    const withReader = await rt.backup({ engine: 'mysql', instance: 'phys-reader', config: physicalConfig() });
    const gtid = (withReader.consistency as { gtid: string }).gtid;
    const { datadir, port } = await newTarget('reader');

    // Act
    const report = await rt.restore({ backupId: withReader.backupId, target: { ...source.config(), user: 'reader', port, physical: { datadir, serverId: 4242 } } });

    // Assess
    expect(report.validation.checks.filter((c) => !c.ok)).toEqual([]);
    expect(report.endpoint).toMatchObject({ started: true, gtidSlavePos: null, serverId: 4242 });
    expect(report.endpoint.gtidSlavePosNotSet).toBe(`user reader may not set gtid_slave_pos on the restored server (it needs REPLICATION SLAVE ADMIN, or SUPER before MariaDB 10.5.2); to replicate from the source, run as a user that may: SET GLOBAL gtid_slave_pos = '${gtid}'`);
    const restored = await connectTo(port);
    try {
      expect(await tableChecksums(restored, 'shop')).toEqual(await tableChecksums(admin, 'shop'));
      const [[ids]] = await restored.query('SELECT @@server_id AS id') as [Array<{ id: number }>, unknown];
      expect(Number(ids.id)).toBe(4242); // the target's, not the source's plus one
    } finally {
      await restored.end();
    }
  }, 180_000);

  it('refuses a non-empty data dir without force (leaving it alone) and replaces it with force', async () => {
    // Prepare
    const { datadir, port } = await newTarget('occupied');
    await mkdir(datadir, { recursive: true });
    await writeFile(path.join(datadir, 'precious.txt'), 'keep me');
    const target = { ...source.config(), port, physical: { datadir } };

    // Act
    const refused = await failure(rt.restore({ backupId, target }));
    const kept = await readFile(path.join(datadir, 'precious.txt'), 'utf8');
    const forced = await rt.restore({ backupId, target, force: true });

    // Assess
    expect(refused).toMatchObject({ name: 'PermanentError', code: 'TARGET_NOT_EMPTY' });
    expect(refused.message).toMatch(/not empty.*--force/);
    expect(kept).toBe('keep me');
    expect(forced.validation.ok).toBe(true);
    await expect(stat(path.join(datadir, 'precious.txt'))).rejects.toThrow(/ENOENT/);
  }, 120_000);

  it('fails a restore from a corrupted stream clearly, before the target data dir is touched', async () => {
    // Prepare: a backup whose stored stream has one byte flipped; a target with data and force.
    const summary = await rt.backup({ engine: 'mysql', instance: 'phys-corrupt', config: physicalConfig() });
    const stored = await storedArtifactPath(summary.backupId);
    await flipByte(stored, Math.floor((await stat(stored)).size / 2));
    const { datadir, port } = await newTarget('corrupt');
    await mkdir(datadir, { recursive: true });
    await writeFile(path.join(datadir, 'precious.txt'), 'keep me');

    // Act
    const error = await failure(rt.restore({ backupId: summary.backupId, target: { ...source.config(), port, physical: { datadir } }, force: true }));

    // Assess
    expect(error).toMatchObject({ name: 'PermanentError' });
    expect(['SNAPSHOT_CORRUPT', 'CHECKSUM_MISMATCH']).toContain(error.code);
    expect(error.message).toMatch(/invalid checksum|does not match its checksum/);
    expect(await readdir(datadir)).toEqual(['precious.txt']);
    expect(await readdir(path.dirname(datadir))).toEqual(['data']);
  }, 120_000);

  it('fails snapshot validation when the xbstream is corrupt even though its sha256 was recorded after the damage', async () => {
    // Prepare: a spooled snapshot; damage the stream and record the damaged file's sha256, so only
    // the xbstream check can notice.
    const driver = new MysqlBackupDriver();
    const spoolDir = path.join(scratch, 'spool-corrupt');
    const ctx: BackupContext<MysqlConfig> = {
      backupId: 'corrupt-1', instance: 'phys', logger: silentLogger, node: { name: 'default' }, spoolDir,
      config: mysqlConfigSchema.parse(physicalConfig()),
    };
    const snapshot = await takeSnapshot('mysql', driver, ctx);
    const file = path.join(spoolDir, PHYSICAL_ARTIFACT);
    await flipByte(file, Math.floor(snapshot.artifacts[0].size / 3));
    const damaged = await readFile(file);
    const artifacts = [{ ...snapshot.artifacts[0], sha256: createHash('sha256').update(damaged).digest('hex') }];

    // Act
    const report = await driver.validateSnapshot(ctx, { ...snapshot, artifacts });

    // Assess
    expect(report.ok).toBe(false);
    const integrity = report.checks.find((c) => c.name === 'xbstream-integrity')!;
    expect(integrity.ok).toBe(false);
    expect(integrity.detail).toMatch(/invalid checksum/);
    expect((await readdir(spoolDir)).sort()).toEqual(['physical']);
    await driver.cleanup(ctx, snapshot);
  }, 120_000);

  it('names the missing privileges and rejects a wrong password, marking nothing complete', async () => {
    // Prepare: a password with the characters option files treat specially (a wrong quoting would
    // show up as AUTH_FAILED instead of MYSQL_PRIVILEGES).
    const tricky = 'p"w\\#\'; x=1';
    await admin.query("CREATE USER IF NOT EXISTS 'weak'@'%' IDENTIFIED BY ?", [tricky]);
    await admin.query("GRANT SELECT ON *.* TO 'weak'@'%'");

    // Passwords are secret references, never inline: here files.
    await writeFile(path.join(scratch, 'tricky.pw'), tricky);
    await writeFile(path.join(scratch, 'wrong.pw'), 'wrong');

    // Act
    const weak = await failure(rt.backup({ engine: 'mysql', instance: 'phys-weak', config: physicalConfig({ user: 'weak', password: { $secret: `file:${path.join(scratch, 'tricky.pw')}` } }) }));
    const wrong = await failure(rt.backup({ engine: 'mysql', instance: 'phys-wrong', config: physicalConfig({ password: { $secret: `file:${path.join(scratch, 'wrong.pw')}` } }) }));

    // Assess
    expect(weak).toMatchObject({ name: 'PermanentError', code: 'MYSQL_PRIVILEGES' });
    expect(weak.message).toMatch(/lacks RELOAD, PROCESS/);
    expect(weak.message).not.toMatch(/\*[0-9A-F]{40}/); // the password hash SHOW GRANTS prints is redacted
    expect(wrong).toMatchObject({ name: 'PermanentError', code: 'AUTH_FAILED', message: expect.stringContaining('(MYSQL_AUTH)') });
    const listed = await rt.catalog.list({ includeIncomplete: true });
    expect(listed.filter((e) => e.instance === 'phys-weak' || e.instance === 'phys-wrong')).toEqual([]);
    // mariabackup ran (and failed) for the weak user, streaming into the store: nothing of it stays.
    const stored = await readdir(rt.storeDir, { recursive: true, withFileTypes: true });
    expect(stored.filter((e) => e.isFile() && /phys-(weak|wrong)/.test(e.parentPath)).map((e) => e.name)).toEqual([]);
  }, 120_000);

  it('takes a backup under continuous writes that is exactly the state at its recorded binlog position', async () => {
    // Prepare: a writer committing to an InnoDB and a MyISAM table during the whole backup.
    const writer = await startContinuousWriter(source, true);
    const { datadir, port } = await newTarget('busy');
    try {
      // Act
      const summary = await rt.backup({ engine: 'mysql', instance: 'phys-busy', config: physicalConfig() });
      const report = await rt.restore({ backupId: summary.backupId, target: { ...source.config(), port, physical: { datadir } } });
      await writer.stop();
      const replay = await replayToCurrent(source, { host: '127.0.0.1', port }, summary.consistency);

      // Assess
      expect(report.validation.ok).toBe(true);
      expect(writer.commits).toBeGreaterThan(10);
      expect(replay.transactions).toBeGreaterThan(0);
      expect(await usingConnection(connectTo(port), (restored) => tableChecksums(restored, 'shop'))).toEqual(await tableChecksums(admin, 'shop'));
    } finally {
      await writer.stop();
    }
  }, 180_000);
});
