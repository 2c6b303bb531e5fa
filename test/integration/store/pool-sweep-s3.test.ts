/**
 * The pool against a real s3rver: putPooled reuses what the bucket holds (its recorded sha256), and
 * the sweep deletes thousands of orphans in batches — one DeleteObjects call per 1 000 keys,
 * counted on the S3 client itself — keeping what a manifest lists.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Catalog } from '../../../core/catalog/catalog';
import { poolKey, poolPrefix } from '../../../core/catalog/layout';
import { sweepPools } from '../../../core/catalog/pool-sweep';
import { putPooled } from '../../../core/driver/pool-upload';
import { mapLimited } from '../../../core/concurrency';
import { createS3Client } from '../../../core/store/s3-client';
import { S3Store } from '../../../core/store/s3-store';
import { storeBackup } from '../../fixtures/catalog/stored-backup';
import { makeTempDir, removeDir, sha256Of } from '../../fixtures/store/files';
import { s3rverStoreOptions, startS3rver, type S3rverHandle } from '../../harness/s3rver';

const DAY = 86_400_000;
let server: S3rverHandle;
let work: string;
let store: S3Store;
const calls: Record<string, number> = {};

beforeAll(async () => {
  server = await startS3rver();
  const options = s3rverStoreOptions(server, `pool-${Date.now()}`);
  const client = createS3Client(options);
  client.middlewareStack.add((next, context) => async (args) => {
    calls[context.commandName ?? '?'] = (calls[context.commandName ?? '?'] ?? 0) + 1;
    return next(args);
  }, { step: 'initialize', name: 'countCommands' });
  store = new S3Store({ ...options, client });
  work = await makeTempDir('pool-s3');
});
afterAll(async () => {
  store?.client.destroy();
  await server?.stop();
  if (work) await removeDir(work);
});
beforeEach(() => {
  for (const name of Object.keys(calls)) delete calls[name];
});

describe('the pool on S3', () => {
  it('putPooled sends a file once; the second call finds it by its recorded sha256 and sends nothing', async () => {
    // Prepare
    const file = path.join(work, 'nb-1-big-Data.db');
    await writeFile(file, 'sstable component');
    const pool = { store, prefix: poolPrefix('cassandra', 'ring') };

    // Act
    const first = await putPooled(pool, file, 'ks/t/nb-1-big-Data.db', { spoolDir: path.join(work, 'spool') });
    const second = await putPooled(pool, file, 'ks/t/nb-1-big-Data.db', { spoolDir: path.join(work, 'spool') });

    // Assess
    expect(first.sentBytes).toBe('sstable component'.length);
    expect(second).toEqual({ artifact: first.artifact, sentBytes: 0 });
    expect((await store.head(first.artifact.key))?.sha256).toBe(sha256Of('sstable component'));
  });

  it('sweeps 2 500 orphans in 3 DeleteObjects calls, keeping the object a manifest lists and another instance\'s', async () => {
    // Prepare
    const listed = (await storeBackup(store, { at: new Date(), engine: 'cassandra', instance: 'a', pooled: ['listed'] })).manifest.artifacts[1].key;
    const orphans = Array.from({ length: 2500 }, (_, i) => poolKey('cassandra', 'a', sha256Of(`orphan ${i}`)));
    await mapLimited(orphans, 16, (key, i) => store.put(key, `orphan ${i}`));
    const theirs = poolKey('cassandra', 'ab', sha256Of('orphan of ab'));
    await store.put(theirs, 'orphan of ab');
    for (const name of Object.keys(calls)) delete calls[name];

    // Act
    const [report] = await sweepPools(new Catalog(store), store, { engine: 'cassandra', instance: 'a', apply: true, now: new Date(Date.now() + 3 * DAY) });

    // Assess
    expect(report).toMatchObject({ instance: 'a', kept: { objects: 1 }, swept: { objects: 2500 }, young: { objects: 0 } });
    expect(calls.DeleteObjectsCommand).toBe(3);
    expect(calls.DeleteObjectCommand).toBeUndefined();
    const left: string[] = [];
    for await (const object of store.list('pool/cassandra/a')) left.push(object.key); // a/ and ab/
    expect(left.sort()).toEqual([listed, theirs].sort());
  });
});
