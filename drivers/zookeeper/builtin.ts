/** The ZooKeeper driver as a built-in (drivers/index.ts lists it): plugin, demo, host needs, docs. */
import type { BuiltinDriver } from '../../core/driver/builtin-driver';
import { zookeeperDemo } from './demo';
import { plugin } from './index';
import { ZOOKEEPER_JAR } from './member';

export const builtin: BuiltinDriver = {
  plugin,
  demo: zookeeperDemo,
  host: [
    // The servers the demo and the tests start, and a restore starts (java and the jar Debian ships).
    { commands: ['java'], files: [ZOOKEEPER_JAR], install: { debian: ['zookeeper'] }, neededBy: ['demo', 'test'] },
  ],
  // Native (node-gyp): built for the host it is installed on; only host steps load it.
  unbundled: [],
  hostOnly: ['zookeeper'],
  docs: {
    versions: 'ZooKeeper 3.5+ (3.8 tested)',
    snapshot: 'host-local: newest valid snapshot + txn logs to the last complete txn; or a logical tree walk',
    restore: 'the same files on every member of an ensemble (epochs set), or the tree into a running one',
    validation: 'file headers and checksums; node count and tree digest on every member; zxid; one leader',
  },
};
