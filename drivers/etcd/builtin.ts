/** The etcd driver as a built-in (drivers/index.ts lists it): plugin, demo, host needs, docs. */
import type { BuiltinDriver } from '../../core/driver/builtin-driver';
import { etcdDemo } from './demo';
import { plugin } from './index';

export const builtin: BuiltinDriver = {
  plugin,
  demo: etcdDemo,
  host: [
    // The member a restore starts, and etcdctl for `snapshot status` / `snapshot restore` (etcd 3.4; etcdutl from 3.5).
    { commands: ['etcd', 'etcdctl'], install: { debian: ['etcd-server', 'etcd-client'] }, neededBy: ['demo', 'test'] },
  ],
  // etcd3 reads its gRPC definitions at load time from `${__dirname}/../proto/rpc.proto`; inside a
  // bundle `__dirname` is the bundle's directory, so the file would not be found.
  unbundled: ['etcd3'],
  hostOnly: [],
  docs: {
    versions: 'etcd 3.4, 3.5+',
    snapshot: 'Maintenance API snapshot, sha256 trailer checked',
    restore: '`etcdctl`/`etcdutl snapshot restore`, new cluster token, one member or a whole cluster (3 or 5 members, on one host or each on its own), started',
    validation: 'revision, key count, digest of every key-value pair',
  },
};
