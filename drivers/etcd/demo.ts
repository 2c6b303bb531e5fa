/**
 * The etcd demo: a throwaway single-node etcd with a thousand keys (several revisions of some,
 * a deleted one, binary values); its drill restores into a scratch member (scratch.ts).
 */
import path from 'node:path';
import { Etcd3 } from 'etcd3';
import { onFreePorts } from '../../core/host/ports';
import type { DemoScenario } from '../../core/demo/scenario';
import { startLocalEtcd } from './member';

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
    return {
      instance: 'demo',
      config: { endpoints: [source.clientUrl] },
      seeded: `${KEYS} keys`,
      stop: () => source.stop(),
    };
  },
};
