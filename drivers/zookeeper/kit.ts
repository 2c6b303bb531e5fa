/**
 * The ZooKeeper driver's kits for the driver contract suite (test/contract): a standalone
 * ZooKeeper seeded with every kind of node (and logs and snapshots on disk: a small snapCount),
 * scratch targets, and the tree read back through the raw client — a reader independent of the
 * driver's walk and digest. Host-local restores onto a member this kit never starts (the restore
 * does); logical ones into a running empty server. Test code: loaded by the tests only.
 */
import path from 'node:path';
import type { DriverKit, KitSource, KitTarget } from '../../test/contract/driver-kit';
import { freePort } from '../../test/harness/ports';
import {
  connectRaw, readTree, seedTree, SEED_AUTH, SEED_AUTH_ENV, SEED_AUTH_REF, startTestZooKeeper, trackZooKeeper, zkTempDir,
} from '../../test/harness/zookeeper';
import { stopZooKeeperMember } from './member';

const WRONG_CREDENTIAL_ENV = 'KIT_ZK_WRONG_CREDENTIAL';

async function startSource(mode: 'host-local' | 'logical'): Promise<KitSource> {
  const zk = await startTestZooKeeper(`kit-${mode}`, { snapCount: 100 });
  const holder = await seedTree(zk.connectString, 300);
  const address = zk.connectString;
  let changes = 0;
  return {
    config: { mode, members: [{ address }], auth: [SEED_AUTH_REF] },
    env: { ...SEED_AUTH_ENV, [WRONG_CREDENTIAL_ENV]: 'backup:wrong' },
    change: async () => {
      changes += 1;
      const client = await connectRaw(address, [SEED_AUTH]);
      try {
        await client.set('/app/n-00001', `changed ${changes}`, -1);
        await client.delete_(`/app/n-${String(100 + changes).padStart(5, '0')}`, -1);
      } finally {
        client.close();
      }
    },
    read: () => readTree(address),
    unreachable: async () => ({ mode, members: [{ address: `127.0.0.1:${await freePort()}` }] }),
    ...(mode === 'logical' ? {
      wrongCredentials: async () => ({ mode, members: [{ address }], auth: [{ scheme: 'digest', credential: { $secret: `env:${WRONG_CREDENTIAL_ENV}` } }] }),
    } : {}),
    invalid: () => ({ config: { mode, members: [{ address: 'no port here' }] }, field: 'members' }),
    stop: async () => {
      holder.close();
      await zk.stop();
    },
  };
}

async function hostLocalTarget(): Promise<KitTarget> {
  const dataDir = path.join(await zkTempDir('kit-target'), 'data');
  const clientPort = await freePort();
  trackZooKeeper(dataDir);
  const target = { members: [{ id: 1, dataDir, clientPort }], auth: [SEED_AUTH_REF] };
  return {
    target,
    forced: { ...target, stopRunningServer: true },
    read: () => readTree(`127.0.0.1:${clientPort}`),
    stop: () => stopZooKeeperMember(dataDir).catch(() => undefined),
  };
}

async function logicalTarget(): Promise<KitTarget> {
  const zk = await startTestZooKeeper('kit-logical-target');
  const target = { mode: 'logical', servers: [zk.connectString], auth: [SEED_AUTH_REF] };
  return { target, forced: target, read: () => readTree(zk.connectString), stop: () => zk.stop() };
}

export const kits: readonly DriverKit[] = [
  { name: 'zookeeper host-local', engine: 'zookeeper', credentials: false, startSource: () => startSource('host-local'), scratchTarget: hostLocalTarget, drillSettings: { auth: [SEED_AUTH_REF] } },
  { name: 'zookeeper logical', engine: 'zookeeper', startSource: () => startSource('logical'), scratchTarget: logicalTarget, drillSettings: { auth: [SEED_AUTH_REF] } },
];
