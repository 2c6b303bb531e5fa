/**
 * Encrypted and compressed backups end to end (core/crypto/encoding-settings.ts), through the state
 * machines run in process and a real etcd (the driver kit's source and targets): data keys from KMS
 * (the KMS stand-in, through the real @aws-sdk/client-kms) — the backing-up side only ever asks for
 * `GenerateDataKey`, the restore only for `Decrypt`, a rotated key still restores, a role without
 * `kms:Decrypt` fails naming it before the target is touched — from a passphrase (a wrong one
 * refused), and compression alone (no key needed, fewer bytes stored); `rekey` moves a backup's data
 * keys to another KMS key, or from a passphrase to a key, without touching its data.
 */
import { randomBytes } from 'node:crypto';
import { buffer } from 'node:stream/consumers';
import { rekeyBackup, rewrapTo } from '../../../core/catalog/rekey';
import { contentDigest, manifestDigest } from '../../../core/catalog/manifest';
import { manifestKey, verificationKey } from '../../../core/catalog/layout';
import { writeJson } from '../../../core/store/json';
import { deletePrefix } from '../../../core/store/blob-store';
import { kits } from '../../../drivers/etcd/kit';
import type { KitSource, KitTarget } from '../../contract/driver-kit';
import { ExecutionFailedError } from '../../../statemachines/local/run-local';
import { verifyBackup } from '../../../core/catalog/verification';
import { isVerified } from '../../../core/catalog/catalog';
import { createTestRuntime, type TestRuntime } from '../../harness/runtime';
import { startKmsStandin, type KmsStandin } from '../../harness/kms-standin';

const kit = kits[0];
const PASSPHRASE_ENV = 'TEST_BACKUP_PASSPHRASE';

let source: KitSource;
let kms: KmsStandin;
let keyArn: string;
let rt: TestRuntime;
const targets: KitTarget[] = [];

beforeAll(async () => {
  kms = await startKmsStandin();
  keyArn = kms.createKey({ alias: 'dbbackup' });
  source = await kit.startSource();
  const { endpoint, region, credentials } = kms.clientConfig;
  rt = await createTestRuntime({
    env: {
      ...source.env,
      [PASSPHRASE_ENV]: 'correct horse battery staple',
      WRONG_PASSPHRASE: 'incorrect horse battery staple',
      NEW_KEY: randomBytes(32).toString('base64'),
      AWS_ENDPOINT_URL_KMS: endpoint,
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    },
  });
}, 120_000);

afterAll(async () => {
  for (const target of targets) await target.stop().catch(() => undefined);
  await source?.stop();
  await rt?.dispose();
  await kms?.close();
}, 120_000);

async function scratch(): Promise<KitTarget> {
  const made = await kit.scratchTarget();
  targets.push(made);
  return made;
}

const backup = (instance: string, encoding: Record<string, unknown>) => rt.backup({ engine: 'etcd', instance, config: source.config, ...encoding });
const failure = (promise: Promise<unknown>) => promise.then(
  () => { throw new Error('expected the execution to fail, but it succeeded'); },
  (error: unknown) => {
    if (!(error instanceof ExecutionFailedError)) throw error;
    return error;
  },
);
const operations = () => kms.calls.map((call) => `${call.operation}${call.error ? ` (${call.error})` : ''}`);

it('encrypts with a KMS data key: the backup only generates keys, the restore only decrypts them, a rotated key still restores', async () => {
  // Prepare
  const before = await source.read();
  const target = await scratch();

  // Act
  kms.calls.length = 0;
  const { backupId } = await backup('kms', { encryption: { kms: 'alias/dbbackup' }, compression: { level: 3 } });
  const backingUp = operations();
  kms.rotate(keyArn);
  kms.calls.length = 0;
  const report = await rt.restore({ backupId, target: target.target });
  const restoring = operations();

  // Assess
  const { manifest, prefix } = await rt.catalog.get(backupId);
  expect(backingUp).toEqual(['GenerateDataKey']);
  expect(restoring.length).toBeGreaterThan(0);
  expect(restoring.filter((operation) => operation !== 'Decrypt')).toEqual([]); // one per step that opens it
  expect(manifest.artifacts.map((a) => a.stored?.dataKey)).toEqual(manifest.artifacts.map(() => expect.objectContaining({
    provider: 'kms', keyId: keyArn, context: { engine: 'etcd', instance: 'kms', backup: backupId },
  })));
  expect(kms.calls[0].input).toMatchObject({ EncryptionContext: { engine: 'etcd', instance: 'kms', backup: backupId } });
  expect((await verifyBackup(rt.store, prefix, manifest)).ok).toBe(true);
  expect(report.validation.ok).toBe(true);
  expect(await target.read()).toEqual(before);
}, 300_000);

it('fails a restore whose role may not decrypt the key, naming the permission, before the target is touched', async () => {
  // Prepare
  const { backupId } = await backup('kms-denied', { encryption: { kms: keyArn } });
  const target = await scratch();
  kms.allow(keyArn, ['GenerateDataKey']);

  // Act
  const error = await failure(rt.execute('restore', { backupId, target: target.target })).finally(() => kms.allow(keyArn, ['GenerateDataKey', 'Decrypt', 'ReEncryptFrom', 'ReEncryptTo']));

  // Assess
  expect(error.causeText).toMatch(/^KEY_UNAVAILABLE: KMS Decrypt .*access denied — the role needs kms:Decrypt on the key.* — target untouched: the restore failed before it began writing to the target$/);
  expect(error.execution.path).not.toContain('Apply');
}, 300_000);

it('encrypts with a passphrase: the right one restores, a wrong one is refused', async () => {
  // Prepare
  const before = await source.read();
  const { backupId } = await backup('passphrase', { encryption: { passphrase: { $secret: `env:${PASSPHRASE_ENV}` } } });
  const [good, wrong] = [await scratch(), await scratch()];

  // Act
  const refused = await failure(rt.execute('restore', { backupId, target: wrong.target, keys: { passphrase: { $secret: 'env:WRONG_PASSPHRASE' } } }));
  const report = await rt.restore({ backupId, target: good.target, keys: { passphrase: { $secret: `env:${PASSPHRASE_ENV}` } } });

  // Assess
  expect(refused.causeText).toMatch(/^KEY_MISMATCH: the data key does not unwrap with this passphrase/);
  expect(report.validation.ok).toBe(true);
  expect(await good.read()).toEqual(before);
}, 300_000);

it('records an encrypted backup CORRUPT when a restore finds a stored byte changed, as verify would: restore latest passes over it', async () => {
  // Prepare: an older intact backup, and a newer one with one stored byte flipped (its size unchanged)
  const keys = { key: { $secret: 'env:NEW_KEY' } };
  const intact = await backup('sealed-damage', { encryption: keys });
  const damaged = await rt.catalog.get((await backup('sealed-damage', { encryption: keys })).backupId);
  const [artifact] = damaged.manifest.artifacts;
  const stored = await buffer(await rt.store.get(artifact.key));
  stored[Math.floor(stored.length / 2)] ^= 0xff;
  await rt.store.put(artifact.key, stored);
  const target = await scratch();

  // Act
  const refused = await failure(rt.execute('restore', { backupId: damaged.backupId, target: target.target, keys }));

  // Assess
  expect(refused.causeText).toMatch(new RegExp(`backup ${damaged.backupId} is damaged \\(${artifact.name}\\): recorded CORRUPT, so \`restore latest\` passes over it`));
  expect((await rt.catalog.find(damaged.backupId)).verification).toMatchObject({ ok: false, artifacts: [{ name: artifact.name, ok: false, damaged: true }] });
  expect((await rt.catalog.get('latest', { engine: 'etcd', instance: 'sealed-damage' })).backupId).toBe(intact.backupId);
}, 300_000);

it('compresses alone: fewer bytes stored, restored without any key', async () => {
  // Prepare
  const before = await source.read();
  const target = await scratch();

  // Act
  const { backupId } = await backup('compressed', { compression: { level: 3 } });
  const report = await rt.restore({ backupId, target: target.target });

  // Assess
  const { manifest } = await rt.catalog.get(backupId);
  const [artifact] = manifest.artifacts;
  const stored = await buffer(await rt.store.get(artifact.key));
  expect(artifact.stored).toEqual({ size: stored.length, sha256: expect.stringMatching(/^[0-9a-f]{64}$/), compression: 'zstd' });
  expect(stored.length).toBeLessThan(artifact.size / 2);
  expect(stored.subarray(0, 4)).toEqual(Buffer.from([0x28, 0xb5, 0x2f, 0xfd])); // a zstd frame
  expect(report.validation.ok).toBe(true);
  expect(await target.read()).toEqual(before);
}, 300_000);

it('verifies a compressed backup down to its plain bytes without a key: a damaged plain sha256 in the manifest, or a flipped stored byte, fails it', async () => {
  // Prepare
  const { backupId } = await backup('compressed-verified', { compression: { level: 3 } });
  const entry = await rt.catalog.get(backupId);
  const [artifact] = entry.manifest.artifacts;
  const stored = await buffer(await rt.store.get(artifact.key));
  const editedSha = `${artifact.sha256.slice(0, -1)}${artifact.sha256.endsWith('0') ? '1' : '0'}`;
  const edited = { ...entry.manifest, artifacts: entry.manifest.artifacts.map((a, i) => (i === 0 ? { ...a, sha256: editedSha } : a)) };
  const flipped = Buffer.from(stored);
  flipped[Math.floor(flipped.length / 2)] ^= 0xff;

  // Act
  const good = await verifyBackup(rt.store, entry.prefix, entry.manifest);
  const editedVerdict = await verifyBackup(rt.store, entry.prefix, edited);
  await rt.store.put(artifact.key, flipped);
  const flippedVerdict = await verifyBackup(rt.store, entry.prefix, entry.manifest);
  await rt.store.put(artifact.key, stored);

  // Assess
  expect(good.ok).toBe(true);
  expect(editedVerdict.artifacts[0]).toEqual({ name: artifact.name, ok: false, detail: `expected ${artifact.size} bytes sha256 ${editedSha} decompressed, found ${artifact.size} bytes sha256 ${artifact.sha256}`, damaged: true });
  expect(flippedVerdict).toMatchObject({ ok: false, artifacts: [{ name: artifact.name, ok: false, detail: expect.stringMatching(/^its stored bytes do not decompress \(|does not match its checksum/) }] });
}, 300_000);

it('rekeys a backup to another KMS key without rewriting its data: restored with the new key once the old one is disabled, still verified', async () => {
  // Prepare
  const before = await source.read();
  const oldKey = kms.createKey();
  const newKey = kms.createKey();
  const { backupId } = await backup('rekeyed', { encryption: { kms: oldKey } });
  const entry = await rt.catalog.get(backupId);
  expect((await verifyBackup(rt.store, entry.prefix, entry.manifest)).ok).toBe(true);
  const storedBefore = entry.manifest.artifacts.map((a) => a.stored);
  const target = await scratch();

  // Act
  const result = await rekeyBackup(rt.store, entry.prefix, entry.manifest, rewrapTo({ kms: newKey }, undefined, rt.deps));
  kms.disable(oldKey);
  const report = await rt.restore({ backupId, target: target.target });

  // Assess
  const after = await rt.catalog.get(backupId);
  expect(result).toEqual({ backupId, keys: 1, artifacts: entry.manifest.artifacts.length, alreadyWrapped: 0 });
  expect(after.manifest.artifacts.map((a) => a.stored?.dataKey?.keyId)).toEqual(entry.manifest.artifacts.map(() => newKey));
  expect(after.manifest.artifacts.map((a) => ({ ...a.stored, dataKey: undefined }))).toEqual(storedBefore.map((s) => ({ ...s, dataKey: undefined })));
  expect(after.verification).toMatchObject({ ok: true, manifestSha256: contentDigest(after.manifest) });
  expect(report.validation.ok).toBe(true);
  expect(await target.read()).toEqual(before);
}, 300_000);

it('rekeys a passphrase backup to a key: the old passphrase no longer opens it, the key does', async () => {
  // Prepare
  const before = await source.read();
  const { backupId } = await backup('rekeyed-local', { encryption: { passphrase: { $secret: `env:${PASSPHRASE_ENV}` } } });
  const entry = await rt.catalog.get(backupId);
  const [refused, restored] = [await scratch(), await scratch()];
  const newKey = { $secret: `env:NEW_KEY` };

  // Act
  await rekeyBackup(rt.store, entry.prefix, entry.manifest, rewrapTo({ key: newKey }, { passphrase: { $secret: `env:${PASSPHRASE_ENV}` } }, rt.deps));
  const oldPassphrase = await failure(rt.execute('restore', { backupId, target: refused.target, keys: { passphrase: { $secret: `env:${PASSPHRASE_ENV}` } } }));
  const report = await rt.restore({ backupId, target: restored.target, keys: { key: newKey } });

  // Assess
  expect(oldPassphrase.causeText).toMatch(/^KEY_UNAVAILABLE: .*wrapped by a key .* and no key was given to open it .*: a passphrase was given, which does not open it/);
  expect(report.validation.ok).toBe(true);
  expect(await restored.read()).toEqual(before);
}, 300_000);

it('rekeys key-file backups to a passphrase keeping their verdicts: a verified one stays verified, a corrupt one corrupt', async () => {
  // Prepare: two backups with a key, one verified, one verified corrupt (a byte cut off an artifact, then put back)
  const keys = { key: { $secret: `env:NEW_KEY` } };
  const [good, bad] = [await backup('rekeyed-verdicts', { encryption: keys }), await backup('rekeyed-verdicts', { encryption: keys })];
  const goodEntry = await rt.catalog.get(good.backupId);
  await verifyBackup(rt.store, goodEntry.prefix, goodEntry.manifest);
  const badEntry = await rt.catalog.get(bad.backupId);
  const artifact = badEntry.manifest.artifacts[0];
  const bytes = await buffer(await rt.store.get(artifact.key));
  await rt.store.put(artifact.key, bytes.subarray(0, bytes.length - 1));
  await verifyBackup(rt.store, badEntry.prefix, badEntry.manifest);
  await rt.store.put(artifact.key, bytes);

  // Act
  for (const entry of [goodEntry, badEntry]) {
    await rekeyBackup(rt.store, entry.prefix, entry.manifest, rewrapTo({ passphrase: { $secret: `env:${PASSPHRASE_ENV}` } }, keys, rt.deps));
  }

  // Assess
  const [goodAfter, badAfter] = [await rt.catalog.get(good.backupId), await rt.catalog.get(bad.backupId)];
  expect(goodAfter.manifest.artifacts[0].stored?.dataKey?.provider).toBe('passphrase');
  expect(goodAfter.verification).toMatchObject({ ok: true, manifestSha256: contentDigest(goodAfter.manifest) });
  expect(badAfter.verification).toMatchObject({ ok: false, manifestSha256: contentDigest(badAfter.manifest) });
}, 300_000);

it('never parts a backup from its verdict, wherever a rekey stops: a corrupt one stays corrupt (a record an older version bound to the whole manifest too)', async () => {
  // Prepare: a backup verified corrupt, its record bound to the whole manifest as an older version wrote it
  const keys = { key: { $secret: `env:NEW_KEY` } };
  const { backupId } = await backup('rekey-stopped', { encryption: keys });
  const entry = await rt.catalog.get(backupId);
  const artifact = entry.manifest.artifacts[0];
  const bytes = await buffer(await rt.store.get(artifact.key));
  await rt.store.put(artifact.key, bytes.subarray(0, bytes.length - 1));
  const verdict = await verifyBackup(rt.store, entry.prefix, entry.manifest);
  await rt.store.put(artifact.key, bytes);
  const asBefore = async () => {
    await writeJson(rt.store, manifestKey(entry.prefix), entry.manifest);
    await writeJson(rt.store, verificationKey(entry.prefix), { ...verdict, manifestSha256: manifestDigest(entry.manifest) });
  };
  const toPassphrase = rewrapTo({ passphrase: { $secret: `env:${PASSPHRASE_ENV}` } }, keys, rt.deps);
  /** The store of a process killed (-9) as it makes its `stopAt`-th write. */
  const dyingAt = (stopAt: number) => {
    let writes = 0;
    return new Proxy(rt.store, {
      get(store, name) {
        if (name === 'put') return (...args: unknown[]) => (++writes === stopAt ? Promise.reject(new Error('killed')) : (store.put as (...a: unknown[]) => unknown)(...args));
        const value = (store as unknown as Record<string | symbol, unknown>)[name];
        return typeof value === 'function' ? value.bind(store) : value;
      },
    });
  };

  // Act: the rekey stopped at its first write, at its second, ..., until one stops nowhere
  const verdicts: Array<[string, boolean]> = [];
  for (let stopAt = 1; ; stopAt += 1) {
    await asBefore();
    const stopped = await rekeyBackup(dyingAt(stopAt), entry.prefix, entry.manifest, toPassphrase).then(() => false, () => true);
    const after = await rt.catalog.get(backupId);
    verdicts.push([`stopped at write ${stopped ? stopAt : 'none'}`, after.verification?.ok ?? true]);
    if (!stopped) break;
    await rekeyBackup(rt.store, entry.prefix, after.manifest, toPassphrase); // the rekey run again
    verdicts.push([`run again after write ${stopAt}`, (await rt.catalog.get(backupId)).verification?.ok ?? true]);
  }

  // Assess: corrupt every time (never the newest verified backup prune keeps, nor what restore latest picks)
  expect(verdicts.length).toBeGreaterThanOrEqual(3);
  expect(verdicts.filter(([, ok]) => ok)).toEqual([]);
  const final = await rt.catalog.get(backupId);
  expect(final.manifest.artifacts[0].stored?.dataKey?.provider).toBe('passphrase');
  expect([isVerified(final), final.verification?.manifestSha256]).toEqual([false, contentDigest(final.manifest)]);
}, 300_000);

it('never leaves a backup pruned while its records were rebound: neither its manifest nor those records are written back', async () => {
  // Prepare: a verified backup whose record is bound to the whole manifest (an older version's), pruned as the rekey rebinds it
  const keys = { key: { $secret: `env:NEW_KEY` } };
  const { backupId } = await backup('rekey-pruned-late', { encryption: keys });
  const entry = await rt.catalog.get(backupId);
  const verdict = await verifyBackup(rt.store, entry.prefix, entry.manifest);
  await writeJson(rt.store, verificationKey(entry.prefix), { ...verdict, manifestSha256: manifestDigest(entry.manifest) });
  const toPassphrase = rewrapTo({ passphrase: { $secret: `env:${PASSPHRASE_ENV}` } }, keys, rt.deps);
  const prunedAsRebound = new Proxy(rt.store, {
    get(store, name) {
      if (name === 'put') {
        return async (key: string, ...rest: unknown[]) => {
          if (key === verificationKey(entry.prefix)) { // prune, just before the record lands: the manifest first, then the rest
            await store.delete([manifestKey(entry.prefix)]);
            await deletePrefix(store, `${entry.prefix}/`);
          }
          return (store.put as (...a: unknown[]) => Promise<unknown>)(key, ...rest);
        };
      }
      const value = (store as unknown as Record<string | symbol, unknown>)[name];
      return typeof value === 'function' ? value.bind(store) : value;
    },
  });

  // Act
  const result = await rekeyBackup(prunedAsRebound, entry.prefix, entry.manifest, toPassphrase);

  // Assess
  expect(result).toMatchObject({ backupId, gone: true });
  expect(await rt.store.head(manifestKey(entry.prefix))).toBeUndefined();
  expect(await rt.store.head(verificationKey(entry.prefix))).toBeUndefined();
  expect((await rt.catalog.list({ engine: 'etcd', instance: 'rekey-pruned-late', includeIncomplete: true })).map((e) => e.backupId)).toEqual([]);
}, 120_000);

it('fails verify of a backup whose artifact and data key were copied from another backup, without any key: no key would open it there', async () => {
  // Prepare: backup one's artifact replaced by backup two's, bytes and stored form (its data key bound to backup two)
  const keys = { key: { $secret: `env:NEW_KEY` } };
  const one = await rt.catalog.get((await backup('key-copied', { encryption: keys })).backupId);
  const two = await rt.catalog.get((await backup('key-copied', { encryption: keys })).backupId);
  const [own] = one.manifest.artifacts;
  const [theirs] = two.manifest.artifacts;
  await rt.store.put(own.key, await buffer(await rt.store.get(theirs.key)));
  const edited = { ...one.manifest, artifacts: [{ ...own, size: theirs.size, sha256: theirs.sha256, stored: theirs.stored }] };
  await writeJson(rt.store, manifestKey(one.prefix), edited);

  // Act
  const verdict = await verifyBackup(rt.store, one.prefix, edited);

  // Assess
  expect(verdict.ok).toBe(false);
  expect(verdict.artifacts).toEqual([{ name: own.name, ok: false, detail: expect.stringMatching(new RegExp(`is sealed with a data key bound to .*"backup":"${two.backupId}".*: not this backup's nor its pool's`)), damaged: true }]);
}, 120_000);

it('never brings back a backup pruned while its keys were rewrapped: nothing is written for it, and it stays gone', async () => {
  // Prepare: a rewrap that is slow enough for a prune to delete the backup meanwhile (a passphrase's scrypt takes seconds)
  const keys = { key: { $secret: `env:NEW_KEY` } };
  const { backupId } = await backup('rekey-pruned', { encryption: keys });
  const entry = await rt.catalog.get(backupId);
  const toPassphrase = rewrapTo({ passphrase: { $secret: `env:${PASSPHRASE_ENV}` } }, keys, rt.deps);
  const prunedMeanwhile: typeof toPassphrase = async (key) => {
    const rewrapped = await toPassphrase(key);
    await rt.store.delete([manifestKey(entry.prefix)]); // prune deletes the manifest first, then the rest
    await deletePrefix(rt.store, `${entry.prefix}/`);
    return rewrapped;
  };

  // Act
  const result = await rekeyBackup(rt.store, entry.prefix, entry.manifest, prunedMeanwhile);

  // Assess
  expect(result).toMatchObject({ backupId, keys: 0, gone: true });
  expect(await rt.store.head(manifestKey(entry.prefix))).toBeUndefined();
  expect((await rt.catalog.list({ engine: 'etcd', instance: 'rekey-pruned', includeIncomplete: true })).map((e) => e.backupId)).toEqual([]);
}, 120_000);

it('drills an encrypted backup with its key; a drill without it fails naming the key and leaves the good verdict', async () => {
  // Prepare
  const { backupId } = await backup('drilled', { encryption: { passphrase: { $secret: `env:${PASSPHRASE_ENV}` } } });
  const drill = (keys?: Record<string, unknown>) => rt.drill({ backupId, engine: 'etcd', instance: 'drilled', ...(keys ? { keys } : {}) });

  // Act
  const good = await drill({ passphrase: { $secret: `env:${PASSPHRASE_ENV}` } });
  const keyless = await drill().then(() => 'drilled', (error: Error) => error.message);
  const after = await rt.catalog.get(backupId);

  // Assess
  expect(good).toMatchObject({ backupId, ok: true });
  expect(keyless).toMatch(/no passphrase was given to open it \(--passphrase <ref>/);
  expect(after.drill).toMatchObject({ ok: true, drilledAt: good.drilledAt });
}, 300_000);
