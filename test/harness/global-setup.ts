/**
 * Runs once before all tests: installs the real database servers the integration tests start.
 * A missing server is a failure, never a skip.
 */
import { ensureDebianPackages } from '../../core/host/debian-packages';

export default function globalSetup(): void {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  ensureDebianPackages(['etcd', 'etcdctl'], ['etcd-server', 'etcd-client'], log);
  ensureDebianPackages(
    ['mariadbd', 'mariadb-install-db', 'mariadb', 'mariadb-dump', 'mariadb-binlog', 'mariabackup', 'mbstream'],
    ['mariadb-server', 'mariadb-client', 'mariadb-backup'],
    log,
  );
}
