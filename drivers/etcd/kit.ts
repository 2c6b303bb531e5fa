/**
 * The etcd driver's kit for the driver contract suite (test/contract): a single-member etcd seeded
 * with keys, scratch targets of a data dir and two free URLs, and the keys read back page by page
 * with their revisions (etcd's restore keeps them). Test code: loaded by the tests only.
 */
import path from 'node:path';
import type { DriverKit, KitSource, KitTarget } from '../../test/contract/driver-kit';
import { freeMemberUrls, readAllKeys, startTestEtcd, tempDir, trackMember, writeKeys } from '../../test/harness/etcd';
import { Etcd3 } from 'etcd3';
import { memberPidFile, stopMember } from './member';

const WRONG_PASSWORD_ENV = 'KIT_ETCD_WRONG_PASSWORD';

async function startSource(): Promise<KitSource> {
  const etcd = await startTestEtcd('kit');
  await writeKeys(etcd.client, 300);
  await writeKeys(etcd.client, 20, { prefix: 'bin/', binary: true, valueBytes: 300 });
  let changes = 0;
  const stops: Array<() => Promise<void>> = [() => etcd.stop()];
  return {
    config: { endpoints: [etcd.clientUrl] },
    env: { [WRONG_PASSWORD_ENV]: 'wrong' },
    change: async () => {
      changes += 1;
      await etcd.client.put('key/000001').value(`changed ${changes}`);
      await etcd.client.delete().key('key/000002');
    },
    read: () => readAllKeys(etcd.client),
    unreachable: async () => ({ endpoints: [(await freeMemberUrls()).clientUrl], dialTimeoutMs: 500 }),
    wrongCredentials: async () => {
      const secured = await startTestEtcd('kit-auth');
      stops.push(() => secured.stop());
      await secured.client.role('root').create();
      await (await secured.client.user('root').create('right')).addRole('root');
      await secured.client.auth.authEnable();
      return { endpoints: [secured.clientUrl], username: 'root', password: { $secret: `env:${WRONG_PASSWORD_ENV}` } };
    },
    invalid: () => ({ config: { endpoints: ['ftp://127.0.0.1:2379'] }, field: 'endpoints' }),
    stop: async () => {
      for (const stop of stops) await stop().catch(() => undefined);
    },
  };
}

async function scratchTarget(): Promise<KitTarget> {
  const dataDir = path.join(await tempDir('kit-target'), 'data');
  const urls = await freeMemberUrls();
  trackMember(memberPidFile(dataDir));
  const target = { dataDir, ...urls };
  return {
    target,
    forced: { ...target, stopRunningServer: true },
    read: async () => {
      const client = new Etcd3({ hosts: [urls.clientUrl] });
      try {
        return await readAllKeys(client);
      } finally {
        client.close();
      }
    },
    stop: () => stopMember(memberPidFile(dataDir)).catch(() => undefined),
  };
}

export const kits: readonly DriverKit[] = [{ name: 'etcd', engine: 'etcd', startSource, scratchTarget }];
