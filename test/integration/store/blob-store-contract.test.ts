/**
 * The same behaviour, checked against both stores: a local directory and a real s3rver (through an
 * S3 store with a key prefix, so prefix handling is exercised everywhere).
 */
import { createReadStream } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { subfolders, type BlobStore } from '../../../core/store/blob-store';
import { LocalDirectoryStore } from '../../../core/store/local-directory-store';
import { TokenBucket } from '../../../core/store/rate-limiter';
import { S3Store } from '../../../core/store/s3-store';
import {
  collect, filesUnder, makeTempDir, rejectionOf, removeDir, sha256Of, sha256OfFile, sha256OfStream, writeRandomFile,
} from '../../fixtures/store/files';
import { s3rverObjectPath, s3rverStoreOptions, startS3rver } from '../../harness/s3rver';

const MiB = 1024 * 1024;

/** A store plus the test-only powers the contract needs. */
interface Backend {
  store: BlobStore;
  /** Flips one byte of the stored object, keeping its size. */
  tamper(key: string): Promise<void>;
  close(): Promise<void>;
}

async function flipByte(file: string): Promise<void> {
  const data = await readFile(file);
  data[Math.floor(data.length / 2)] ^= 0xff;
  await writeFile(file, data);
}

async function localBackend(): Promise<Backend> {
  const root = await makeTempDir('local-root');
  return {
    store: new LocalDirectoryStore(root),
    tamper: (key) => flipByte(path.join(root, key)),
    close: () => removeDir(root),
  };
}

async function s3Backend(): Promise<Backend> {
  const server = await startS3rver();
  const store = new S3Store(s3rverStoreOptions(server, 'team/prod'));
  return {
    store,
    tamper: (key) => flipByte(s3rverObjectPath(server, `team/prod/${key}`)),
    async close() {
      store.destroy();
      await server.stop();
    },
  };
}

describe.each([
  ['local directory', localBackend],
  ['S3 (s3rver)', s3Backend],
])('%s store', (_name, makeBackend) => {
  let backend: Backend;
  let store: BlobStore;
  let work: string;

  beforeAll(async () => {
    backend = await makeBackend();
    store = backend.store;
  });

  afterAll(async () => {
    await backend.close();
  });

  beforeEach(async () => {
    work = await makeTempDir('work');
  });

  afterEach(async () => {
    await removeDir(work);
  });

  describe('round trips', () => {
    it('put (string, Buffer, stream) then get returns the same bytes and sha256', async () => {
      // Prepare
      const text = 'hello, backups\n';
      const buffer = Buffer.from([0, 1, 2, 3, 255]);
      const file = path.join(work, 'stream.bin');
      const fileSha = await writeRandomFile(file, 3 * MiB + 17);

      // Act
      const fromText = await store.put('rt/text.txt', text);
      const fromBuffer = await store.put('rt/buffer.bin', buffer);
      const fromStream = await store.put('rt/stream.bin', createReadStream(file));
      const readBack = await Promise.all(['rt/text.txt', 'rt/buffer.bin', 'rt/stream.bin'].map(async (key) => sha256OfStream(await store.get(key))));

      // Assess
      expect(fromText).toMatchObject({ key: 'rt/text.txt', size: Buffer.byteLength(text), sha256: sha256Of(text) });
      expect(fromBuffer).toMatchObject({ key: 'rt/buffer.bin', size: 5, sha256: sha256Of(buffer) });
      expect(fromStream).toMatchObject({ key: 'rt/stream.bin', size: 3 * MiB + 17, sha256: fileSha });
      expect(readBack).toEqual([sha256Of(text), sha256Of(buffer), fileSha]);
    });

    it('put from a stream that fails midway rejects and commits nothing', async () => {
      // Prepare
      async function* failingSource(): AsyncGenerator<Buffer> {
        for (let i = 0; i < 9; i += 1) yield Buffer.alloc(MiB, i);
        throw new Error('source broke');
      }

      // Act
      const error = await rejectionOf(store.put('rt/broken.bin', Readable.from(failingSource())));

      // Assess
      expect(error.message).toContain('source broke');
      expect(await store.head('rt/broken.bin')).toBeUndefined();
      expect(await collect(store.list('rt/broken'))).toEqual([]);
    });

    it('stores an empty object', async () => {
      // Act
      const put = await store.put('rt/empty', Buffer.alloc(0));
      const info = await store.head('rt/empty');
      const got = await store.getFile('rt/empty', path.join(work, 'empty'));

      // Assess
      expect(put.size).toBe(0);
      expect(info?.size).toBe(0);
      expect(got.sha256).toBe(sha256Of(''));
    });

    it('putFile (multipart-sized) then getFile, both verified by sha256, with progress to the total', async () => {
      // Prepare
      const file = path.join(work, 'big.bin');
      const size = 12 * MiB + 123;
      const sha256 = await writeRandomFile(file, size);
      const checkpointPath = path.join(work, 'big.checkpoint.json');
      const upProgress: number[] = [];
      const downProgress: number[] = [];

      // Act
      const put = await store.putFile('rt/big.bin', file, {
        checkpointPath, expectedSha256: sha256, partSize: 5 * MiB, onProgress: (bytes) => upProgress.push(bytes),
      });
      const target = path.join(work, 'out', 'big.bin');
      const got = await store.getFile('rt/big.bin', target, { expectedSha256: sha256, onProgress: (bytes) => downProgress.push(bytes) });

      // Assess
      expect(put).toMatchObject({ key: 'rt/big.bin', size, sha256, resumedBytes: 0 });
      expect(got).toEqual({ key: 'rt/big.bin', size, sha256 });
      expect(await sha256OfFile(target)).toBe(sha256);
      expect(upProgress.at(-1)).toBe(size);
      expect(downProgress.at(-1)).toBe(size);
      await expect(stat(checkpointPath)).rejects.toMatchObject({ code: 'ENOENT' });
    });

    it('putFile of a file smaller than one part', async () => {
      // Prepare
      const file = path.join(work, 'small.bin');
      const sha256 = await writeRandomFile(file, 1000);

      // Act
      const put = await store.putFile('rt/small.bin', file, { checkpointPath: path.join(work, 'small.cp'), expectedSha256: sha256 });
      const got = await store.getFile('rt/small.bin', path.join(work, 'small.out'), { expectedSha256: sha256 });

      // Assess
      expect(put).toMatchObject({ size: 1000, sha256 });
      expect(got).toMatchObject({ size: 1000, sha256 });
    });
  });

  describe('list, head, delete', () => {
    it('lists keys under a prefix in key order, relative to the store, and nothing else', async () => {
      // Prepare
      const keys = ['ls/b/2', 'ls/a', 'ls/b/1', 'ls/a-z', 'ls/c/d/e', 'lsx/outside'];
      for (const key of keys) await store.put(key, key);

      // Act
      const all = await collect(store.list('ls/'));
      const sub = await collect(store.list('ls/b/'));
      const partial = await collect(store.list('ls/a'));
      const none = await collect(store.list('nothing-here/'));

      // Assess
      expect(all.map((o) => o.key)).toEqual(['ls/a', 'ls/a-z', 'ls/b/1', 'ls/b/2', 'ls/c/d/e']);
      expect(all.map((o) => o.size)).toEqual([4, 6, 6, 6, 8]);
      expect(sub.map((o) => o.key)).toEqual(['ls/b/1', 'ls/b/2']);
      expect(partial.map((o) => o.key)).toEqual(['ls/a', 'ls/a-z']);
      expect(none).toEqual([]);
    });

    it('lists the folders directly under a folder, not what is in them, and refuses a prefix that is no folder', async () => {
      // Prepare
      for (const key of ['lf/b/2', 'lf/a', 'lf/b/1', 'lf/c/d/e', 'lf-outside/x']) await store.put(key, key);

      // Act
      const top = await subfolders(store, 'lf/');
      const deeper = await subfolders(store, 'lf/c/');
      const none = await subfolders(store, 'nothing-here/');

      // Assess
      expect(typeof store.listFolders).toBe('function');
      expect(top).toEqual(['b', 'c']);
      expect(deeper).toEqual(['d']);
      expect(none).toEqual([]);
      await expect(store.listFolders!('lf')).rejects.toMatchObject({ code: 'INVALID_KEY' });
    });

    it('heads existing and missing objects', async () => {
      // Prepare
      await store.put('hd/x', 'twelve bytes');

      // Act
      const present = await store.head('hd/x');
      const missing = await store.head('hd/missing');

      // Assess
      expect(present).toMatchObject({ key: 'hd/x', size: 12 });
      expect(present?.lastModified?.getTime()).toEqual(expect.any(Number));
      expect(missing).toBeUndefined();
    });

    it('deletes keys, ignoring missing ones', async () => {
      // Prepare
      await store.put('del/a', 'a');
      await store.put('del/sub/b', 'b');
      await store.put('del/keep', 'k');

      // Act
      await store.delete(['del/a', 'del/sub/b', 'del/never-existed']);

      // Assess
      expect((await collect(store.list('del/'))).map((o) => o.key)).toEqual(['del/keep']);
      expect(await store.head('del/a')).toBeUndefined();
    });
  });

  describe('integrity', () => {
    it.each([
      ['a streamed', 2 * MiB],
      ['a small (read whole)', 4096],
    ])('detects %s tampered object on download: CHECKSUM_MISMATCH and no file left behind', async (_kind, size) => {
      // Prepare
      const file = path.join(work, 'victim.bin');
      const sha256 = await writeRandomFile(file, size);
      await store.putFile('int/victim.bin', file, { checkpointPath: path.join(work, 'victim.cp'), expectedSha256: sha256 });
      await backend.tamper('int/victim.bin');
      const downloads = path.join(work, `downloads-${size}`);
      await mkdir(downloads, { recursive: true });

      // Act
      const error = await rejectionOf(store.getFile('int/victim.bin', path.join(downloads, 'victim.bin'), { expectedSha256: sha256 }));

      // Assess
      expect(error.name).toBe('PermanentError');
      expect(error.code).toBe('CHECKSUM_MISMATCH');
      expect(await filesUnder(downloads)).toEqual([]);
    });

    it.each([
      ['multipart-sized', 11 * MiB],
      ['single-part', 4096],
    ])('refuses a %s upload whose content does not match expectedSha256, committing nothing', async (_kind, size) => {
      // Prepare
      const file = path.join(work, 'wrong.bin');
      await writeRandomFile(file, size);
      const checkpointPath = path.join(work, 'wrong.cp');
      const key = `int/wrong-${size}.bin`;

      // Act
      const error = await rejectionOf(store.putFile(key, file, { checkpointPath, expectedSha256: sha256Of('something else'), partSize: 5 * MiB }));

      // Assess
      expect(error.name).toBe('PermanentError');
      expect(error.code).toBe('CHECKSUM_MISMATCH');
      expect(await store.head(key)).toBeUndefined();
      expect(await collect(store.list('int/wrong-'))).toEqual([]);
      await expect(stat(checkpointPath)).rejects.toMatchObject({ code: 'ENOENT' });
    });
  });

  describe('refusals', () => {
    it.each(['../escape', '/abs/key', 'a/../../b', 'a\\b', 'a//b', ''])('refuses the unsafe key %j everywhere with INVALID_KEY', async (key) => {
      // Prepare
      const file = path.join(work, 'f');
      await writeFile(file, 'x');

      // Act
      const errors = await Promise.all([
        rejectionOf(store.put(key, 'x')),
        rejectionOf(store.putFile(key, file, { checkpointPath: path.join(work, 'cp') })),
        rejectionOf(store.get(key)),
        rejectionOf(store.getFile(key, path.join(work, 'out'))),
        rejectionOf(store.head(key)),
        rejectionOf(store.delete([key])),
      ]);

      // Assess
      for (const error of errors) {
        expect(error.name).toBe('PermanentError');
        expect(error.code).toBe('INVALID_KEY');
      }
    });

    it('reports NOT_FOUND for a missing key on get and getFile, leaving no file', async () => {
      // Act
      const onGet = await rejectionOf(store.get('missing/key'));
      const onGetFile = await rejectionOf(store.getFile('missing/key', path.join(work, 'dl', 'key')));

      // Assess
      expect(onGet).toMatchObject({ name: 'PermanentError', code: 'NOT_FOUND' });
      expect(onGetFile).toMatchObject({ name: 'PermanentError', code: 'NOT_FOUND' });
      expect(onGet.message).toContain('missing/key');
      await expect(stat(path.join(work, 'dl', 'key'))).rejects.toMatchObject({ code: 'ENOENT' });
    });
  });

  describe('rate limit (lower bound tight, upper bound loose; accuracy targets live in the benchmark)', () => {
    const rate = 4_000_000;
    const size = 6_000_000;
    const expectedMs = (size / rate) * 1000;

    it('limits putFile across concurrent parts', async () => {
      // Prepare
      const file = path.join(work, 'rl.bin');
      await writeRandomFile(file, size);
      const started = performance.now();

      // Act
      await store.putFile('rl/putfile.bin', file, { checkpointPath: path.join(work, 'rl.cp'), partSize: 5 * MiB, rateLimit: rate });

      // Assess
      const elapsed = performance.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(0.95 * expectedMs);
      expect(elapsed).toBeLessThan(3 * expectedMs);
    });

    it('limits put of a stream', async () => {
      // Prepare
      const file = path.join(work, 'rl-put.bin');
      await writeRandomFile(file, size);
      const started = performance.now();

      // Act
      await store.put('rl/put.bin', createReadStream(file), { rateLimit: rate });

      // Assess
      const elapsed = performance.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(0.95 * expectedMs);
      expect(elapsed).toBeLessThan(3 * expectedMs);
    });

    it('limits getFile', async () => {
      // Prepare
      const file = path.join(work, 'rl-get.bin');
      const sha256 = await writeRandomFile(file, size);
      await store.putFile('rl/get.bin', file, { checkpointPath: path.join(work, 'rl-get.cp') });
      const started = performance.now();

      // Act
      const got = await store.getFile('rl/get.bin', path.join(work, 'rl-get.out'), { rateLimit: rate, expectedSha256: sha256 });

      // Assess
      const elapsed = performance.now() - started;
      expect(got.size).toBe(size);
      expect(elapsed).toBeGreaterThanOrEqual(0.95 * expectedMs);
      expect(elapsed).toBeLessThan(3 * expectedMs);
    });

    it('holds concurrent getFiles given one shared bucket to its rate together', async () => {
      // Prepare
      const file = path.join(work, 'rl-shared.bin');
      await writeRandomFile(file, size / 2);
      await store.putFile('rl/shared.bin', file, { checkpointPath: path.join(work, 'rl-shared.cp') });
      const bucket = new TokenBucket(rate);
      const started = performance.now();

      // Act: half the size each, so together as long as one `size` download; apart, half as long.
      await Promise.all([1, 2].map((n) => store.getFile('rl/shared.bin', path.join(work, `rl-shared-${n}.out`), { rateLimit: bucket })));

      // Assess
      const elapsed = performance.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(0.95 * expectedMs);
      expect(elapsed).toBeLessThan(3 * expectedMs);
    });
  });
});
