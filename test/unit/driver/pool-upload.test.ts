/**
 * `putPooled` against a real local directory store: a file's bytes are uploaded into the
 * instance's pool once, reused by every later call, never trusted by name when the file is mutable,
 * refused when they change between hashing and upload, and resumed after an interrupted upload;
 * a file of a size the pool lacks goes in one read (copied and hashed at once, named by its hash).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { poolKey, poolPrefix } from '../../../core/catalog/layout';
import { listPoolSizes, putPooled } from '../../../core/driver/pool-upload';
import type { ArtifactDestination } from '../../../core/driver/types';
import type { BlobStore, PutFileOptions } from '../../../core/store/blob-store';
import { LocalDirectoryStore } from '../../../core/store/local-directory-store';

const MiB = 1024 * 1024;
let dir: string;
let store: LocalDirectoryStore;
let spoolDir: string;
let pool: ArtifactDestination;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dbbackup-pool-'));
  store = new LocalDirectoryStore(path.join(dir, 'store'));
  spoolDir = path.join(dir, 'spool');
  pool = { store, prefix: poolPrefix('cassandra', 'ring') };
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** Writes `content` to a file under the test's directory and returns its path. */
async function fileWith(name: string, content: Buffer | string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, content);
  return file;
}

/** `store` with `head` running `beforeHead` first: a moment between hashing and uploading. */
function storeWithHeadHook(beforeHead: () => Promise<void>): BlobStore {
  return Object.assign(Object.create(store) as LocalDirectoryStore, {
    head: async (key: string) => {
      await beforeHead();
      return store.head(key);
    },
  });
}

describe('putPooled', () => {
  it('uploads a file once: a second call, under any name, sends 0 bytes and lists the same pool object', async () => {
    // Prepare
    const content = randomBytes(300_000);
    const file = await fileWith('nb-1-big-Data.db', content);
    const twin = await fileWith('nb-7-big-Data.db', content);

    // Act
    const first = await putPooled(pool, file, 'ks/t/nb-1-big-Data.db', { spoolDir });
    const second = await putPooled(pool, file, 'ks/t/nb-1-big-Data.db', { spoolDir });
    const third = await putPooled(pool, twin, 'ks/u/nb-7-big-Data.db', { spoolDir });

    // Assess
    const key = poolKey('cassandra', 'ring', sha256(content));
    expect(first).toEqual({ artifact: { name: 'ks/t/nb-1-big-Data.db', size: content.length, sha256: sha256(content), key }, sentBytes: content.length });
    expect(second).toEqual({ artifact: first.artifact, sentBytes: 0 });
    expect(third).toEqual({ artifact: { ...first.artifact, name: 'ks/u/nb-7-big-Data.db' }, sentBytes: 0 });
    expect(await readFile(path.join(store.root, key))).toEqual(content);
  });

  it('uploads again when the pool object is not the whole of the bytes (a different size)', async () => {
    // Prepare
    const content = Buffer.from('component bytes');
    const file = await fileWith('c', content);
    const key = poolKey('cassandra', 'ring', sha256(content));
    await store.put(key, 'compo');

    // Act
    const pooled = await putPooled(pool, file, 'c', { spoolDir });

    // Assess
    expect(pooled.sentBytes).toBe(content.length);
    expect(await readFile(path.join(store.root, key))).toEqual(content);
  });

  it('pools the bytes of a mutable file as read once into the spool, whatever the file holds afterwards', async () => {
    // Prepare: the database rewrites the file in place right after we read it
    const before = Buffer.from('Statistics.db as the snapshot took it');
    const file = await fileWith('Statistics.db', before);
    const rewritten = storeWithHeadHook(() => writeFile(file, 'Statistics.db rewritten by compaction!'));

    // Act
    const pooled = await putPooled({ ...pool, store: rewritten }, file, 'ks/t/nb-1-big-Statistics.db', { spoolDir, mutable: true });

    // Assess
    expect(pooled.artifact).toMatchObject({ size: before.length, sha256: sha256(before), key: poolKey('cassandra', 'ring', sha256(before)) });
    expect(await readFile(path.join(store.root, pooled.artifact.key))).toEqual(before);
    expect(await readdir(path.join(spoolDir, '.pool-upload')).then((names) => names.filter((n) => n.endsWith('.copy')))).toEqual([]);
  });

  it('refuses an immutable file that changed between its hashing and its upload: CHECKSUM_MISMATCH, nothing pooled', async () => {
    // Prepare
    const file = await fileWith('Data.db', 'the bytes that were hashed');
    const changing = storeWithHeadHook(() => writeFile(file, 'bytes written after hashing'));

    // Act
    const pooling = putPooled({ ...pool, store: changing }, file, 'ks/t/Data.db', { spoolDir });

    // Assess
    await expect(pooling).rejects.toMatchObject({
      name: 'PermanentError', code: 'CHECKSUM_MISMATCH', message: expect.stringMatching(/Data\.db \(artifact ks\/t\/Data\.db\) changed while it was being pooled: .*mutable: true$/),
    });
    expect(await readdir(path.join(store.root, poolPrefix('cassandra', 'ring'))).catch(() => [])).toEqual([]);
  });

  it('resumes an interrupted upload from its checkpoint in the spool, sending only the rest', async () => {
    // Prepare: the first attempt dies after 16 MiB of a 20 MiB file (its checkpoint says 8 MiB)
    const content = randomBytes(20 * MiB);
    const file = await fileWith('big-Data.db', content);
    let crash = true;
    const crashing = Object.assign(Object.create(store) as LocalDirectoryStore, {
      putFile: (key: string, source: string, options: PutFileOptions) => store.putFile(key, source, {
        ...options,
        onProgress: (done: number) => {
          if (crash && done >= 16 * MiB) throw new Error('killed mid-upload');
        },
      }),
    });
    await expect(putPooled({ ...pool, store: crashing }, file, 'ks/t/big-Data.db', { spoolDir })).rejects.toThrow('killed mid-upload');
    crash = false;

    // Act
    const resumed = await putPooled({ ...pool, store: crashing }, file, 'ks/t/big-Data.db', { spoolDir });

    // Assess
    expect(resumed.sentBytes).toBe(content.length - 8 * MiB);
    expect(sha256(await readFile(path.join(store.root, resumed.artifact.key)))).toBe(sha256(content));
  });

  it('refuses a destination that is not a pool, and an artifact name that climbs out', async () => {
    // Prepare
    const file = await fileWith('x', 'x');

    // Act + Assess
    await expect(putPooled({ store, prefix: 'backups/cassandra/ring/20260101T000000000Z-abcdef/data/n1' }, file, 'x', { spoolDir }))
      .rejects.toMatchObject({ code: 'INVALID_PATH', message: expect.stringContaining('is not a pool') });
    await expect(putPooled(pool, file, '../x', { spoolDir })).rejects.toMatchObject({ code: 'INVALID_PATH' });
  });

  it('pools two identical files at once with one upload', async () => {
    // Prepare
    const content = randomBytes(100_000);
    const a = await fileWith('a', content);
    const b = await fileWith('b', content);

    // Act
    const both = await Promise.all([putPooled(pool, a, 'a', { spoolDir }), putPooled(pool, b, 'b', { spoolDir })]);

    // Assess
    expect(both.map((p) => p.sentBytes).sort((x, y) => x - y)).toEqual([0, content.length]);
    expect(await readFile(path.join(store.root, both[0].artifact.key))).toEqual(content);
  });

  describe('in one read, when the pool holds no object of the file\'s size', () => {
    /** `store` whose putFile (the second read of the hash-first path) must not be used. */
    const oneReadOnly = () => Object.assign(Object.create(store) as LocalDirectoryStore, {
      putFile: () => Promise.reject(new Error('putFile used: the file was read twice')),
    });

    it('copies and hashes at once under its sha256; a second backup hashes first and sends nothing; a stale size list finds the object too', async () => {
      // Prepare
      const content = randomBytes(3 * MiB + 5);
      const file = await fileWith('nb-2-big-Data.db', content);
      const key = poolKey('cassandra', 'ring', sha256(content));
      const empty = await listPoolSizes(pool);

      // Act
      const first = await putPooled({ ...pool, store: oneReadOnly() }, file, 'ks/t/nb-2-big-Data.db', { spoolDir, poolSizes: empty });
      const second = await putPooled(pool, file, 'ks/t/nb-2-big-Data.db', { spoolDir, poolSizes: await listPoolSizes(pool) });
      const stale = await putPooled({ ...pool, store: oneReadOnly() }, file, 'ks/t/nb-2-big-Data.db', { spoolDir, poolSizes: empty });

      // Assess
      expect(empty).toEqual(new Set());
      expect(first).toEqual({ artifact: { name: 'ks/t/nb-2-big-Data.db', size: content.length, sha256: sha256(content), key }, sentBytes: content.length });
      expect(second).toEqual({ artifact: first.artifact, sentBytes: 0 });
      expect(stale).toEqual({ artifact: first.artifact, sentBytes: 0 });
      expect(sha256(await readFile(path.join(store.root, key)))).toBe(sha256(content));
      expect(await readdir(path.join(store.root, poolPrefix('cassandra', 'ring')))).toEqual([sha256(content)]); // no temporary file left
    });

    it('stores exactly the bytes it hashed of a mutable file, and leaves nothing when the file is gone', async () => {
      // Prepare
      const content = Buffer.from('Statistics.db as read');
      const file = await fileWith('Statistics.db', content);

      // Act
      const pooled = await putPooled({ ...pool, store: oneReadOnly() }, file, 'ks/t/nb-1-big-Statistics.db', { spoolDir, mutable: true, poolSizes: new Set() });
      const missing = putPooled(pool, path.join(dir, 'gone-Data.db'), 'ks/t/gone-Data.db', { spoolDir, poolSizes: new Set() });

      // Assess
      expect(sha256(await readFile(path.join(store.root, pooled.artifact.key)))).toBe(pooled.artifact.sha256);
      expect(pooled.artifact.sha256).toBe(sha256(content));
      await expect(missing).rejects.toMatchObject({ code: 'SOURCE_NOT_FOUND' });
      expect(await readdir(path.join(store.root, poolPrefix('cassandra', 'ring')))).toEqual([sha256(content)]);
    });

    it('lists no sizes for a store that cannot take a file in one read', async () => {
      const streamOnly = Object.assign(Object.create(store) as LocalDirectoryStore, { putFileAddressed: undefined });
      expect(await listPoolSizes({ ...pool, store: streamOnly })).toBeUndefined();
    });
  });
});
