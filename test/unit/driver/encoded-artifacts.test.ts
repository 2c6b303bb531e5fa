/**
 * The artifact path with an encoding (core/crypto/artifact-encoding.ts) over a local directory
 * store: what the store sink, the upload and the pool store are the stored form, what readers and
 * downloads give back the plain bytes; a retried upload encodes the same bytes (nothing sent
 * again); a pool stays deduplicated, under names that do not reveal the plaintext's sha256.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { ArtifactReader, storeSink } from '../../../core/driver/artifact-sink';
import { openStored } from '../../../core/driver/artifact-check';
import { downloadArtifacts } from '../../../core/driver/download';
import { putPooled } from '../../../core/driver/pool-upload';
import { SpoolBackupDriver } from '../../../core/driver/spool-backup-driver';
import type { ArtifactEncoding } from '../../../core/crypto/artifact-encoding';
import { keepKey, keyOpener, nodeEncoding, spoolKeyOpener } from '../../../core/crypto/encoding-settings';
import { poolEncoding } from '../../../core/crypto/pool-key';
import type { SnapshotRef } from '../../../core/driver/types';
import { PermanentError, TransientError } from '../../../core/errors';
import { dataKeyFileOf } from '../../../core/runs/run-dir';
import type { BlobStore } from '../../../core/store/blob-store';
import { LocalDirectoryStore } from '../../../core/store/local-directory-store';

let dir: string;
let store: LocalDirectoryStore;
let spoolDir: string;
let keyFile: string;
const services = { resolveSecrets: async (value: unknown) => ((value as { $secret?: string }).$secret?.startsWith('file:') ? readFile((value as { $secret: string }).$secret.slice(5), 'utf8') : value) };
const settings = () => ({ compression: { codec: 'zstd' as const, level: 3 }, encryption: { key: { $secret: `file:${keyFile}` } } });
const context = { engine: 'etcd', instance: 'main', backup: 'b1' };
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dbbackup-encoded-'));
  store = new LocalDirectoryStore(path.join(dir, 'store'));
  spoolDir = path.join(dir, 'spool', 'node');
  await mkdir(spoolDir, { recursive: true });
  keyFile = path.join(dir, 'backup.key');
  await writeFile(keyFile, randomBytes(32).toString('base64'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

async function encoding(): Promise<ArtifactEncoding> {
  return (await nodeEncoding(settings(), spoolDir, context, services))!;
}

class Spooled extends SpoolBackupDriver<unknown> {
  createSnapshot(): never { throw new Error('not used'); }
  validateSnapshot(): never { throw new Error('not used'); }
}

it('writes through the store sink sealed and compressed, the plain size and sha256 recorded beside the stored ones; reads give the plain bytes back', async () => {
  // Prepare
  const plain = Buffer.from('line of a dump\n'.repeat(10_000));
  const sink = storeSink({ store, prefix: 'b/data/n', encoding: await encoding() });

  // Act
  const written = await sink.write('snapshot.db', Readable.from([plain]));
  const chunked = await sink.open('chunked.db');
  await chunked.write(plain);
  const second = await chunked.end();
  const compressedAlready = await sink.write('chunk-1.tsv.zst', Readable.from([plain]));
  const reader = new ArtifactReader(spoolDir, store);
  const readBack = await reader.readAll(written);

  // Assess
  const stored = await readFile(path.join(dir, 'store', 'b/data/n/snapshot.db'));
  expect(written).toMatchObject({ size: plain.length, sha256: sha256(plain), stored: { size: stored.length, sha256: sha256(stored), compression: 'zstd', dataKey: { provider: 'key-file' } } });
  expect(stored.subarray(0, 4).toString('latin1')).toBe('DBS1');
  expect(stored.length).toBeLessThan(plain.length / 10);
  expect(second).toMatchObject({ size: plain.length, sha256: sha256(plain) });
  expect(compressedAlready.stored).not.toHaveProperty('compression'); // sealed, not compressed twice
  expect(readBack.equals(plain)).toBe(true);
  expect(await reader.verifyUnread([written, second, compressedAlready])).toEqual([]);
});

it('names a sealed artifact whose manifest lost its data key as a damaged manifest, not an undecodable frame', async () => {
  // Prepare
  const plain = Buffer.from('line of a dump\n'.repeat(1_000));
  const written = await storeSink({ store, prefix: 'b/data/n', encoding: await encoding() }).write('snapshot.db', Readable.from([plain]));
  const { dataKey: _lost, ...stored } = written.stored!;

  // Act
  const reading = openStored(store, { ...written, key: written.key!, stored }, undefined).then(buffer);

  // Assess
  await expect(reading).rejects.toMatchObject({ code: 'BACKUP_DAMAGED', message: expect.stringMatching(/^artifact b\/data\/n\/snapshot\.db is sealed, but the manifest records no data key for it/) });
});

it('uploads a spooled artifact encoded; a retried upload encodes the same bytes and sends nothing; a download gives the plain file', async () => {
  // Prepare
  const plain = randomBytes(300_000);
  await writeFile(path.join(spoolDir, 'snapshot.db'), plain);
  const snapshot = { spoolDir, engine: 'etcd', instance: 'main', artifacts: [{ name: 'snapshot.db', size: plain.length, sha256: sha256(plain) }] } as unknown as SnapshotRef;
  const driver = new Spooled();
  const upload = async () => driver.upload({} as never, snapshot, { store, prefix: 'b/data/n', encoding: await encoding() });

  // Act
  const first = await upload();
  const retried = await upload();
  const downloaded = await downloadArtifacts(first.artifacts, path.join(dir, 'restore'), { store, openKey: keyOpener({ key: { $secret: `file:${keyFile}` } }, services) });
  const withoutKey = await downloadArtifacts(first.artifacts, path.join(dir, 'restore-2'), { store }).then(() => 'downloaded', (error: Error) => error.message);
  const askedInPlace = await downloadArtifacts(first.artifacts, path.join(dir, 'restore-3'), { store, openKey: keyOpener({ key: { $secret: `file:${keyFile}` } }, services), inPlace: true });

  // Assess
  expect(first.artifacts[0].stored).toEqual(retried.artifacts[0].stored);
  expect(first.sentBytes).toBe(first.artifacts[0].stored!.size);
  expect(retried.sentBytes).toBe(0);
  expect((await readFile(downloaded.files['snapshot.db'])).equals(plain)).toBe(true);
  expect(askedInPlace.files['snapshot.db']).toBe(path.join(dir, 'restore-3', 'snapshot.db')); // its stored bytes are not plain: decoded into the directory
  expect((await readFile(askedInPlace.files['snapshot.db'])).equals(plain)).toBe(true);
  expect(withoutKey).toMatch(/is encrypted .* and no key was given to open it/);
});

it('keeps a pool deduplicated when encoded: the same file is one object, named by a keyed hash, in every backup; another encoding names it apart', async () => {
  // Prepare
  const file = path.join(dir, 'nb-1-big-Data.db');
  const plain = randomBytes(50_000);
  await writeFile(file, plain);
  const pool = async (backup: string, asked = settings()) => ({
    store, prefix: 'pool/cassandra/main',
    poolEncoding: () => poolEncoding(asked, store, 'pool/cassandra/main', { engine: 'cassandra', instance: 'main', use: 'pool' }, services),
    spool: path.join(dir, backup),
  });
  const put = async (backup: string, asked?: ReturnType<typeof settings>) => {
    const p = await pool(backup, asked);
    await mkdir(p.spool, { recursive: true });
    return putPooled(p, file, 'ks/t/nb-1-big-Data.db', { spoolDir: p.spool });
  };

  // Act
  const first = await put('b1');
  const second = await put('b2');
  const compressedOnly = await put('b3', { ...settings(), encryption: undefined } as unknown as ReturnType<typeof settings>);
  const opened = await buffer(await openStored(store, first.artifact, keyOpener({ key: { $secret: `file:${keyFile}` } }, services)));
  const pooled = (await poolEncoding(settings(), store, 'pool/cassandra/main', { engine: 'cassandra', instance: 'main', use: 'pool' }, services))!;
  const beforeKept = await spoolKeyOpener(spoolDir)(first.artifact.stored!.dataKey!, {}).then(() => 'opened', (error: Error) => error.message);
  await encoding(); // the node's own key, as the backup's steps make it first
  await keepKey(spoolDir, pooled.key!);
  const afterKept = await spoolKeyOpener(spoolDir)(first.artifact.stored!.dataKey!, {});

  // Assess
  expect(second.artifact).toEqual(first.artifact);
  expect(second.sentBytes).toBe(0);
  expect(first.artifact.key).toMatch(/^pool\/cassandra\/main\/[0-9a-f]{64}$/);
  expect(first.artifact.key).not.toContain(sha256(plain));
  expect(compressedOnly.artifact.key).not.toBe(first.artifact.key);
  expect(opened.equals(plain)).toBe(true);
  // The backing-up side opens only the keys its run made or opened: the pool's once kept beside the spool.
  expect(beforeKept).toMatch(/did not make or open/);
  expect(afterKept.equals(pooled.key!.dataKey)).toBe(true);
  expect(first.artifact.stored!.dataKey).toEqual(pooled.key!.wrapped);
});

it('keeps an encoded copy when its upload fails, and the retry uploads that very copy (its checkpoint still matches) instead of encoding anew', async () => {
  // Prepare: a store whose first upload fails
  const plain = randomBytes(200_000);
  await writeFile(path.join(spoolDir, 'snapshot.db'), plain);
  const snapshot = { spoolDir, engine: 'etcd', instance: 'main', artifacts: [{ name: 'snapshot.db', size: plain.length, sha256: sha256(plain) }] } as unknown as SnapshotRef;
  const uploaded: Array<{ file: string; mtimeMs: number }> = [];
  let failures = 1;
  const flaky: BlobStore = Object.assign(Object.create(store) as BlobStore, {
    async putFile(key: string, file: string, options: Parameters<BlobStore['putFile']>[2]) {
      uploaded.push({ file, mtimeMs: (await stat(file)).mtimeMs });
      if (failures-- > 0) throw new TransientError('connection reset', { code: 'NETWORK' });
      return store.putFile(key, file, options);
    },
  });
  const upload = async () => new Spooled().upload({} as never, snapshot, { store: flaky, prefix: 'b/data/n', encoding: await encoding() });

  // Act
  const failed = await upload().then(() => 'uploaded', (error: Error) => error.message);
  const retried = await upload();

  // Assess
  expect(failed).toBe('connection reset');
  expect(uploaded).toHaveLength(2);
  expect(uploaded[1]).toEqual(uploaded[0]); // the same copy, untouched: a checkpoint of it still applies
  expect(retried.sentBytes).toBe(retried.artifacts[0].stored!.size);
  expect(await readdir(path.join(spoolDir, '.encoded'))).toEqual([]); // gone once stored
});

it('refuses a damaged node key file naming it, instead of sealing the rest of the run with a new key', async () => {
  // Prepare: the run's key made, then its file damaged (half written by hand, or edited)
  const made = await encoding();
  const file = dataKeyFileOf(spoolDir);
  const kept = await readFile(file, 'utf8');
  await writeFile(file, kept.slice(0, kept.length / 2));

  // Act
  const truncated = await encoding().then(() => 'made a key', (error: PermanentError) => error);
  const opened = await spoolKeyOpener(spoolDir)(made.key!.wrapped, context).then(() => 'opened', (error: PermanentError) => error);
  await writeFile(file, JSON.stringify({ dataKey: 'x' }));
  const edited = await encoding().then(() => 'made a key', (error: PermanentError) => error);

  // Assess
  for (const error of [truncated, opened]) expect(error).toMatchObject({ code: 'STATE_CORRUPT', message: expect.stringContaining(`${file} is not valid JSON`) });
  expect(edited).toMatchObject({ code: 'STATE_CORRUPT', message: expect.stringMatching(/does not hold what it should .*: wrapped: required/) });
});

it('opens keys kept after the opener first read the key file (a pool key kept later in the run)', async () => {
  // Prepare
  const own = await encoding();
  const opener = spoolKeyOpener(spoolDir);
  await opener(own.key!.wrapped, context);
  const pool = await poolEncoding(settings(), store, 'pool/etcd/main', { engine: 'etcd', instance: 'main', use: 'pool' }, services);
  await keepKey(spoolDir, pool!.key!);

  // Act
  const opened = await opener(pool!.key!.wrapped, pool!.key!.wrapped.context);

  // Assess
  expect(opened.equals(pool!.key!.dataKey)).toBe(true);
});

it('starts a new pool key when the key file was replaced behind the same reference; artifacts pooled under the old one still open with the old key', async () => {
  // Prepare: a file pooled under the first key, then the key file replaced
  const file = path.join(dir, 'nb-1-big-Data.db');
  const plain = randomBytes(50_000);
  await writeFile(file, plain);
  const pool = { store, prefix: 'pool/cassandra/main', poolEncoding: () => poolEncoding(settings(), store, 'pool/cassandra/main', { engine: 'cassandra', instance: 'main', use: 'pool' }, services) };
  const first = (await pool.poolEncoding())!;
  const pooled = await putPooled(pool, file, 'ks/t/nb-1-big-Data.db', { spoolDir });
  const oldKey = await readFile(keyFile, 'utf8');
  await writeFile(keyFile, randomBytes(32).toString('base64'));

  // Act
  const duringRun = await poolEncoding(settings(), store, 'pool/cassandra/main', { engine: 'cassandra', instance: 'main', use: 'pool' }, services, first.key!.wrapped)
    .then(() => 'made a pool key', (error: PermanentError) => error);
  const second = (await pool.poolEncoding())!;
  const again = await putPooled(pool, file, 'ks/t/nb-1-big-Data.db', { spoolDir });
  await writeFile(keyFile, oldKey);
  const read = await buffer(await openStored(store, pooled.artifact, keyOpener({ key: { $secret: `file:${keyFile}` } }, services)));

  // Assess
  // A run whose own data key is wrapped by the old key never gets a pool key under the new one: the backup would need both.
  expect(duringRun).toMatchObject({ code: 'KEY_MISMATCH', message: expect.stringContaining('changed during the backup run') });
  expect(second.key!.wrapped.keyId).not.toBe(first.key!.wrapped.keyId);
  expect(again.artifact.key).not.toBe(pooled.artifact.key);
  expect(again.artifact.stored!.dataKey).toEqual(second.key!.wrapped);
  expect(read.equals(plain)).toBe(true);
});

it('never replaces a pool key a passphrase does not open: a wrong passphrase and a replaced one look alike', async () => {
  // Prepare
  const asked = { compression: { codec: 'zstd' as const, level: 3 }, encryption: { passphrase: { $secret: 'env:P' } } };
  const withPassphrase = (value: string) => ({ resolveSecrets: async () => value });
  const poolOf = (value: string) => poolEncoding(asked, store, 'pool/cassandra/main', { engine: 'cassandra', instance: 'main', use: 'pool' }, withPassphrase(value));
  const first = (await poolOf('correct horse battery staple'))!;

  // Act
  const wrong = await poolOf('correct horse battery stapler').then(() => 'made a pool key', (error: PermanentError) => error);
  const again = (await poolOf('correct horse battery staple'))!;

  // Assess
  expect(wrong).toMatchObject({ code: 'KEY_MISMATCH' });
  expect(again.key!.dataKey.equals(first.key!.dataKey)).toBe(true);
});

it('refuses to go on sealing with the run\'s data key once the key file behind its reference was replaced', async () => {
  // Prepare: the run's key made, then the key file replaced (a run resumed after it)
  await encoding();
  await writeFile(keyFile, randomBytes(32).toString('base64'));

  // Act
  const resumed = await encoding().then(() => 'sealed on', (error: PermanentError) => error);

  // Assess
  expect(resumed).toMatchObject({ code: 'KEY_MISMATCH', message: expect.stringMatching(/the key file:.*backup\.key changed since this backup run began .*--no-resume/) });
});
