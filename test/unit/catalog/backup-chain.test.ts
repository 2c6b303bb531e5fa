/**
 * Incremental chains in the catalog, against a real local directory store: resolving the backups an
 * incremental one rests on (core/catalog/backup-chain.ts), and retention keeping every backup a
 * kept one extends (core/catalog/prune.ts).
 */
import { MAX_CHAIN_LINKS, resolveChain, type CompleteEntry } from '../../../core/catalog/backup-chain';
import { Catalog, type CatalogEntry } from '../../../core/catalog/catalog';
import { manifestKey } from '../../../core/catalog/layout';
import { prune } from '../../../core/catalog/prune';
import type { LocalDirectoryStore } from '../../../core/store/local-directory-store';
import { writeJson } from '../../../core/store/json';
import { storeBackup as storeBackupIn, type StoredBackup, type StoredBackupOptions } from '../../fixtures/catalog/stored-backup';
import { makeTempStore, removeDir } from '../../fixtures/store/files';

const DAY = 86_400_000;
let root: string;
let store: LocalDirectoryStore;

beforeEach(async () => ({ root, store } = await makeTempStore('chain')));
afterEach(() => removeDir(root));

const storeBackup = (options: StoredBackupOptions): Promise<StoredBackup> => storeBackupIn(store, options);

/** A full backup `daysAgo` days ago and `incrementals` backups after it, each extending the one before, a day apart. */
async function chain(daysAgo: number, incrementals: number, now = Date.now()): Promise<StoredBackup[]> {
  const backups = [await storeBackup({ at: new Date(now - daysAgo * DAY) })];
  for (let i = 1; i <= incrementals; i += 1) {
    backups.push(await storeBackup({ at: new Date(now - (daysAgo - i) * DAY), extends: backups[i - 1].backupId }));
  }
  return backups;
}

async function entries(): Promise<CatalogEntry[]> {
  return new Catalog(store).list();
}

async function entryOf(backup: StoredBackup): Promise<CompleteEntry> {
  return (await new Catalog(store).get(backup.backupId)) as CompleteEntry;
}

/** resolveChain's answer, as a promise (its refusals as rejections). */
const resolving = (entry: CatalogEntry | undefined, listed: readonly CatalogEntry[]) => Promise.resolve().then(() => resolveChain(entry as CompleteEntry, listed));

describe('resolveChain', () => {
  it('gives the backups an incremental one rests on, the full backup first, and none for a full backup', async () => {
    // Prepare
    const [full, inc1, inc2] = await chain(3, 2);

    // Act
    const ofInc2 = resolveChain(await entryOf(inc2), await entries());
    const ofFull = resolveChain(await entryOf(full), await entries());

    // Assess
    expect(ofInc2.map((e) => e.backupId)).toEqual([full.backupId, inc1.backupId]);
    expect(ofFull).toEqual([]);
  });

  it('names the link that breaks the chain: a base deleted, one failed by validation, one extending a later backup', async () => {
    // Prepare
    const [full, inc1, inc2] = await chain(3, 2);
    const invalid = await storeBackup({ at: new Date(Date.now() - 10 * DAY), validationOk: false });
    const onInvalid = await storeBackup({ at: new Date(Date.now() - 9 * DAY), extends: invalid.backupId });
    const forward = await storeBackup({ at: new Date(Date.now() - 8 * DAY), extends: inc2.backupId });
    await store.delete([manifestKey(full.prefix)]);
    const listed = await entries();

    // Act
    const missing = resolving(listed.find((e) => e.backupId === inc2.backupId), listed);
    const unvalidated = resolving(listed.find((e) => e.backupId === onInvalid.backupId), listed);
    const later = resolving(listed.find((e) => e.backupId === forward.backupId), listed);

    // Assess
    await expect(missing).rejects.toMatchObject({
      code: 'CHAIN_BROKEN',
      message: `the chain of backup ${inc2.backupId} (etcd/main) is broken: ${inc1.backupId}, which it rests on, extends ${full.backupId}, which is not among the complete backups in the store (deleted, or never completed)`,
    });
    await expect(unvalidated).rejects.toMatchObject({ code: 'CHAIN_BROKEN', message: expect.stringMatching(new RegExp(`it extends ${invalid.backupId}, which did not pass validation$`)) });
    await expect(later).rejects.toMatchObject({ code: 'CHAIN_BROKEN', message: expect.stringContaining(`it extends ${inc2.backupId}, which is not older than it`) });
  });

  it('ends on a cycle edited manifests make, and refuses a chain longer than the limit', async () => {
    // Prepare: a manifest extending itself, two extending each other, and a long chain of entries (in memory: the limit is 1 000)
    const [self, older, newer] = await chain(3, 2);
    await writeJson(store, manifestKey(self.prefix), { ...self.manifest, extends: self.backupId });
    await writeJson(store, manifestKey(older.prefix), { ...older.manifest, extends: newer.backupId });
    const base = await entryOf(newer);
    const long: CompleteEntry[] = [{ ...base, manifest: { ...base.manifest, extends: undefined } }];
    for (let i = 1; i <= MAX_CHAIN_LINKS + 1; i += 1) {
      const id = `${base.backupId}-${String(i).padStart(5, '0')}`;
      long.push({ ...base, backupId: id, manifest: { ...base.manifest, backupId: id, extends: long[i - 1].backupId } });
    }
    const listed = await entries();

    // Act
    const itself = resolving(listed.find((e) => e.backupId === self.backupId), listed);
    const eachOther = resolving(listed.find((e) => e.backupId === newer.backupId), listed);
    const tooLong = resolving(long[MAX_CHAIN_LINKS + 1], long);
    const longest = resolveChain(long[MAX_CHAIN_LINKS], long);

    // Assess
    await expect(itself).rejects.toMatchObject({ code: 'CHAIN_BROKEN', message: expect.stringContaining(`it extends ${self.backupId}, which is not older than it`) });
    await expect(eachOther).rejects.toMatchObject({ code: 'CHAIN_BROKEN', message: expect.stringContaining(`${older.backupId}, which it rests on, extends ${newer.backupId}, which is not older than it`) });
    await expect(tooLong).rejects.toMatchObject({ code: 'CHAIN_TOO_LONG', message: expect.stringContaining(`rests on more than ${MAX_CHAIN_LINKS} backups`) });
    expect(longest).toHaveLength(MAX_CHAIN_LINKS);
  });
});

describe('prune of incremental chains', () => {
  it('with keepLast 1 keeps the whole chain under the newest incremental and deletes the older unrelated full backups', async () => {
    // Prepare
    const now = Date.now();
    const [oldFull] = await chain(20, 0, now);
    const [olderChainFull, olderChainInc] = await chain(15, 1, now);
    const [full, inc1, inc2] = await chain(3, 2, now);

    // Act
    const decisions = await prune(new Catalog(store), store, { keepLast: 1, apply: true, now: new Date(now) });
    const left = await entries();

    // Assess
    const reasons = Object.fromEntries(decisions.map((d) => [d.entry.backupId, `${d.action}: ${d.reason}`]));
    expect(reasons).toEqual({
      [inc2.backupId]: 'keep: newest complete backup that passed its validation',
      [inc1.backupId]: `keep: extended by ${inc2.backupId}, which is kept`,
      [full.backupId]: `keep: extended by ${inc1.backupId}, which is kept`,
      [olderChainInc.backupId]: 'delete: beyond the 1 newest',
      [olderChainFull.backupId]: 'delete: beyond the 1 newest',
      [oldFull.backupId]: 'delete: beyond the 1 newest',
    });
    expect(left.map((e) => e.backupId)).toEqual([inc2.backupId, inc1.backupId, full.backupId]);
  });

  it('keeps the base of an incremental kept by max age, and leaves rules that keep a base by themselves alone', async () => {
    // Prepare
    const now = Date.now();
    const [full, inc] = await chain(40, 1, now);
    const recent = await storeBackup({ at: new Date(now - DAY), extends: inc.backupId });

    // Act
    const decisions = await prune(new Catalog(store), store, { keepLast: 2, maxAgeMs: 10 * DAY, now: new Date(now) });

    // Assess
    const reasons = Object.fromEntries(decisions.map((d) => [d.entry.backupId, `${d.action}: ${d.reason}`]));
    expect(reasons).toEqual({
      [recent.backupId]: 'keep: newest complete backup that passed its validation',
      [inc.backupId]: 'keep: among the 2 newest',
      [full.backupId]: `keep: extended by ${inc.backupId}, which is kept`,
    });
  });
});
