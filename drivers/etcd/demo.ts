/**
 * The etcd demo: a throwaway single-node etcd with a thousand keys (several revisions of some,
 * a deleted one, binary values), and an empty data dir on fresh ports to restore into.
 */
import path from 'node:path';
import { Etcd3 } from 'etcd3';
import { freePort, onFreePorts } from '../../core/host/ports';
import type { DemoScenario } from '../../core/demo/scenario';
import { memberPidFile, startLocalEtcd, stopMember } from './member';

const KEYS = 1000;

async function seed(clientUrl: string): Promise<void> {
  const client = new Etcd3({ hosts: clientUrl });
  try {
    for (let i = 0; i < KEYS; i += 100) {
      await Promise.all(Array.from({ length: 100 }, (_, j) => client.put(`/demo/key-${String(i + j).padStart(4, '0')}`).value(`value ${i + j}`)));
    }
    await client.put('/demo/key-0000').value('rewritten');
    await client.put('/demo/binary').value(Buffer.from([0, 1, 2, 253, 254, 255]));
    await client.delete().key('/demo/key-0999');
  } finally {
    client.close();
  }
}

export const etcdDemo: DemoScenario = {
  engine: 'etcd',
  async start(workDir) {
    const source = await onFreePorts(2, ([clientPort, peerPort], attempt) => startLocalEtcd({ dir: path.join(workDir, `source-${attempt}`), clientPort, peerPort }));
    await seed(source.clientUrl);
    const restoredDataDir = path.join(workDir, 'restored', 'data');
    return {
      instance: 'demo',
      config: { endpoints: [source.clientUrl] },
      target: {
        dataDir: restoredDataDir,
        clientUrl: `http://127.0.0.1:${await freePort()}`,
        peerUrl: `http://127.0.0.1:${await freePort()}`,
      },
      seeded: `${KEYS} keys`,
      async stop() {
        await source.stop();
        await stopMember(memberPidFile(restoredDataDir)).catch(() => undefined);
      },
    };
  },
};
