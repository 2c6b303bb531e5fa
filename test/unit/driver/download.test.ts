import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { downloadArtifacts } from '../../../core/driver/download';
import type { StoredArtifact } from '../../../core/driver/types';
import type { BlobStore, GetFileOptions } from '../../../core/store/blob-store';
import { LocalDirectoryStore } from '../../../core/store/local-directory-store';
import { TokenBucket } from '../../../core/store/rate-limiter';

let dir: string;
let store: LocalDirectoryStore;
let spool: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dbbackup-download-'));
  store = new LocalDirectoryStore(path.join(dir, 'store'));
  spool = path.join(dir, 'spool');
});
afterEach(() => rm(dir, { recursive: true, force: true }));

/** Stores `content` as artifact `name` and returns it as a manifest lists it. */
async function stored(name: string, content: Buffer | string): Promise<StoredArtifact> {
  const key = `b/data/default/${name}`;
  const { size, sha256 } = await store.put(key, content);
  return { name, key, size, sha256 };
}

/** `store`, recording the options of every getFile and how many ran at once. */
function watched(inner: BlobStore) {
  const calls: Array<{ key: string; options?: GetFileOptions }> = [];
  const running = { now: 0, most: 0 };
  const spy: BlobStore = Object.assign(Object.create(inner) as BlobStore, {
    async getFile(key: string, filePath: string, options?: GetFileOptions) {
      calls.push({ key, options });
      running.most = Math.max(running.most, ++running.now);
      try {
        return await inner.getFile(key, filePath, options);
      } finally {
        running.now -= 1;
      }
    },
  });
  return { spy, calls, running };
}

describe('downloadArtifacts', () => {
  it('downloads every artifact under its name, at most `concurrency` at once, reporting progress up to the total', async () => {
    // Prepare
    const artifacts = await Promise.all(['a.sql', 'x/b.gz', 'x/c.gz', 'd.gz', 'e.gz'].map((name) => stored(name, randomBytes(300_000))));
    const { spy, running } = watched(store);
    const reports: Array<[number, number]> = [];

    // Act
    const { files, bytes } = await downloadArtifacts(artifacts, spool, {
      store: spy, concurrency: 2, onProgress: (done, total) => reports.push([done, total]),
    });

    // Assess
    expect(Object.keys(files).sort()).toEqual(['a.sql', 'd.gz', 'e.gz', 'x/b.gz', 'x/c.gz']);
    expect(await readFile(files['x/b.gz'])).toEqual(await readFile(path.join(store.root, artifacts[1].key)));
    expect(bytes).toBe(1_500_000);
    expect(running.most).toBe(2);
    expect(reports.at(-1)).toEqual([1_500_000, 1_500_000]);
    expect(reports.every(([done], i) => i === 0 || done >= reports[i - 1][0])).toBe(true);
  });

  it('hands every concurrent download the same token bucket, at the node rate', async () => {
    // Prepare
    const artifacts = [await stored('big.gz', randomBytes(100_000)), await stored('small.gz', randomBytes(10_000))];
    const { spy, calls } = watched(store);

    // Act
    await downloadArtifacts(artifacts, spool, { store: spy, rateLimit: 5_000_000, concurrency: 2 });

    // Assess
    const buckets = calls.map((c) => c.options?.rateLimit);
    expect(buckets[0]).toBeInstanceOf(TokenBucket);
    expect(buckets[1]).toBe(buckets[0]);
    expect((buckets[0] as TokenBucket).rate).toBe(5_000_000);
  });

  it('keeps a file an earlier attempt left intact and fetches a damaged one again', async () => {
    // Prepare
    const intact = await stored('intact.gz', randomBytes(50_000));
    const damaged = await stored('damaged.gz', randomBytes(50_000));
    await mkdir(spool, { recursive: true });
    await writeFile(path.join(spool, 'intact.gz'), await readFile(path.join(store.root, intact.key)));
    const broken = await readFile(path.join(store.root, damaged.key));
    broken[100] ^= 0xff;
    await writeFile(path.join(spool, 'damaged.gz'), broken);
    const { spy, calls } = watched(store);
    const reports: number[] = [];

    // Act
    const { files } = await downloadArtifacts([intact, damaged], spool, { store: spy, concurrency: 2, onProgress: (done) => reports.push(done) });

    // Assess
    expect(calls.map((c) => c.key)).toEqual([damaged.key]);
    expect(await readFile(files['damaged.gz'])).toEqual(await readFile(path.join(store.root, damaged.key)));
    expect(reports.at(-1)).toBe(100_000);
  });

  it('fails with CHECKSUM_MISMATCH when the store holds something else than the manifest records, leaving no file', async () => {
    // Prepare
    const good = await stored('good.gz', 'as recorded');
    const bad = await stored('bad.gz', 'as recorded too');
    await store.put(bad.key, 'tampered with!!');

    // Act
    const downloading = downloadArtifacts([good, bad], spool, { store, concurrency: 2 });

    // Assess
    await expect(downloading).rejects.toMatchObject({ name: 'PermanentError', code: 'CHECKSUM_MISMATCH' });
    expect(await readdir(spool)).toEqual(['good.gz']);
  });

  it('in place: hands out a local directory store\'s own files, verified where they are, and copies nothing', async () => {
    // Prepare
    const artifacts = await Promise.all(['a.sql', 'x/b.gz', 'big.gz'].map((name, i) => stored(name, randomBytes(i === 2 ? 3_000_000 : 30_000))));
    const { spy, calls } = watched(store);
    const arrived: string[] = [];
    const reports: number[] = [];

    // Act
    const { files, bytes } = await downloadArtifacts(artifacts, spool, {
      store: spy, concurrency: 2, inPlace: true, onFile: (name) => arrived.push(name), onProgress: (done) => reports.push(done),
    });

    // Assess
    expect(files).toEqual(Object.fromEntries(artifacts.map((a) => [a.name, path.join(store.root, a.key)])));
    expect(calls).toEqual([]);
    expect(await readdir(spool).catch(() => [])).toEqual([]);
    expect(arrived.sort()).toEqual(['a.sql', 'big.gz', 'x/b.gz']);
    expect(bytes).toBe(3_060_000);
    expect(reports.at(-1)).toBe(3_060_000);
  });

  it('in place, but rate-limited: copies, as the limit could not hold back the caller\'s own reads of the store', async () => {
    // Prepare
    const artifact = await stored('limited.gz', randomBytes(20_000));
    const { spy, calls } = watched(store);

    // Act
    const { files } = await downloadArtifacts([artifact], spool, { store: spy, inPlace: true, rateLimit: 50_000_000 });

    // Assess
    expect(files['limited.gz']).toBe(path.join(spool, 'limited.gz'));
    expect(calls.map((c) => c.key)).toEqual([artifact.key]);
  });

  it('in place: fails with CHECKSUM_MISMATCH naming the object when its file no longer holds what the manifest records, small or big', async () => {
    for (const size of [1_000, 3_000_000]) {
      // Prepare
      const artifact = await stored(`changed-${size}.gz`, randomBytes(size));
      const changed = await readFile(path.join(store.root, artifact.key));
      changed[size - 1] ^= 0x01;
      await writeFile(path.join(store.root, artifact.key), changed);

      // Act
      const downloading = downloadArtifacts([artifact], spool, { store, inPlace: true });

      // Assess
      await expect(downloading).rejects.toMatchObject({ name: 'PermanentError', code: 'CHECKSUM_MISMATCH' });
      await expect(downloading).rejects.toThrow(artifact.key);
    }
  });
});

