/** The MySQL/MariaDB driver as a built-in (drivers/index.ts lists it): plugin, demo, host needs, docs. */
import type { BuiltinDriver } from '../../core/driver/builtin-driver';
import { mysqlDemo } from './demo';
import { plugin } from './index';

export const builtin: BuiltinDriver = {
  plugin,
  demo: mysqlDemo,
  host: [
    // The throwaway servers of the demo and the tests, and the server a physical restore starts.
    { commands: ['mariadbd', 'mariadb-install-db'], install: { debian: ['mariadb-server', 'mariadb-client'] }, neededBy: ['demo', 'test'] },
    // Physical backups and restores, point-in-time replay, and the tests' independent checks.
    {
      commands: ['mariadb', 'mariadb-dump', 'mariadb-binlog', 'mariabackup', 'mbstream'],
      install: { debian: ['mariadb-server', 'mariadb-client', 'mariadb-backup'] },
      neededBy: ['test'],
    },
  ],
  unbundled: ['zstd-napi'], // a native addon (the chunk codec): copied beside the bundle
  hostOnly: [],
  docs: {
    versions: 'MySQL 5.7, 8.0, 8.4; MariaDB 10.x, 11.x',
    snapshot: 'logical: one consistent read view for parallel workers (commits blocked for milliseconds; a read lock only while non-transactional tables are dumped), binlog file/position + GTID, schema, chunked zstd LOAD DATA files; physical: mariabackup/xtrabackup stream; optional binlog archive',
    restore: 'parallel `LOAD DATA LOCAL INFILE`, or prepare + start a server on the restored data dir; optional point-in-time replay to a time or GTID (physical restores and replays: MariaDB backups; MySQL ones are refused up front)',
    validation: 'per-table row counts and digests, schema objects',
  },
};
