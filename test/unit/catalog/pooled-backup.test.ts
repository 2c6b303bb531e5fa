/**
 * A backup whose artifacts live partly in its instance's pool, in a real local directory store:
 * its manifest is complete, `verify` and a restore's download read the pool objects, and a
 * manifest listing anything outside its backup and its own instance's pool is still damage.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Catalog } from '../../../core/catalog/catalog';
import { manifestKey, poolKey } from '../../../core/catalog/layout';
import { verifyBackup } from '../../../core/catalog/verification';
import { downloadArtifacts } from '../../../core/driver/download';
import { LocalDirectoryStore } from '../../../core/store/local-directory-store';
import { storeBackup } from '../../fixtures/catalog/stored-backup';

let root: string;
let store: LocalDirectoryStore;

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'dbbackup-pooled-'));
  store = new LocalDirectoryStore(path.join(root, 'store'));
});
afterEach(() => rm(root, { recursive: true, force: true }));

describe('a backup with pooled artifacts', () => {
  it('is complete, verifies and downloads from the pool', async () => {
    // Prepare
    const backup = await storeBackup(store, { at: new Date(), engine: 'cassandra', instance: 'a', pooled: ['component one', 'component two'] });
    const pooled = backup.manifest.artifacts.filter((a) => a.key.startsWith('pool/'));

    // Act
    const [entry] = await new Catalog(store).list();
    const verified = await verifyBackup(store, backup.prefix, backup.manifest);
    const downloaded = await downloadArtifacts(backup.manifest.artifacts, path.join(root, 'restore'), { store });

    // Assess
    expect(pooled.map((a) => a.key)).toEqual([poolKey('cassandra', 'a', pooled[0].sha256), poolKey('cassandra', 'a', pooled[1].sha256)]);
    expect(entry).toMatchObject({ backupId: backup.backupId, status: 'complete' });
    expect(verified.ok).toBe(true);
    expect(await readFile(downloaded.files['pooled-1'], 'utf8')).toBe('component two');
  });

  it('fails verify when a pool object it lists was damaged', async () => {
    // Prepare
    const backup = await storeBackup(store, { at: new Date(), engine: 'cassandra', instance: 'a', pooled: ['component'] });
    await writeFile(path.join(store.root, backup.manifest.artifacts[1].key), 'tampered');

    // Act
    const verified = await verifyBackup(store, backup.prefix, backup.manifest);

    // Assess
    expect(verified.artifacts).toEqual([{ name: 'snapshot.db', ok: true }, expect.objectContaining({ name: 'pooled-0', ok: false })]);
  });

  it.each([
    ['another instance\'s pool (a prefix of the same name)', (sha: string) => poolKey('cassandra', 'ab', sha), /lies outside the backup and its instance's pool/],
    ['another engine\'s pool', (sha: string) => poolKey('mysql', 'a', sha), /lies outside the backup and its instance's pool/],
    ['its pool under another sha256', () => poolKey('cassandra', 'a', 'f'.repeat(64)), /records sha256 [0-9a-f]{64}, but names the pool object of sha256 f{64}/],
    ['a folder of its pool', (sha: string) => `${poolKey('cassandra', 'a', sha)}/x`, /lies outside the backup and its instance's pool/],
  ])('is damaged when an artifact lies in %s', async (_what, keyOf, reason) => {
    // Prepare
    const backup = await storeBackup(store, { at: new Date(), engine: 'cassandra', instance: 'a', pooled: ['component'] });
    const [own, pooled] = backup.manifest.artifacts;
    const moved = { ...backup.manifest, artifacts: [own, { ...pooled, key: keyOf(pooled.sha256) }] };
    await store.put(manifestKey(backup.prefix), JSON.stringify(moved));

    // Act
    const [entry] = await new Catalog(store).list({ includeIncomplete: true });

    // Assess
    expect(entry).toMatchObject({ status: 'damaged', damage: { code: 'INVALID_MANIFEST', reason: expect.stringMatching(new RegExp(`its artifact pooled-0 ${reason.source}`)) } });
  });

  it.each([
    ['a name climbing out of the spool', { name: '../../../../tmp/evil.tsv.zst' }, /artifacts\[0\]\.name: "\.\.\/\.\.\/\.\.\/\.\.\/tmp\/evil\.tsv\.zst" is not a safe relative path: it has a '\.\.' segment/],
    ['an absolute name', { name: '/tmp/evil.tsv.zst' }, /artifacts\[0\]\.name: "\/tmp\/evil\.tsv\.zst" is not a safe relative path: it is an absolute path/],
    ['a key climbing into another backup', { key: 'BACKUP/../../other/20260101T000000Z-aaaaaaaa/snapshot.db' }, /artifacts\[0\]\.key: .* is not a safe relative path: it has a '\.\.' segment/],
    ['a stored form neither compressed nor sealed (a sealed one\'s data key lost)', { stored: { size: 1, sha256: 'a'.repeat(64) } }, /artifacts\[0\]\.stored: a stored form is compressed, sealed or both: this one records neither/],
  ])('is damaged when an artifact has %s, before anything reads it', async (_what, edit, reason) => {
    // Prepare
    const backup = await storeBackup(store, { at: new Date() });
    const [own] = backup.manifest.artifacts;
    const { key } = edit as { key?: string };
    const edited = { ...own, ...edit, ...(key ? { key: key.replace('BACKUP', backup.prefix) } : {}) };
    await store.put(manifestKey(backup.prefix), JSON.stringify({ ...backup.manifest, artifacts: [edited] }));

    // Act
    const [entry] = await new Catalog(store).list({ includeIncomplete: true });

    // Assess
    expect(entry).toMatchObject({ status: 'damaged', damage: { code: 'INVALID_MANIFEST', reason: expect.stringMatching(reason) } });
  });
});
