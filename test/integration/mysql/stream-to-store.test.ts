/**
 * A logical MySQL backup streams its artifacts straight into the store (local directory and S3):
 * nothing is spooled on the host, validation proves what was stored (re-hashed where it lies, or
 * on S3 by the checksum S3 verified it against), the upload step only confirms it, and `streamToStore: false` keeps the spool-then-upload
 * path. Archived binary logs go the same way as the dump.
 */
import { takeSnapshot } from '../../../core/driver/take-snapshot';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { BackupContext, SnapshotRef } from '../../../core/driver/types';
import { silentLogger } from '../../../core/logger';
import type { BlobStore } from '../../../core/store/blob-store';
import { LocalDirectoryStore } from '../../../core/store/local-directory-store';
import { openStore, s3OptionsFromEnv } from '../../../core/store/open-store';
import { plugin } from '../../../drivers/mysql';
import { mysqlConfigSchema, type MysqlConfig } from '../../../drivers/mysql/config';
import { seedShop, startTestMariaDb, stopAllMariaDb, type TestMariaDb } from '../../harness/mariadb';
import { startTestS3, type TestS3 } from '../../harness/s3';
import { tempDir } from '../../harness/test-run';

let server: TestMariaDb;
let s3: TestS3;
let work: string;
const driver = plugin.backup!;

beforeAll(async () => {
  server = await startTestMariaDb('stream-to-store', 12);
  const admin = await server.connect();
  await seedShop(admin, { bigRows: 30_000 });
  await admin.end();
  s3 = await startTestS3();
  work = await tempDir('stream-to-store');
}, 120_000);

afterAll(async () => {
  await stopAllMariaDb();
  await s3?.stop();
  await rm(work, { recursive: true, force: true });
});

const stores: Array<[string, () => BlobStore]> = [
  ['a local directory', () => new LocalDirectoryStore(path.join(work, `store-${Date.now()}`))],
  ['S3', () => openStore(s3.storeUrl(), s3OptionsFromEnv(s3.env))],
];

async function filesIn(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => e.name);
}

function context(store: BlobStore, overrides: Partial<MysqlConfig> = {}): BackupContext<MysqlConfig> {
  const config = mysqlConfigSchema.parse({ ...server.config(), databases: ['shop'], chunkRows: 10_000, ...overrides });
  const prefix = `backups/mysql/streamed/${Date.now()}/data/default`;
  return {
    backupId: 'streamed', instance: 'streamed', config, node: { name: 'default' }, logger: silentLogger,
    spoolDir: path.join(work, `spool-${Date.now()}`), destination: { store, prefix },
  };
}

describe.each(stores)('logical backup straight to %s', (_label, makeStore) => {
  let store: BlobStore;
  let ctx: BackupContext<MysqlConfig>;
  let snapshot: SnapshotRef;

  beforeAll(async () => {
    store = makeStore();
    ctx = context(store, { archiveBinlogs: true });
    snapshot = await takeSnapshot('mysql', driver, ctx);
  }, 120_000);

  it('writes every artifact, archived binlogs included, to the store under the node prefix and nothing to the spool', async () => {
    // Act
    const heads = await Promise.all(snapshot.artifacts.map((a) => store.head(a.key!)));

    // Assess
    expect(snapshot.artifacts.length).toBeGreaterThan(5);
    expect(snapshot.artifacts.filter((a) => a.name.startsWith('binlog/')).length).toBeGreaterThan(0);
    expect(snapshot.artifacts.every((a) => a.key === `${ctx.destination!.prefix}/${a.name}`)).toBe(true);
    expect(heads.map((h) => h?.size)).toEqual(snapshot.artifacts.map((a) => a.size));
    expect(await filesIn(ctx.spoolDir)).toEqual([]);
  });

  it('validates the stored objects (hashed where they lie, or proven by the checksum S3 verified them against), and the upload step only confirms them', async () => {
    // Act
    const report = await driver.validateSnapshot(ctx, snapshot);
    const uploaded = await driver.upload(ctx, snapshot, { store, prefix: ctx.destination!.prefix });

    // Assess
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    expect(report.checks.map((c) => c.name)).toEqual(['artifact-sha256', 'schema-present', 'tables-present', 'rows-read-back']);
    expect(uploaded.artifacts.map((a) => a.key)).toEqual(snapshot.artifacts.map((a) => a.key));
    expect(uploaded.bytes).toBe(snapshot.artifacts.reduce((sum, a) => sum + a.size, 0));
  });

  it('fails validation when a stored chunk was damaged', async () => {
    // Prepare
    const chunk = snapshot.artifacts.find((a) => a.name.startsWith('data/shop/big.'))!;
    const original = await store.get(chunk.key!);
    const bytes: Buffer[] = [];
    for await (const part of original) bytes.push(part as Buffer);
    const damaged = Buffer.concat(bytes);
    damaged[damaged.length >> 1] ^= 0xff;
    await store.put(chunk.key!, damaged);

    // Act
    const report = await driver.validateSnapshot(ctx, snapshot);

    // Assess
    const failed = report.checks.filter((c) => !c.ok).map((c) => c.name);
    expect(report.ok).toBe(false);
    expect(failed).toContain('artifact-sha256');
    expect(report.checks.find((c) => c.name === 'artifact-sha256')!.detail).toContain(chunk.name);
  });
});

describe('streamToStore: false', () => {
  it('spools the artifacts on the host and uploads them afterwards', async () => {
    // Prepare
    const store = new LocalDirectoryStore(path.join(work, 'spooled-store'));
    const ctx = context(store, { streamToStore: false });

    // Act
    const snapshot = await takeSnapshot('mysql', driver, ctx);
    const before = await filesIn(path.join(work, 'spooled-store'));
    const uploaded = await driver.upload(ctx, snapshot, { store, prefix: ctx.destination!.prefix });

    // Assess
    expect(snapshot.artifacts.every((a) => a.key === undefined)).toBe(true);
    expect((await filesIn(ctx.spoolDir)).length).toBe(snapshot.artifacts.length);
    expect(before).toEqual([]);
    expect(await Promise.all(uploaded.artifacts.map(async (a) => (await store.head(a.key))?.size))).toEqual(snapshot.artifacts.map((a) => a.size));
  });
});
