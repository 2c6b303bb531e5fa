/**
 * A pool's key records through a rekey (core/catalog/rekey.ts): rewrapped for the new key, and the
 * records the old key opens removed once every backup is under the new one, so the retired key
 * opens nothing in the store.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { rekeyPool, retireOldPoolKeys, rewrapTo } from '../../../core/catalog/rekey';
import { poolEncoding, poolKeyRecord } from '../../../core/crypto/pool-key';
import { LocalDirectoryStore } from '../../../core/store/local-directory-store';

let dir: string;
let store: LocalDirectoryStore;
const services = { resolveSecrets: async (value: unknown) => ((value as { $secret?: string }).$secret?.startsWith('file:') ? readFile((value as { $secret: string }).$secret.slice(5), 'utf8') : value) };
const PREFIX = 'pool/cassandra/main';
const CONTEXT = { engine: 'cassandra', instance: 'main', use: 'pool' };

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dbbackup-rekey-pool-'));
  store = new LocalDirectoryStore(path.join(dir, 'store'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

async function keyFile(name: string): Promise<{ key: { $secret: string } }> {
  const file = path.join(dir, name);
  await writeFile(file, randomBytes(32).toString('base64'));
  return { key: { $secret: `file:${file}` } };
}

const records = async () => {
  const keys: string[] = [];
  for await (const object of store.list(`${PREFIX}/pool-key-`)) keys.push(object.key);
  return keys.sort();
};

it('rewraps the pool key for the new key, then removes the record the old key opened: the new key opens the same pool key, the old one none', async () => {
  // Prepare: a pool keyed under the old key, and a record of another key the old one does not open
  const [oldKey, newKey, otherKey] = [await keyFile('old.key'), await keyFile('new.key'), await keyFile('other.key')];
  const pooled = await poolEncoding({ encryption: oldKey }, store, PREFIX, CONTEXT, services);
  await poolEncoding({ encryption: otherKey }, store, PREFIX, CONTEXT, services);

  // Act
  const written = await rekeyPool(store, 'cassandra', 'main', newKey, rewrapTo(newKey, oldKey, services));
  const kept = await retireOldPoolKeys(store, 'cassandra', 'main', newKey, oldKey, services);
  const again = await retireOldPoolKeys(store, 'cassandra', 'main', newKey, oldKey, services);

  // Assess
  expect([written, kept, again]).toEqual([1, 1, 0]);
  expect(await records()).toEqual([poolKeyRecord(PREFIX, newKey), poolKeyRecord(PREFIX, otherKey)].sort());
  const underNew = await poolEncoding({ encryption: newKey }, store, PREFIX, CONTEXT, services);
  expect(underNew!.key!.dataKey.equals(pooled!.key!.dataKey)).toBe(true);
});

it('removes nothing while the new key has no record to open the pool key with', async () => {
  const [oldKey, newKey] = [await keyFile('old.key'), await keyFile('new.key')];
  await poolEncoding({ encryption: oldKey }, store, PREFIX, CONTEXT, services);

  expect(await retireOldPoolKeys(store, 'cassandra', 'main', newKey, oldKey, services)).toBe(0);
  expect(await records()).toEqual([poolKeyRecord(PREFIX, oldKey)]);
});
