/** The Schemaless driver as a built-in (drivers/index.ts lists it): plugin, demo, host needs, docs. */
import type { BuiltinDriver } from '../../core/driver/builtin-driver';
import { schemalessDemo } from './demo';
import { plugin } from './index';

export const builtin: BuiltinDriver = {
  plugin,
  demo: schemalessDemo,
  host: [
    // The throwaway servers of the demo and the tests (the driver itself only speaks SQL over the network).
    { commands: ['mariadbd', 'mariadb-install-db'], install: { debian: ['mariadb-server', 'mariadb-client'] }, neededBy: ['demo', 'test'] },
  ],
  unbundled: ['zstd-napi'], // a native addon (the chunk codec): copied beside the bundle
  hostOnly: [],
  docs: {
    versions: 'Schemaless-style cell stores (the reference layout) on MariaDB 10.2.3+/MySQL 8.0.21+ (JSON_VALUE)',
    snapshot: 'per server: one read view for all its shards (GTID/binlog position), cells, index and buffered-writes tables as chunked zstd LOAD DATA files; incremental: cells past each shard\'s added_id watermark, late commits included',
    restore: 'the chain (full + incrementals) onto any number of servers by a shard map; indexes repaired from the cells across shards (counted); point in time by created_at',
    validation: 'per shard: cell count, max added_id, digest of (row_key, column, ref_key, sha256 body); byte-exact rows; every index entry ↔ its cell across shards',
  },
};
