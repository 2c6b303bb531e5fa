import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { ArtifactReader, spoolSink, storeSink, verifyArtifact, type ArtifactSink } from '../../../core/driver/artifact-sink';
import type { BlobStore } from '../../../core/store/blob-store';
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

  it('takes bytes already whole (a Buffer) as it takes a stream of them: the same file, size and sha256, nothing else left', async () => {
    // Prepare
    const store = new LocalDirectoryStore(path.join(dir, 'store'));
    const sinks = [storeSink({ store, prefix: 'b/data/default' }), spoolSink(path.join(dir, 'spool'))];
    const bytes = Buffer.from('a whole small chunk\n');

    // Act
    const whole = await Promise.all(sinks.map((sink) => sink.write('t/whole.bin', bytes)));
    const streamed = await Promise.all(sinks.map((sink) => sink.write('t/streamed.bin', body(bytes.toString()))));

    // Assess
    expect(whole.map((a) => [a.size, a.sha256])).toEqual(streamed.map((a) => [a.size, a.sha256]));
    expect(await readFile(path.join(dir, 'store', 'b', 'data', 'default', 't', 'whole.bin'))).toEqual(bytes);
    expect(await readFile(path.join(dir, 'spool', 't', 'whole.bin'))).toEqual(bytes);
    expect((await readdir(path.join(dir, 'store', 'b', 'data', 'default', 't'))).sort()).toEqual(['streamed.bin', 'whole.bin']);
    expect((await readdir(path.join(dir, 'spool', 't'))).sort()).toEqual(['streamed.bin', 'whole.bin']);
  });

  it('writes an artifact a chunk at a time into the spool, a local store, or a store that only takes streams, the same bytes and sha256; an aborted one leaves nothing', async () => {
    // Prepare: one buffer reused for every chunk, as the ZooKeeper copy does
    const local = new LocalDirectoryStore(path.join(dir, 'store'));
    const streamsOnly: BlobStore = { url: 'streams-only:', put: (k, b, o) => local.put(k, b, o), putFile: (k, f, o) => local.putFile(k, f, o), get: (k, o) => local.get(k, o), getFile: (k, f, o) => local.getFile(k, f, o), head: (k) => local.head(k), list: (p) => local.list(p), delete: (k) => local.delete(k) };
    const sinks = [spoolSink(path.join(dir, 'spool')), storeSink({ store: local, prefix: 'fast' }), storeSink({ store: streamsOnly, prefix: 'streamed' })];
    const writeChunked = async (sink: ArtifactSink, name: string) => {
      const writer = await sink.open(name);
      const buffer = Buffer.alloc(1000);
      for (let i = 0; i < 50; i += 1) {
        buffer.fill(i);
        await writer.write(buffer.subarray(0, 700 + i));
      }
      return writer;
    };
    const expected = Buffer.concat(Array.from({ length: 50 }, (_, i) => Buffer.alloc(700 + i, i)));

    // Act
    const written = await Promise.all(sinks.map(async (sink) => (await writeChunked(sink, 'a/whole.bin')).end()));
    await Promise.all(sinks.map(async (sink) => (await writeChunked(sink, 'a/abandoned.bin')).abort()));

    // Assess
    expect(written.map((a) => [a.name, a.size, a.key])).toEqual([['a/whole.bin', expected.length, undefined], ['a/whole.bin', expected.length, 'fast/a/whole.bin'], ['a/whole.bin', expected.length, 'streamed/a/whole.bin']]);
    expect(new Set(written.map((a) => a.sha256))).toEqual(new Set([createHash('sha256').update(expected).digest('hex')]));
    expect(await readFile(path.join(dir, 'spool', 'a', 'whole.bin'))).toEqual(expected);
    expect(await readFile(path.join(dir, 'store', 'streamed', 'a', 'whole.bin'))).toEqual(expected);
    expect(await readdir(path.join(dir, 'spool', 'a'))).toEqual(['whole.bin']);
    expect((await readdir(path.join(dir, 'store', 'fast', 'a'))).filter((name) => name !== 'whole.bin')).toEqual([]);
    expect((await readdir(path.join(dir, 'store', 'streamed', 'a'))).filter((name) => name !== 'whole.bin')).toEqual([]);
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

  it.each(['../escape', '/absolute', '', 'a//b', './x', 'a\\b', 'tab\there'])('refuses the artifact name %j in the store as in the spool, writing nothing', async (name) => {
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

  it('verifyUnread finds, among many small artifacts in the spool and in a local store, each changed, cut short or missing one, and says what the one-at-a-time check says', async () => {
    // Prepare
    const store = new LocalDirectoryStore(path.join(dir, 'store'));
    const spool = path.join(dir, 'spool');
    const written = async (sink: ArtifactSink, prefix: string) => Promise.all(Array.from({ length: 100 }, (_, i) => sink.write(`${prefix}${i}.tsv`, body(`rows of table ${i}`))));
    const stored = await written(storeSink({ store, prefix: 'b' }), 'stored');
    const spooled = await written(spoolSink(spool), 'spooled');
    const fileOf = (artifact: (typeof stored)[number]) => (artifact.key === undefined ? path.join(spool, artifact.name) : store.localFile(artifact.key));
    for (const artifacts of [stored, spooled]) {
      await writeFile(fileOf(artifacts[3]), 'rows of table X');
      await rm(fileOf(artifacts[20]));
      await mkdir(fileOf(artifacts[20]));
      await truncate(fileOf(artifacts[50]), 4);
      await rm(fileOf(artifacts[97]));
    }
    const damaged = [3, 20, 50, 97];
    const oneByOne = jest.spyOn(store, 'hashObject');

    // Act
    const problems = await new ArtifactReader(spool, store).verifyUnread([...stored, ...spooled]);

    // Assess: the store's objects were hashed many at a time — one at a time only those that could not be read, to say why
    expect(oneByOne.mock.calls.map(([key]) => key).sort()).toEqual([stored[20].key, stored[97].key].sort());
    oneByOne.mockRestore();
    const oneAtATime = await Promise.all([stored, spooled].flatMap((artifacts) => damaged.map((i) => verifyArtifact(spool, artifacts[i], store).then(() => 'intact', (error: Error) => `${artifacts[i].name}: ${error.message}`))));
    expect(problems).toEqual(oneAtATime);
    expect(problems).toEqual(['stored', 'spooled'].flatMap((prefix) => damaged.map((i) => expect.stringMatching(new RegExp(`^${prefix}${i}\\.tsv: ${i === 97 || i === 20 ? '.*(not found|missing|directory|not a file)' : 'artifact .* does not match its checksum'}`)))));
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
