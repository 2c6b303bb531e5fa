import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { ArtifactReader, spoolSink, storeSink } from '../../../core/driver/artifact-sink';
import { LocalDirectoryStore } from '../../../core/store/local-directory-store';

let dir: string;
beforeEach(async () => { dir = await mkdtemp(path.join(os.tmpdir(), 'dbbackup-sink-')); });
afterEach(() => rm(dir, { recursive: true, force: true }));

const body = (text: string) => Readable.from([Buffer.from(text)]);

describe('artifact sinks', () => {
  it('a store sink writes under the node prefix and returns the key; a spool sink returns none', async () => {
    // Prepare
    const store = new LocalDirectoryStore(path.join(dir, 'store'));

    // Act
    const stored = await storeSink({ store, prefix: 'b/data/default' }).write('x/y.txt', body('hello'));
    const spooled = await spoolSink(path.join(dir, 'spool')).write('x/y.txt', body('hello'));

    // Assess
    expect(stored).toMatchObject({ name: 'x/y.txt', size: 5, key: 'b/data/default/x/y.txt' });
    expect(spooled.key).toBeUndefined();
    expect(spooled.sha256).toBe(stored.sha256);
  });

  it('a retried snapshot in a store the host may not delete from keeps going: the new artifacts replace the old', async () => {
    // Prepare: a store that refuses deletes, as a database host's policy does in AWS
    const store = new LocalDirectoryStore(path.join(dir, 'store'));
    const noDelete = Object.assign(Object.create(store) as LocalDirectoryStore, {
      delete: async () => { throw Object.assign(new Error('access denied'), { name: 'PermanentError', code: 'ACCESS_DENIED' }); },
    });
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, error() {}, warn: (message: string) => { warnings.push(message); } };
    const sink = storeSink({ store: noDelete, prefix: 'b/data/default' }, logger);
    await sink.write('chunk-1', body('first attempt'));

    // Act
    await sink.clear();
    const again = await sink.write('chunk-1', body('second'));

    // Assess
    expect(again).toMatchObject({ size: 6 });
    expect(warnings).toEqual([expect.stringMatching(/earlier attempt's artifacts stay in the store/)]);
    await expect(storeSink({ store: { ...noDelete, list: async function* () { throw Object.assign(new Error('x'), { code: 'NETWORK' }); } } as never, prefix: 'b' }).clear()).rejects.toMatchObject({ code: 'NETWORK' });
  });

  it.each(['../escape', '/absolute', ''])('refuses the artifact name %j in the store as in the spool, writing nothing', async (name) => {
    // Prepare
    const store = new LocalDirectoryStore(path.join(dir, 'store'));

    // Act
    const toStore = storeSink({ store, prefix: 'b' }).write(name, body('x'));
    const toSpool = spoolSink(path.join(dir, 'spool')).write(name, body('x'));

    // Assess
    await expect(toStore).rejects.toMatchObject({ code: 'INVALID_PATH' });
    await expect(toSpool).rejects.toMatchObject({ code: 'INVALID_PATH' });
    expect(await readdir(path.join(dir, 'store')).catch(() => [])).toEqual([]);
  });

  it('the reader checks sha256 while reading, and verifyUnread hashes only what was not read', async () => {
    // Prepare
    const store = new LocalDirectoryStore(path.join(dir, 'store'));
    const sink = storeSink({ store, prefix: 'b' });
    const good = await sink.write('good.txt', body('intact'));
    const bad = await sink.write('bad.txt', body('original'));
    const unread = await sink.write('unread.txt', body('never opened'));
    await store.put(bad.key!, 'tampered');
    const reader = new ArtifactReader(path.join(dir, 'spool'), store);

    // Act
    const read = (await reader.readAll(good)).toString();
    const failedRead = reader.readAll(bad);
    await expect(failedRead).rejects.toMatchObject({ code: 'CHECKSUM_MISMATCH' });
    const problems = await reader.verifyUnread([good, bad, unread]);

    // Assess
    expect(read).toBe('intact');
    expect(problems).toEqual([expect.stringContaining('bad.txt')]);
  });

  it('holds artifacts written at the same time to the node rate limit together', async () => {
    // Prepare
    const store = new LocalDirectoryStore(path.join(dir, 'store'));
    const sink = storeSink({ store, prefix: 'b', rateLimit: 2_000_000 });
    const megabyte = () => Readable.from([Buffer.alloc(1_000_000, 1)]);

    // Act
    const started = Date.now();
    await Promise.all([sink.write('one', megabyte()), sink.write('two', megabyte()), sink.write('three', megabyte())]);
    const seconds = (Date.now() - started) / 1000;

    // Assess: 3 MB at 2 MB/s, less the bucket's initial burst; three separate limits would take 0.5 s.
    expect(seconds).toBeGreaterThan(1.2);
  });
});
