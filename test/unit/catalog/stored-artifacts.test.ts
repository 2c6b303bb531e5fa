/**
 * Whether a backup's artifacts are stored as its manifest records them, asked of a real local
 * directory store the way S3 is asked: one listing of the backup's folder, a `head` only for what
 * lies outside it (the instance's pool) — so a 1 000-table backup costs one request, not a
 * thousand in a row; and the catalog reads the manifest of the backup asked for, not of every backup.
 */
import { truncate, unlink } from 'node:fs/promises';
import path from 'node:path';
import { Catalog } from '../../../core/catalog/catalog';
import { artifactNotStored } from '../../../core/catalog/stored-artifacts';
import type { BlobStore } from '../../../core/store/blob-store';
import type { LocalDirectoryStore } from '../../../core/store/local-directory-store';
import { storeBackup } from '../../fixtures/catalog/stored-backup';
import { makeTempStore, removeDir } from '../../fixtures/store/files';

let root: string;
let store: LocalDirectoryStore;

beforeEach(async () => ({ root, store } = await makeTempStore('stored')));
afterEach(() => removeDir(root));

/** `store`, counting the calls of each kind (a listing once per call) and the objects listings yield. */
function counting(inner: BlobStore): { store: BlobStore; calls: Record<'head' | 'list' | 'get' | 'listed', number> } {
  const calls = { head: 0, list: 0, get: 0, listed: 0 };
  const proxy = new Proxy(inner, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (name === 'head' || name === 'list' || name === 'get') calls[name] += 1;
        const result = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (name !== 'list') return result;
        return (async function* counted() {
          for await (const object of result as AsyncIterable<unknown>) {
            calls.listed += 1;
            yield object;
          }
        })();
      };
    },
  });
  return { store: proxy, calls };
}

describe('artifactNotStored', () => {
  it('lists the backup\'s folder once and heads only the pooled artifacts', async () => {
    // Prepare
    const backup = await storeBackup(store, { at: new Date(), engine: 'cassandra', pooled: ['sstable one', 'sstable two'] });
    const { store: counted, calls } = counting(store);

    // Act
    const missing = await artifactNotStored(counted, backup.manifest.artifacts);

    // Assess
    expect(missing).toBeUndefined();
    expect(calls).toEqual({ head: 2, list: 1, get: 0, listed: 2 });
  });

  it('takes the listing the catalog found the backup by as it is: a restore looks at the backup\'s folder once', async () => {
    // Prepare
    const backup = await storeBackup(store, { at: new Date(), pooled: ['pooled bytes'] });
    const [own] = backup.manifest.artifacts;
    const { store: counted, calls } = counting(store);

    // Act
    const entry = await new Catalog(counted).get(backup.backupId);
    const whole = await artifactNotStored(counted, entry.manifest.artifacts, entry.listed);
    await unlink(path.join(root, own.key)); // gone since the listing: the next one sees it
    const gone = await artifactNotStored(counted, entry.manifest.artifacts);

    // Assess
    expect(whole).toBeUndefined();
    expect(calls).toMatchObject({ list: 2, head: 2 });
    expect(gone).toEqual({ code: 'ARTIFACT_MISSING', what: `${own.key} is missing` });
    expect(JSON.stringify(await new Catalog(store).find(backup.backupId))).not.toContain('listed'); // what `show` prints
  });

  it('names an artifact of the backup\'s folder that is gone or cut short, and a pooled one that is gone', async () => {
    // Prepare
    const backup = await storeBackup(store, { at: new Date(), pooled: ['pooled bytes'] });
    const [own, pooled] = backup.manifest.artifacts;

    // Act / Assess
    await truncate(path.join(root, own.key), 3);
    expect(await artifactNotStored(store, backup.manifest.artifacts)).toEqual({ code: 'ARTIFACT_SIZE_MISMATCH', what: `${own.key} is 3 bytes, expected ${own.size}` });
    await unlink(path.join(root, own.key));
    expect(await artifactNotStored(store, backup.manifest.artifacts)).toEqual({ code: 'ARTIFACT_MISSING', what: `${own.key} is missing` });
    expect(await artifactNotStored(store, [pooled])).toBeUndefined();
    await unlink(path.join(root, pooled.key));
    expect(await artifactNotStored(store, [pooled])).toEqual({ code: 'ARTIFACT_MISSING', what: `${pooled.key} is missing` });
  });
});

describe('Catalog.find', () => {
  it('lists and reads the backup asked for only, and the newest ones down to the verified one for latest', async () => {
    // Prepare: five backups of one instance (two objects each), the newest one failed its
    // validation; one of another engine
    const now = Date.now();
    const backups = [];
    for (let i = 5; i >= 1; i -= 1) backups.push(await storeBackup(store, { at: new Date(now - i * 60_000), validationOk: i !== 1 }));
    await storeBackup(store, { at: new Date(now), engine: 'zookeeper' });
    await store.put('backups/not an engine/x/y', 'a stray key, in no backup');
    const { store: counted, calls } = counting(store);

    // Act
    const oldest = await new Catalog(counted).find(backups[0].backupId);
    const forOne = { ...calls };
    const latest = await new Catalog(counted).find('latest', { engine: 'etcd', instance: 'main' });

    // Assess
    expect(oldest.backupId).toBe(backups[0].backupId);
    expect(forOne).toMatchObject({ get: 1, listed: 2 });
    expect(latest.backupId).toBe(backups[3].backupId);
    expect({ get: calls.get - forOne.get, listed: calls.listed - forOne.listed }).toEqual({ get: 2, listed: 4 });
  });
});
