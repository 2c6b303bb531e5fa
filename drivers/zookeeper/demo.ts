/**
 * The ZooKeeper demo: a throwaway standalone ZooKeeper with a tree of a thousand nodes (binary
 * data, ACLs, sequential and container nodes, an ephemeral one that must not come back), backed up
 * host-local; its drill restores into a scratch standalone member (scratch.ts).
 */
import path from 'node:path';
import { onFreePorts } from '../../core/host/ports';
import type { DemoScenario } from '../../core/demo/scenario';
import { startLocalZooKeeper } from './member';
import { seedDemoTree } from './seed';

export const zookeeperDemo: DemoScenario = {
  engine: 'zookeeper',
  async start(workDir) {
    const source = await onFreePorts(3, (ports, attempt) => startLocalZooKeeper({ dir: path.join(workDir, `source-${attempt}`), ports }));
    const tree = await seedDemoTree(source.connectString);
    return {
      instance: 'demo',
      config: { members: [{ address: source.connectString }] },
      seeded: tree.description,
      async stop() {
        await tree.close();
        await source.stop();
      },
    };
  },
};
