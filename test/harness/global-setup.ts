/**
 * Runs once before all tests: builds the CLI the tests run as child processes (bin/dbbackup.js
 * runs the built dist/cli.js, so a test never runs a stale build), and installs the real database
 * servers the integration tests start. A missing server is a failure, never a skip.
 */
import { ensureDebianPackages } from '../../core/host/debian-packages';
import { buildProject } from '../../scripts/build';

export default async function globalSetup(): Promise<void> {
  await buildProject();
  const log = (line: string) => process.stderr.write(`${line}\n`);
  ensureDebianPackages(['etcd', 'etcdctl'], ['etcd-server', 'etcd-client'], log);
  ensureDebianPackages(
    ['mariadbd', 'mariadb-install-db', 'mariadb', 'mariadb-dump', 'mariadb-binlog', 'mariabackup', 'mbstream'],
    ['mariadb-server', 'mariadb-client', 'mariadb-backup'],
    log,
  );
}
