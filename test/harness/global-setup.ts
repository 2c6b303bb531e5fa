/**
 * Runs once before all tests: installs the real database servers the integration tests start.
 * A missing server is a failure, never a skip.
 */
import { ensureDebianPackages } from '../../core/host/debian-packages';

export default function globalSetup(): void {
  ensureDebianPackages(['etcd', 'etcdctl'], ['etcd-server', 'etcd-client'], (line) => process.stderr.write(`${line}\n`));
}
