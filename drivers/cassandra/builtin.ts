/** The Cassandra driver as a built-in (drivers/index.ts lists it): plugin, demo, host needs, docs. */
import type { BuiltinDriver } from '../../core/driver/builtin-driver';
import { cassandraDemo } from './demo';
import { CASSANDRA_HOST } from './host-requirements';
import { plugin } from './index';

export const builtin: BuiltinDriver = {
  plugin,
  demo: cassandraDemo,
  host: CASSANDRA_HOST,
  unbundled: [],
  hostOnly: [],
  docs: {
    versions: 'Cassandra 2.1 (tested), 2.2–4.x SSTable names',
    snapshot: '`nodetool snapshot` on every node (same tag; it flushes first), SSTables into a content-addressed pool (differential)',
    restore: 'schema where missing (replication fitted to the target); same topology: SSTables under the live table ids, `nodetool refresh` (4.x: `import`), all nodes at once; any other topology: streamed by `sstableloader` from every host',
    validation: 'every SSTable complete (TOC) and hashed; row counts and digests over every node\'s token ranges',
  },
};
