/** Local-directory-only behaviour: atomic writes, temp files, layout on disk. */
import fs, { createReadStream, readlinkSync } from 'node:fs';
import { mkdir, open, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { deletePrefix } from '../../../core/store/blob-store';
import { LocalDirectoryStore } from '../../../core/store/local-directory-store';
import { PARTIAL_SUFFIX } from '../../../core/store/local-file-upload';
import { collect, filesUnder, makeTempDir, rejectionOf, removeDir, writeRandomFile } from '../../fixtures/store/files';

describe('local directory store', () => {
  let root: string;
  let work: string;
  let store: LocalDirectoryStore;

  beforeEach(async () => {
    root = await makeTempDir('root');
    work = await makeTempDir('work');
    store = new LocalDirectoryStore(root);
  });

  afterEach(async () => {
    await removeDir(root);
    await removeDir(work);
  });

  it('maps keys to files under the root and reports a file:// URL', async () => {
    // Act
    await store.put('a/b/c.txt', 'abc');

    // Assess
    expect(await readFile(path.join(root, 'a', 'b', 'c.txt'), 'utf8')).toBe('abc');
    expect(store.url).toBe(`file://${root}`);
  });

  it('never shows a partial object: during a slow put the old content stays in place', async () => {
    // Prepare
    await store.put('atomic.bin', 'old');
    const file = path.join(work, 'new.bin');
    await writeRandomFile(file, 1_000_000);

    // Act
    const putting = store.put('atomic.bin', createReadStream(file), { rateLimit: 2_000_000 });
    await new Promise((resolve) => setTimeout(resolve, 250));
    const during = await readFile(path.join(root, 'atomic.bin'), 'utf8');
    const listedDuring = await collect(store.list(''));
    await putting;

    // Assess
    expect(during).toBe('old');
    expect(listedDuring.map((o) => o.key)).toEqual(['atomic.bin']);
    expect((await stat(path.join(root, 'atomic.bin'))).size).toBe(1_000_000);
    expect(await filesUnder(root)).toEqual(['atomic.bin']);
  });

  it('deletes a folder whole, with the temporary files killed writes left in it (they are never listed)', async () => {
    // Prepare: a finished object, a killed put's temporary file and an abandoned resumable copy
    await store.put('backups/e/i/b1/data/default/done.gz', 'done');
    await writeFile(path.join(root, 'backups/e/i/b1/data/default/killed.gz.dbbackup-tmp-12345-abcd'), 'half');
    await writeFile(path.join(root, 'backups/e/i/b1/data/default/snapshot.db.dbbackup-partial'), 'part');
    await store.put('backups/e/i/b2/manifest.json', '{}');

    // Act
    const deleted = await deletePrefix(store, 'backups/e/i/b1/');

    // Assess
    expect(deleted).toBe(1);
    expect(await filesUnder(root)).toEqual(['backups/e/i/b2/manifest.json']);
    await expect(stat(path.join(root, 'backups/e/i/b1'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('ignores temporary and partial files when listing and refuses keys that would collide with them', async () => {
    // Prepare
    await mkdir(path.join(root, 'd'), { recursive: true });
    await writeFile(path.join(root, 'd', 'x.dbbackup-partial'), 'p');
    await writeFile(path.join(root, 'd', 'y.dbbackup-tmp-1-abcd'), 't');
    await store.put('d/real', 'r');

    // Act
    const listed = await collect(store.list('d/'));
    const refused = await rejectionOf(store.put('d/x.dbbackup-partial', 'nope'));

    // Assess
    expect(listed.map((o) => o.key)).toEqual(['d/real']);
    expect(refused.code).toBe('INVALID_KEY');
  });

  it('removes directories emptied by delete', async () => {
    // Prepare
    await store.put('deep/er/still/file', 'x');
    await store.put('deep/other', 'y');

    // Act
    await store.delete(['deep/er/still/file']);

    // Assess
    await expect(stat(path.join(root, 'deep', 'er'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await filesUnder(root)).toEqual(['deep/other']);
  });

  it('heads a folder as missing and fails to get it with NOT_FOUND', async () => {
    // Prepare
    await store.put('folder/inside', 'x');

    // Act
    const info = await store.head('folder');
    const error = await rejectionOf(store.get('folder'));

    // Assess
    expect(info).toBeUndefined();
    expect(error.code).toBe('NOT_FOUND');
  });

  it('hashes an object in place as put hashed it, across reads of its file, and a missing one or a folder as NOT_FOUND', async () => {
    // Prepare: larger than the two 1 MiB buffers the hash reads with, and not a multiple of them
    const body = Buffer.alloc(3 * 1024 * 1024 + 12_345);
    for (let at = 0; at < body.length; at += 1) body[at] = (at * 31 + (at >>> 10)) & 0xff;
    const put = await store.put('big/object', body);
    await store.put('folder/inside', 'x');

    // Act
    const hashed = await store.hashObject('big/object');
    const missing = await rejectionOf(store.hashObject('big/none'));
    const folder = await rejectionOf(store.hashObject('folder'));

    // Assess
    expect(hashed).toEqual({ size: body.length, sha256: put.sha256 });
    expect([missing.code, folder.code]).toEqual(['NOT_FOUND', 'NOT_FOUND']);
  });

  it('refuses a key under an object as KEY_CONFLICT whatever the body, and leaves the object as it was', async () => {
    // Prepare
    await store.put('file', 'an object');

    // Act
    const errors = await Promise.all([
      rejectionOf(store.put('file/child.bin', 'whole')),
      rejectionOf(store.put('file/child.bin', Readable.from([Buffer.from('streamed')]))),
      rejectionOf(store.put('file/child.bin', Readable.from([Buffer.from('streamed')]), { persistLater: true })),
    ]);

    // Assess
    expect(errors.map((error) => error.code)).toEqual(['KEY_CONFLICT', 'KEY_CONFLICT', 'KEY_CONFLICT']);
    expect(await readFile(path.join(root, 'file'), 'utf8')).toBe('an object');
  });

  it('reports a missing source file for putFile as SOURCE_NOT_FOUND, not as a missing object', async () => {
    // Act
    const error = await rejectionOf(store.putFile('k', path.join(work, 'no-such-file'), { checkpointPath: path.join(work, 'cp') }));

    // Assess
    expect(error.code).toBe('SOURCE_NOT_FOUND');
  });

  /** Records the path of every file or directory synced to disk, until `restore`. */
  async function recordSyncs(onSync: (file: string) => void = () => undefined): Promise<{ synced: string[]; restore(): void }> {
    const synced: string[] = [];
    const pathOf = (fd: number) => readlinkSync(`/proc/self/fd/${fd}`);
    const realFsync = fs.fsync;
    const fsyncSpy = jest.spyOn(fs, 'fsync').mockImplementation(((fd: number, callback: (error: Error | null) => void) => {
      synced.push(pathOf(fd));
      onSync(synced.at(-1)!);
      realFsync(fd, callback);
    }) as typeof fs.fsync);
    const probe = await open(root, 'r');
    const fileHandle = Object.getPrototypeOf(probe) as { sync(): Promise<void>; datasync(): Promise<void> };
    await probe.close();
    const spies = (['sync', 'datasync'] as const).map((method) => {
      const real = fileHandle[method];
      return jest.spyOn(fileHandle, method).mockImplementation(function recorded(this: { fd: number }) {
        synced.push(pathOf(this.fd));
        onSync(synced.at(-1)!);
        return real.call(this);
      });
    });
    return {
      synced,
      restore() {
        fsyncSpy.mockRestore();
        for (const spy of spies) spy.mockRestore();
      },
    };
  }

  it('is durable when put and putFile return: new directories synced into their parents, each file before its rename, its directory after', async () => {
    // Prepare
    const { synced, restore } = await recordSyncs();
    const source = path.join(work, 'source.bin');
    await writeRandomFile(source, 100_000);

    try {
      // Act
      await store.put('streamed/object.bin', createReadStream(source));
      const afterPut = synced.splice(0);
      await store.putFile('copied/object.bin', source, { checkpointPath: path.join(work, 'cp') });
      const afterPutFile = synced.splice(0);

      // Assess: the new directory into its parent, the temporary file (not yet under its name),
      // then the directory holding the name
      expect(afterPut).toEqual([root, expect.stringMatching(new RegExp(`^${root}/streamed/object\\.bin.+`)), path.join(root, 'streamed')]);
      expect(afterPutFile[0]).toBe(root);
      expect(afterPutFile.at(-1)).toBe(path.join(root, 'copied'));
      expect(afterPutFile.slice(0, -1)).toContain(path.join(root, 'copied', `object.bin${PARTIAL_SUFFIX}`));
    } finally {
      restore();
    }
  });

  it('flushes a long write behind its bytes, persistLater or not: its file is synced while it is still being written', async () => {
    // Prepare: 48 MiB (three flush intervals) produced a MiB at a time; syncs of a temporary file
    // before the last MiB was produced are counted
    const total = 48;
    let produced = 0;
    let early = 0;
    const { restore } = await recordSyncs((file) => {
      if (file.includes('.dbbackup-tmp-') && produced < total) early += 1;
    });
    const body = () => Readable.from((function* chunks() {
      for (produced = 0; produced < total; produced += 1) yield Buffer.alloc(1 << 20, produced);
    })());

    try {
      // Act: a stream put to persist later, a durable one, and a chunk writer to persist later
      await store.put('later/stream.bin', body(), { persistLater: true });
      const streamed = early;
      await store.put('now/stream.bin', body());
      const durable = early - streamed;
      const writer = await store.openWriter('later/chunks.bin', { persistLater: true });
      for (produced = 0; produced < total; produced += 1) await writer.write(Buffer.alloc(1 << 20, produced));
      await writer.end();
      const chunked = early - streamed - durable;

      // Assess
      expect([streamed, durable, chunked].map((count) => count >= 1)).toEqual([true, true, true]);
      expect((await stat(path.join(root, 'later/stream.bin'))).size).toBe(total << 20);
      expect((await stat(path.join(root, 'later/chunks.bin'))).size).toBe(total << 20);
    } finally {
      restore();
    }
  });

  it('stops a long write soon after a flush behind it fails (a dying disk), and leaves nothing', async () => {
    // Prepare: every fdatasync fails as a disk that refuses writes would
    const probe = await open(root, 'r');
    const fileHandle = Object.getPrototypeOf(probe) as { datasync(): Promise<void> };
    await probe.close();
    const failing = jest.spyOn(fileHandle, 'datasync').mockRejectedValue(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    const total = 256;
    let produced = 0;
    const body = Readable.from((function* chunks() {
      for (; produced < total; produced += 1) yield Buffer.alloc(1 << 20, produced);
    })());

    try {
      // Act
      const streamed = await rejectionOf(store.put('dying/stream.bin', body, { persistLater: true }));
      const streamedProduced = produced;
      const writer = await store.openWriter('dying/chunks.bin', { persistLater: true });
      let accepted = 0;
      const refused = await (async () => {
        for (; accepted < total; accepted += 1) await writer.write(Buffer.alloc(1 << 20, accepted));
        return undefined;
      })().catch((error: unknown) => error as Error);
      const ended = await rejectionOf(writer.end());

      // Assess: both stopped long before the end, and nothing stays under either name
      expect(streamed.message).toContain('EIO');
      expect(streamedProduced).toBeLessThan(total / 2);
      expect(refused?.message).toContain('EIO');
      expect(accepted).toBeLessThan(total / 2);
      expect(ended.message).toContain('EIO');
      expect(await filesUnder(root)).toEqual([]);
    } finally {
      failing.mockRestore();
    }
  });

  it('syncs nothing of what is written persistLater until persist, which syncs each file and each folder up to the root once', async () => {
    // Prepare
    const { synced, restore } = await recordSyncs();

    try {
      // Act
      await store.put('b/t1/0.tsv', 'one', { persistLater: true });
      await store.put('b/t2/0.tsv', 'two', { persistLater: true });
      const writer = await store.openWriter('b/t2/1.tsv', { persistLater: true });
      await writer.write(Buffer.from('three'));
      await writer.end();
      const afterWrites = synced.splice(0);
      await store.persist(['b/t1/0.tsv', 'b/t2/0.tsv', 'b/t2/1.tsv']);

      // Assess
      expect(afterWrites).toEqual([]);
      expect([...synced].sort()).toEqual([root, 'b', 'b/t1', 'b/t1/0.tsv', 'b/t2', 'b/t2/0.tsv', 'b/t2/1.tsv'].map((p) => (p === root ? root : path.join(root, p))).sort());
      expect(await readFile(path.join(root, 'b/t2/1.tsv'), 'utf8')).toBe('three');
      await expect(store.persist(['b/t3/0.tsv'])).rejects.toMatchObject({ code: 'NOT_FOUND' });
    } finally {
      restore();
    }
  });
});
