/**
 * Physical backups streamed straight into the store, against a real MariaDB 10.11 and mariabackup:
 * the xbstream is written to the store with no copy in the spool (and validated from the store);
 * with `physical.prepareCheck: false` nothing of the backup is kept on the host, validation says
 * what it skipped, and the restore works and reports only what it checked; a tool killed mid-stream
 * leaves no object in the store.
 */
import { takeSnapshot } from '../../../core/driver/take-snapshot';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import mysql, { type Connection } from 'mysql2/promise';
import { silentLogger } from '../../../core/logger';
import type { BackupContext } from '../../../core/driver/types';
import type { BlobStore } from '../../../core/store/blob-store';
import { LocalDirectoryStore } from '../../../core/store/local-directory-store';
import { chain, toReadable } from '../../../core/store/transfer';
import { MysqlBackupDriver } from '../../../drivers/mysql/backup-driver';
import { mysqlConfigSchema, type MysqlConfig } from '../../../drivers/mysql/config';
import { PHYSICAL_ARTIFACT } from '../../../drivers/mysql/shared/layout';
import { tableChecksums, usingConnection, trackServerPidFile, type TestMariaDb } from '../../harness/mariadb';
import { freePort } from '../../harness/ports';
import type { TestRuntime } from '../../harness/runtime';
import { startShopSource, stopShopSource } from '../../harness/shop-source';

let source: TestMariaDb;
let admin: Connection;
let rt: TestRuntime;
let scratch: string;

beforeAll(async () => {
  ({ source, admin, rt, scratch } = await startShopSource('phys-stream-src', 50_000));
}, 120_000);

afterAll(() => stopShopSource({ source, admin, rt, scratch }));

const physicalConfig = (extra: Record<string, unknown> = {}) => ({ ...source.config(), mode: 'physical', ...extra });

/** A driver context whose artifacts belong in `store` under a node prefix. */
function contextFor(label: string, store: BlobStore, config: Record<string, unknown> = physicalConfig()): BackupContext<MysqlConfig> {
  return {
    backupId: label, instance: 'phys-stream', logger: silentLogger, node: { name: 'default' },
    spoolDir: path.join(scratch, label, 'spool'),
    config: mysqlConfigSchema.parse(config),
    destination: { store, prefix: `backups/mysql/phys-stream/${label}/data/default` },
  };
}

/** Every file under `root` with its size (missing root = none). */
async function filesUnder(root: string): Promise<Array<{ file: string; size: number }>> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  const found: Array<{ file: string; size: number }> = [];
  for (const entry of entries.filter((e) => e.isFile())) {
    const file = path.join(entry.parentPath, entry.name);
    const size = await stat(file).then((s) => s.size, () => 0);
    found.push({ file: path.relative(root, file), size });
  }
  return found;
}

/** Samples `root` every 20 ms while `work` runs: the most bytes and the file names ever seen there. */
async function watchDisk<T>(root: string, work: () => Promise<T>): Promise<{ value: T; maxBytes: number; names: Set<string> }> {
  let maxBytes = 0;
  const names = new Set<string>();
  let running = true;
  const sampler = (async () => {
    while (running) {
      const files = await filesUnder(root);
      maxBytes = Math.max(maxBytes, files.reduce((sum, f) => sum + f.size, 0));
      for (const f of files) names.add(f.file);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  try {
    return { value: await work(), maxBytes, names };
  } finally {
    running = false;
    await sampler;
  }
}

/** Kills this process's mariabackup child with SIGKILL once `afterBytes` of its stream have passed on the way to the store. */
function killingStore(inner: BlobStore, afterBytes: number): BlobStore & { killed: () => boolean } {
  let killed = false;
  const killTool = () => {
    const children = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)], { encoding: 'utf8' });
    for (const line of children.trim().split('\n')) {
      const [pid, comm] = line.trim().split(/\s+/);
      if (/^(mariabackup|mariadb-backup)$/.test(comm ?? '')) {
        process.kill(Number(pid), 'SIGKILL');
        killed = true;
      }
    }
  };
  const tap = (): Transform => {
    let seen = 0;
    return new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        seen += chunk.length;
        if (!killed && seen >= afterBytes) killTool();
        callback(null, chunk);
      },
    });
  };
  return {
    url: inner.url,
    put: (key, body, options) => inner.put(key, chain(toReadable(body), [tap()]), options),
    putFile: (key, file, options) => inner.putFile(key, file, options),
    get: (key, options) => inner.get(key, options),
    getFile: (key, file, options) => inner.getFile(key, file, options),
    head: (key) => inner.head(key),
    list: (prefix) => inner.list(prefix),
    delete: (keys) => inner.delete(keys),
    killed: () => killed,
  };
}

async function connectTo(port: number): Promise<Connection> {
  return mysql.createConnection({ host: '127.0.0.1', port, user: 'root', multipleStatements: true, supportBigNumbers: true, bigNumberStrings: true, dateStrings: true });
}

async function flipByte(file: string, at: number): Promise<void> {
  const bytes = await readFile(file);
  bytes[at] ^= 0xff;
  await writeFile(file, bytes);
}

describe('mysql physical backups streamed to the store', () => {
  it('writes the xbstream straight into the store, never into the spool, and validates it from the store', async () => {
    // Prepare
    const storeDir = path.join(scratch, 'direct-store');
    const store = new LocalDirectoryStore(storeDir);
    const ctx = contextFor('direct', store);
    const driver = new MysqlBackupDriver();

    // Act
    const { value: snapshot, names } = await watchDisk(ctx.spoolDir, () => takeSnapshot('mysql', driver, ctx));
    const spoolAfter = await filesUnder(ctx.spoolDir);
    const report = await driver.validateSnapshot(ctx, snapshot);
    const uploaded = await driver.upload(ctx, snapshot, { store, prefix: ctx.destination!.prefix });

    // Assess: the artifact is the stored object, byte for byte; the spool never held the stream.
    const [artifact] = snapshot.artifacts;
    expect(artifact).toMatchObject({ name: PHYSICAL_ARTIFACT, key: `${ctx.destination!.prefix}/${PHYSICAL_ARTIFACT}` });
    const stored = await readFile(path.join(storeDir, artifact.key!));
    expect(stored.length).toBe(artifact.size);
    expect(createHash('sha256').update(stored).digest('hex')).toBe(artifact.sha256);
    expect(spoolAfter).toEqual([]);
    expect([...names].filter((name) => name.includes('xbstream'))).toEqual([]);
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    expect(report.checks.find((c) => c.name === 'prepare-dry-run')!.detail).toMatch(/--prepare succeeded on this artifact/);
    const facts = snapshot.facts as { tables: unknown[]; physical: Record<string, unknown> };
    expect(facts.tables).toHaveLength(6);
    expect(facts.physical).toMatchObject({ prepared: true, preparedSha256: artifact.sha256, streamBytes: artifact.size });
    expect(uploaded.artifacts).toEqual([{ ...artifact, key: artifact.key }]);

    // Act: damage the stored object; validation reads the store, so it notices.
    await flipByte(path.join(storeDir, artifact.key!), Math.floor(artifact.size / 2));
    const damaged = await driver.validateSnapshot(ctx, snapshot);

    // Assess
    expect(damaged.ok).toBe(false);
    expect(damaged.checks.find((c) => c.name === 'xbstream-integrity')).toMatchObject({ ok: false, detail: expect.stringMatching(/invalid checksum|does not match its checksum/) });
    expect(damaged.checks.find((c) => c.name === 'artifact-sha256')).toMatchObject({ ok: false });
    await driver.cleanup(ctx, snapshot);
  }, 120_000);

  it('with prepareCheck off keeps nothing on the host, says what validation skipped, and still restores', async () => {
    // Act
    const { value: summary, maxBytes } = await watchDisk(rt.spoolRoot, () => rt.backup({
      engine: 'mysql', instance: 'phys-noprep', config: physicalConfig({ physical: { prepareCheck: false } }),
    }));

    // Assess: the spool never held more than the tool's small scratch files.
    const manifest = (await rt.catalog.get(summary.backupId)).manifest!;
    const [artifact] = manifest.artifacts;
    expect(artifact.size).toBeGreaterThan(20 * 2 ** 20);
    expect(maxBytes).toBeLessThan(2 ** 20);
    expect(manifest.validation.checks.filter((c) => !c.ok)).toEqual([]);
    const check = (name: string) => manifest.validation.checks.find((c) => c.name === name)!;
    expect(check('prepare-dry-run').detail).toMatch(/^skipped \(physical\.prepareCheck=false\)/);
    expect(check('table-digests').detail).toMatch(/^skipped \(physical\.prepareCheck=false\)/);
    expect(check('xbstream-integrity').detail).toMatch(/every CRC-32 checked/);
    const facts = manifest.facts as { tables: unknown[]; databases: unknown[]; physical: Record<string, unknown> };
    expect(facts.tables).toEqual([]);
    expect(facts.physical).toMatchObject({ prepared: false, streamBytes: artifact.size });
    expect(facts.physical.preparedSha256).toBeUndefined();

    // Act: restore it.
    const datadir = path.join(scratch, 'noprep-restore', 'data');
    trackServerPidFile(`${datadir}.pid`);
    const port = await freePort();
    const report = await rt.restore({ backupId: summary.backupId, target: { ...source.config(), port, physical: { datadir } } });

    // Assess: the restored server has the source's data; validation claims only what it checked.
    expect(report.validation.ok).toBe(true);
    expect(report.validation.checks.map((c) => c.name)).toEqual(['tables-readable', 'table-facts']);
    expect(report.validation.checks[0].detail).toMatch(/^6 tables in 1 databases read to the end \(\d+ rows\)$/);
    expect(report.validation.checks[1].detail).toMatch(/^skipped \(physical\.prepareCheck=false\).*not compared with the source/);
    expect(await usingConnection(connectTo(port), (restored) => tableChecksums(restored, 'shop'))).toEqual(await tableChecksums(admin, 'shop'));
  }, 180_000);

  it('leaves no object in the store (and nothing in the spool) when the tool is killed mid-stream', async () => {
    // Prepare
    const storeDir = path.join(scratch, 'killed-store');
    const store = killingStore(new LocalDirectoryStore(storeDir), 4 * 2 ** 20);
    const ctx = contextFor('killed', store);
    const driver = new MysqlBackupDriver();

    // Act
    const error = await takeSnapshot('mysql', driver, ctx).then(() => undefined, (e: Error & { code?: string }) => e);

    // Assess
    expect(store.killed()).toBe(true);
    expect(error).toMatchObject({ name: 'PermanentError', code: 'MYSQL_TOOL_FAILED' });
    expect(error!.message).toMatch(/mariabackup --backup was killed by SIGKILL/);
    expect(await filesUnder(storeDir)).toEqual([]);
    expect(await filesUnder(ctx.spoolDir)).toEqual([]);
  }, 120_000);

  it('keeps streamToStore: false working: the stream goes to the spool and the upload step sends it', async () => {
    // Prepare
    const storeDir = path.join(scratch, 'spooled-store');
    const store = new LocalDirectoryStore(storeDir);
    const ctx = contextFor('spooled', store, physicalConfig({ streamToStore: false, physical: { prepareCheck: false } }));
    const driver = new MysqlBackupDriver();

    // Act
    const snapshot = await takeSnapshot('mysql', driver, ctx);
    const spooled = await filesUnder(ctx.spoolDir);
    const storedBefore = await filesUnder(storeDir);
    const report = await driver.validateSnapshot(ctx, snapshot);
    const uploaded = await driver.upload(ctx, snapshot, { store, prefix: ctx.destination!.prefix });

    // Assess
    const [artifact] = snapshot.artifacts;
    expect(artifact.key).toBeUndefined();
    expect(spooled).toEqual([{ file: PHYSICAL_ARTIFACT, size: artifact.size }]);
    expect(storedBefore).toEqual([]);
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    const key = `${ctx.destination!.prefix}/${PHYSICAL_ARTIFACT}`;
    expect(uploaded.artifacts).toEqual([{ ...artifact, key }]);
    expect(createHash('sha256').update(await readFile(path.join(storeDir, key))).digest('hex')).toBe(artifact.sha256);
    await driver.cleanup(ctx, snapshot);
  }, 120_000);
});
