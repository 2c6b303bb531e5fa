/** The Docstore driver as a built-in (drivers/index.ts lists it): plugin, demo, host needs, docs. */
import type { BuiltinDriver } from '../../core/driver/builtin-driver';
import { docstoreDemo } from './demo';
import { plugin } from './index';

export const builtin: BuiltinDriver = {
  plugin,
  demo: docstoreDemo,
  host: [
    // The throwaway servers of the demo and the tests (the driver itself only speaks SQL over the network).
    { commands: ['mariadbd', 'mariadb-install-db'], install: { debian: ['mariadb-server', 'mariadb-client'] }, neededBy: ['demo', 'test'] },
  ],
  unbundled: ['zstd-napi'], // a native addon (the chunk codec): copied beside the bundle
  hostOnly: [],
  docs: {
    versions: 'Docstore-style document stores (the reference layout) on MariaDB 10.2.3+/MySQL 8.0.21+ (JSON_VALUE)',
    snapshot: 'per server: one read view for all its partitions (GTID/binlog position; no snapshot across partitions, recorded as such): schema, document and index tables as chunked zstd LOAD DATA files',
    restore: 'onto any number of servers by a partition map; secondary indexes repaired from the documents across partitions (dangling and missing entries counted)',
    validation: 'schema and document tables digest for digest; every document valid JSON with keys and typed columns equal to its fields, on its partition; every index entry ↔ its document across partitions',
  },
};
