/**
 * The pool sweep after a prune, against a real local directory store: what the remaining
 * manifests list is kept, unlisted objects older than the grace period are swept, younger ones
 * kept; instances never touch each other's pools (even `a` and `ab`); an unreadable manifest stops
 * its instance's sweep; a dry run deletes nothing.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm, utimes } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Catalog } from '../../../core/catalog/catalog';
import { manifestKey, poolKey } from '../../../core/catalog/layout';
import { sweepPools } from '../../../core/catalog/pool-sweep';
import { prune } from '../../../core/catalog/prune';
import { LocalDirectoryStore } from '../../../core/store/local-directory-store';
import { storeBackup } from '../../fixtures/catalog/stored-backup';

const DAY = 86_400_000;
let root: string;
let store: LocalDirectoryStore;
let catalog: Catalog;

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'dbbackup-pool-sweep-'));
  store = new LocalDirectoryStore(root);
  catalog = new Catalog(store);
});
afterEach(() => rm(root, { recursive: true, force: true }));

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Puts an object no manifest lists into `instance`'s pool, last modified `ageMs` ago; returns its key. */
async function orphan(instance: string, content: string, ageMs: number): Promise<string> {
  const key = poolKey('cassandra', instance, sha256(content));
  await store.put(key, content);
  const when = new Date(Date.now() - ageMs);
  await utimes(path.join(root, key), when, when);
  return key;
}

const exists = async (key: string) => (await store.head(key)) !== undefined;

describe('sweepPools', () => {
  it('keeps what a manifest lists and unlisted objects younger than the grace period; deletes unlisted old ones', async () => {
    // Prepare
    const backup = await storeBackup(store, { at: new Date(Date.now() - 5 * DAY), engine: 'cassandra', instance: 'a', pooled: ['listed'] });
    const listed = backup.manifest.artifacts[1].key;
    await utimes(path.join(root, listed), new Date(Date.now() - 5 * DAY), new Date(Date.now() - 5 * DAY));
    const old = await orphan('a', 'left by a failed backup', 3 * DAY);
    const young = await orphan('a', 'uploaded by a running backup', 3600_000);

    // Act
    const reports = await sweepPools(catalog, store, { engine: 'cassandra', instance: 'a', apply: true });

    // Assess
    expect(reports).toEqual([{
      engine: 'cassandra', instance: 'a', applied: true,
      kept: { objects: 1, bytes: 'listed'.length },
      swept: { objects: 1, bytes: 'left by a failed backup'.length },
      young: { objects: 1, bytes: 'uploaded by a running backup'.length },
    }]);
    expect([await exists(listed), await exists(old), await exists(young)]).toEqual([true, false, true]);
  });

  it('frees what the backups the prune removes listed, and a dry run says so but deletes nothing', async () => {
    // Prepare: two backups sharing one object; the older also lists one of its own
    const now = Date.now();
    const older = await storeBackup(store, { at: new Date(now - 4 * DAY), engine: 'cassandra', instance: 'a', pooled: ['shared', 'only old'] });
    await storeBackup(store, { at: new Date(now - DAY), engine: 'cassandra', instance: 'a', pooled: ['shared'] });
    const [shared, onlyOld] = older.manifest.artifacts.slice(1).map((a) => a.key);
    const later = new Date(now + 3 * DAY); // every object is older than the grace period then
    const policy = { engine: 'cassandra', instance: 'a', keepLast: 1, now: later };

    // Act
    const dryDecisions = await prune(catalog, store, policy);
    const dry = await sweepPools(catalog, store, { ...policy, pruned: dryDecisions });
    const afterDryRun = [await exists(shared), await exists(onlyOld)];
    const decisions = await prune(catalog, store, { ...policy, apply: true });
    const [applied] = await sweepPools(catalog, store, { ...policy, apply: true, pruned: decisions });

    // Assess
    expect(dry).toEqual([expect.objectContaining({ applied: false, kept: { objects: 1, bytes: 6 }, swept: { objects: 1, bytes: 8 } })]);
    expect(afterDryRun).toEqual([true, true]);
    expect(applied).toMatchObject({ applied: true, kept: { objects: 1 }, swept: { objects: 1 } });
    expect([await exists(shared), await exists(onlyOld)]).toEqual([true, false]);
  });

  it('sweeps instance a without touching instance ab, whose name a prefixes', async () => {
    // Prepare
    const mine = await orphan('a', 'orphan of a', 3 * DAY);
    const theirs = await orphan('ab', 'orphan of ab', 3 * DAY);
    await storeBackup(store, { at: new Date(), engine: 'cassandra', instance: 'ab', pooled: ['listed by ab'] });

    // Act
    const reports = await sweepPools(catalog, store, { engine: 'cassandra', instance: 'a', apply: true });

    // Assess
    expect(reports.map((r) => [r.instance, r.swept.objects])).toEqual([['a', 1]]);
    expect([await exists(mine), await exists(theirs)]).toEqual([false, true]);
  });

  it('sweeps every pool in scope, each by its own manifests, including one whose backups are all gone', async () => {
    // Prepare
    const a = await orphan('a', 'orphan of a', 3 * DAY);
    const ab = await orphan('ab', 'orphan of ab', 3 * DAY);
    const listedByAb = (await storeBackup(store, { at: new Date(), engine: 'cassandra', instance: 'ab', pooled: ['orphan of a'] })).manifest.artifacts[1].key;

    // Act
    const reports = await sweepPools(catalog, store, { apply: true });

    // Assess
    expect(reports.map((r) => [`${r.engine}/${r.instance}`, r.kept.objects, r.swept.objects])).toEqual([['cassandra/a', 0, 1], ['cassandra/ab', 1, 1]]);
    expect([await exists(a), await exists(ab), await exists(listedByAb)]).toEqual([false, false, true]);
  });

  it('does not sweep a pool whose instance has a manifest it cannot read, and says why', async () => {
    // Prepare
    const damaged = await storeBackup(store, { at: new Date(), engine: 'cassandra', instance: 'a', pooled: ['listed'] });
    await store.put(manifestKey(damaged.prefix), '{"formatVersion": 1, "arti');
    const old = await orphan('a', 'perhaps listed by the damaged manifest', 3 * DAY);
    const elsewhere = await orphan('b', 'orphan of b', 3 * DAY);

    // Act
    const reports = await sweepPools(catalog, store, { engine: 'cassandra', apply: true });

    // Assess
    expect(reports[0]).toMatchObject({
      instance: 'a', kept: { objects: 2 }, swept: { objects: 0 },
      skipped: expect.stringMatching(new RegExp(`^the manifest of backup ${damaged.backupId} cannot be read \\(INVALID_JSON\\)`)),
    });
    expect(reports[1]).toMatchObject({ instance: 'b', swept: { objects: 1 } });
    expect([await exists(old), await exists(elsewhere)]).toEqual([true, false]);
  });

  it('keeps an object a backup that completed during the sweep lists (the manifests are read again before deleting)', async () => {
    // Prepare: the store's listing of the pool is the moment a backup completes, listing an old orphan
    const reused = 'an orphan a running backup reused';
    const key = await orphan('a', reused, 3 * DAY);
    const racing = Object.assign(Object.create(store) as LocalDirectoryStore, {
      async *list(prefix: string) {
        yield* store.list(prefix);
        if (prefix.startsWith('pool/')) await storeBackup(store, { at: new Date(), engine: 'cassandra', instance: 'a', pooled: [reused] });
      },
    });

    // Act
    const [report] = await sweepPools(new Catalog(racing), racing, { engine: 'cassandra', instance: 'a', apply: true });

    // Assess
    expect(report).toMatchObject({ kept: { objects: 1 }, swept: { objects: 0 } });
    expect(await exists(key)).toBe(true);
  });
});
