/**
 * MySQL/MariaDB end to end through the synthesized state machines against real MariaDB 10.11
 * servers: logical and physical backups restored and proven, a backup taken while a writer
 * commits continuously is exactly the state at its recorded binlog position, and bad input fails
 * clearly with nothing marked complete.
 */
import path from 'node:path';
import mysql, { type Connection } from 'mysql2/promise';
import { readJson } from '../../../core/store/json';
import { verifyBackup } from '../../../core/catalog/verification';
import { ExecutionFailedError } from '../../../statemachines/local/run-local';
import { createTestRuntime, type TestRuntime } from '../../harness/runtime';
import { seedShop, startContinuousWriter, startTestMariaDb, stopAllMariaDb, tableChecksums, usingConnection, trackServerPidFile, type TestMariaDb } from '../../harness/mariadb';
import { replayToCurrent } from '../../harness/mysql-replay';
import { freePort } from '../../harness/ports';
import { stopAllEtcd, tempDir } from '../../harness/etcd';

let source: TestMariaDb;
let admin: Connection;
const runtimes: TestRuntime[] = [];

beforeAll(async () => {
  source = await startTestMariaDb('sfn-src');
  admin = await source.connect();
  await seedShop(admin, { bigRows: 1_000_000 });
}, 300_000);
afterAll(async () => {
  await admin?.end();
  await stopAllMariaDb();
  await stopAllEtcd(); // removes the temp dirs made with tempDir()
  await Promise.all(runtimes.map((rt) => rt.dispose()));
});

async function runtime(options: Parameters<typeof createTestRuntime>[0] = {}): Promise<TestRuntime> {
  const rt = await createTestRuntime(options);
  runtimes.push(rt);
  return rt;
}

type Report = { validation: { ok: boolean; checks: Array<{ name: string; ok: boolean; detail?: string }> } };

describe('mysql through the state machines', () => {
  it('force replaces databases only on a server the host allows (DBBACKUP_RESTORE_SERVERS), whatever the console input names', async () => {
    // Prepare
    await admin.query('CREATE DATABASE IF NOT EXISTS tiny; CREATE TABLE IF NOT EXISTS tiny.t (id INT PRIMARY KEY, v VARCHAR(20)); REPLACE INTO tiny.t VALUES (1, \'backed up\')');
    const target = await startTestMariaDb('sfn-forced', 3);
    const occupied = await target.connect();
    await occupied.query('CREATE DATABASE tiny; CREATE TABLE tiny.t (id INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO tiny.t VALUES (1, \'production\')');
    const strict = await runtime({ restoreServers: [`${target.config().host}:${target.config().port + 1}`] });
    const backup = await strict.execute('backup', { engine: 'mysql', instance: 'tiny', config: { ...source.config(), databases: ['tiny'] } });
    const backupId = (backup.output as { summary: { backupId: string } }).summary.backupId;
    const allowing = await runtime({ storeUrl: strict.store.url, restoreServers: [`${target.config().host}:${target.config().port}`] });

    // Act
    const refused = await strict.execute('restore', { backupId, target: target.config(), force: true }).catch((error: unknown) => error);
    const [[kept]] = await occupied.query('SELECT v FROM tiny.t') as [Array<{ v: string }>, unknown];
    const replaced = await allowing.execute('restore', { backupId, target: target.config(), force: true });

    // Assess
    expect(refused).toBeInstanceOf(ExecutionFailedError);
    expect((refused as ExecutionFailedError).causeText).toMatch(/^RESTORE_ROOT_REFUSED: force would replace data on the server 127\.0\.0\.1:\d+, which is not among the servers this host allows .*DBBACKUP_RESTORE_SERVERS/);
    expect(kept.v).toBe('production');
    expect((replaced.output as { report: { validation: { ok: boolean } } }).report.validation.ok).toBe(true);
    const [[now]] = await occupied.query('SELECT v FROM tiny.t') as [Array<{ v: string }>, unknown];
    expect(now.v).toBe('backed up');
    await occupied.end();
  }, 300_000);

  it('a manifest that lost an artifact its facts name: latest passes over it, by id it is refused before the target is touched, naming the backup and the artifact', async () => {
    // Prepare: two backups of a small database; the newer one's manifest loses a chunk's entry (the chunk itself stays stored)
    await admin.query('CREATE DATABASE IF NOT EXISTS lost; CREATE TABLE IF NOT EXISTS lost.a (id INT PRIMARY KEY); CREATE TABLE IF NOT EXISTS lost.b (id INT PRIMARY KEY); REPLACE INTO lost.a VALUES (1); REPLACE INTO lost.b VALUES (2)');
    const rt = await runtime();
    const request = { engine: 'mysql', instance: 'lost', config: { ...source.config(), databases: ['lost'] } };
    const older = await rt.backup(request);
    const newer = await rt.backup(request);
    const entry = await rt.catalog.get(newer.backupId);
    const lost = entry.manifest.artifacts.find((a) => a.name.startsWith('data/lost/b.'))!;
    await rt.store.put(`${entry.prefix}/manifest.json`, Buffer.from(JSON.stringify({ ...entry.manifest, artifacts: entry.manifest.artifacts.filter((a) => a !== lost) })));
    const target = await startTestMariaDb('sfn-lost', 9);

    // Act
    const refused = await rt.execute('restore', { backupId: newer.backupId, target: target.config() }).catch((error: unknown) => error);
    const databases = await usingConnection(target.connect(), async (c) => (await c.query("SHOW DATABASES LIKE 'lost'"))[0] as unknown[]);
    const latest = await rt.restore({ backupId: 'latest', engine: 'mysql', instance: 'lost', target: target.config() });

    // Assess
    expect((refused as ExecutionFailedError).causeText).toBe(`ARTIFACT_MISSING: backup ${newer.backupId} is damaged: its manifest does not list 1 artifact(s) its facts name: ${lost.name} (found before the restore began: the target is untouched)`);
    expect(databases).toEqual([]);
    expect(latest.backupId).toBe(older.backupId);
    expect(latest.passedOver).toEqual([{ backupId: newer.backupId, why: `is damaged: its manifest does not list 1 artifact(s) its facts name: ${lost.name}` }]);
    expect(latest.validation.ok).toBe(true);
  }, 300_000);

  it('a backup verify found damaged: a restore of it by id is refused before the target is touched, naming the artifact and what verify found', async () => {
    // Prepare: a backup whose chunk changed in the store after it was written, and a verify that found it
    await admin.query('CREATE DATABASE IF NOT EXISTS flipped; CREATE TABLE IF NOT EXISTS flipped.a (id INT PRIMARY KEY, v VARCHAR(40)); REPLACE INTO flipped.a VALUES (1, \'one\'), (2, \'two\')');
    const rt = await runtime();
    const backup = await rt.backup({ engine: 'mysql', instance: 'flipped', config: { ...source.config(), databases: ['flipped'] } });
    const entry = await rt.catalog.get(backup.backupId);
    const chunk = entry.manifest.artifacts.find((a) => a.name.startsWith('data/flipped/a.'))!;
    const bytes = Buffer.concat(await (await rt.store.get(chunk.key)).toArray() as Buffer[]);
    bytes[bytes.length >> 1] ^= 0xff;
    await rt.store.put(chunk.key, bytes);
    const verified = await verifyBackup(rt.store, entry.prefix, entry.manifest);
    const target = await startTestMariaDb('sfn-flipped', 10);

    // Act
    const refused = await rt.execute('restore', { backupId: backup.backupId, target: target.config() }).catch((error: unknown) => error);
    const databases = await usingConnection(target.connect(), async (c) => (await c.query("SHOW DATABASES LIKE 'flipped'"))[0] as unknown[]);

    // Assess
    expect(verified.ok).toBe(false);
    expect((refused as ExecutionFailedError).causeText).toBe(`BACKUP_DAMAGED: backup ${backup.backupId} is damaged: ${chunk.name} was found damaged at ${verified.verifiedAt}: `
      + `${verified.artifacts.find((a) => a.name === chunk.name)!.detail}; a restore of it would stop there: restore an older backup, or run \`dbbackup verify ${backup.backupId}\` again once its artifacts are repaired `
      + '(found before the restore began: the target is untouched)');
    expect(databases).toEqual([]);
  }, 300_000);

  it('logical: backs up the shop (1M-row table, MyISAM, view, trigger, routines, utf8mb4, BLOBs, NULLs, no-PK, invisible column) and restores it exactly', async () => {
    // Prepare
    const rt = await runtime();
    const target = await startTestMariaDb('sfn-logical', 2);

    // Act
    const backup = await rt.execute('backup', { engine: 'mysql', instance: 'shop', config: { ...source.config(), parallelism: 4, chunkRows: 250_000 } });
    const backupId = (backup.output as { summary: { backupId: string } }).summary.backupId;
    const restore = await rt.execute('restore', { backupId, target: target.config() });

    // Assess
    const summary = (restore.output as { report: { reportKey: string; validation: { ok: boolean; failed: number } } }).report;
    expect(summary.validation).toMatchObject({ ok: true, failed: 0 });
    const report = await readJson<Report>(rt.store, summary.reportKey);
    expect(report!.validation.checks.filter((c) => !c.ok)).toEqual([]);
    const restored = await target.connect();
    try {
      expect(await tableChecksums(restored, 'shop')).toEqual(await tableChecksums(admin, 'shop'));
      const [tiers] = await restored.query('SELECT id, tier FROM shop.customers ORDER BY id') as [Array<{ id: number; tier: number }>, unknown];
      expect(tiers.map((r) => r.tier)).toEqual([7, 14, 21, 28, 35]); // the INVISIBLE column came back too
      const [[fn]] = await restored.query('SELECT shop.with_tax(10) AS v') as [Array<{ v: string }>, unknown];
      expect(fn.v).toBe('12.00');
      const [[view]] = await restored.query('SELECT COUNT(*) AS n FROM shop.customer_totals') as [Array<{ n: number }>, unknown];
      expect(Number(view.n)).toBe(5);
    } finally {
      await restored.end();
    }
  }, 300_000);

  it('physical: mariabackup stream restored into a new data dir, server started, tables proven', async () => {
    // Prepare
    const rt = await runtime();
    const datadir = path.join(await tempDir('sfn-physical'), 'data');
    const port = await freePort();
    trackServerPidFile(`${datadir}.pid`);

    // Act
    const backup = await rt.execute('backup', { engine: 'mysql', instance: 'shop-physical', config: { ...source.config(), mode: 'physical' } });
    const backupId = (backup.output as { summary: { backupId: string } }).summary.backupId;
    const restore = await rt.execute('restore', { backupId, target: { ...source.config(), port, physical: { datadir } } });

    // Assess
    expect((restore.output as { report: Report }).report.validation.ok).toBe(true);
    expect(await usingConnection(mysql.createConnection({ host: '127.0.0.1', port, user: 'root' }), (restored) => tableChecksums(restored, 'shop'))).toEqual(await tableChecksums(admin, 'shop'));
  }, 300_000);

  it('a backup taken under continuous writes is exactly the state at its recorded binlog position', async () => {
    // Prepare: a writer committing inserts and updates in a loop during the whole backup.
    const rt = await runtime();
    const writer = await startContinuousWriter(source);
    const target = await startTestMariaDb('sfn-consistent', 3);

    try {
      // Act
      const backup = await rt.execute('backup', { engine: 'mysql', instance: 'busy', config: { ...source.config(), databases: ['shop'], parallelism: 2 } });
      const summary = (backup.output as { summary: { backupId: string; consistency: Record<string, unknown> } }).summary;
      const restore = await rt.execute('restore', { backupId: summary.backupId, target: target.config() });
      await writer.stop();

      // Assess: the restore matches the manifest, and replaying the source's binlog from the
      // recorded position brings it to exactly the source's current state.
      expect((restore.output as { report: Report }).report.validation.ok).toBe(true);
      expect(writer.commits).toBeGreaterThan(10);
      await replayToCurrent(source, target, summary.consistency);
      expect(await usingConnection(target.connect(), (restored) => tableChecksums(restored, 'shop'))).toEqual(await tableChecksums(admin, 'shop'));
    } finally {
      await writer.stop();
    }
  }, 300_000);

  it('wrong password fails permanently with a clear error and nothing is marked complete', async () => {
    const rt = await runtime({ env: { MYSQL_PASSWORD: 'wrong' } });
    const error = await rt.execute('backup', { engine: 'mysql', instance: 'denied', config: { ...source.config(), password: { $secret: 'env:MYSQL_PASSWORD' } } })
      .catch((e: unknown) => e) as ExecutionFailedError;
    expect(error.errorName).toBe('PermanentError');
    expect(error.causeText).toMatch(/^AUTH_FAILED: connecting to root@\S+: authentication failed \(MYSQL_AUTH\): /);
    expect(await rt.catalog.list({ includeIncomplete: true })).toEqual([]);
  });

  it('an unreachable server is a transient failure, retried by the state machine', async () => {
    const rt = await runtime({ workflows: { retryIntervalMs: 10 } });
    const error = await rt.execute('backup', { engine: 'mysql', instance: 'down', config: { ...source.config(), port: 1, connectTimeoutMs: 1000 } })
      .catch((e: unknown) => e) as ExecutionFailedError;
    expect(error.errorName).toBe('TransientError');
    expect(error.execution.retries.Snapshot).toBeGreaterThan(0);
  });

  it('a user without the privileges a consistent dump needs gets an error naming them', async () => {
    const rt = await runtime({ env: { MYSQL_PASSWORD: 'pw' } });
    await admin.query("CREATE USER IF NOT EXISTS 'reader'@'%' IDENTIFIED BY 'pw'; GRANT SELECT ON shop.* TO 'reader'@'%'");
    const error = await rt.execute('backup', { engine: 'mysql', instance: 'reader', config: { ...source.config(), user: 'reader', password: { $secret: 'env:MYSQL_PASSWORD' } } })
      .catch((e: unknown) => e) as ExecutionFailedError;
    expect(error.errorName).toBe('PermanentError');
    expect(error.causeText).toMatch(/privilege|RELOAD|BACKUP/i);
    expect(await rt.catalog.list({ includeIncomplete: true })).toEqual([]);
  });
});
