import {
  detectEtcdTool, etcdTool, parseSnapshotStatus, snapshotRestoreArgv, snapshotStatusArgv,
} from '../../../drivers/etcd/etcd-tools';
import { PermanentError } from '../../../core/errors';

const restoreOptions = {
  snapshotPath: '/spool/snapshot.db',
  name: 'restored',
  dataDir: '/var/lib/etcd-restored',
  peerUrl: 'http://127.0.0.1:22380',
  clusterToken: 'restore-bk1',
};

describe('etcd snapshot tools', () => {
  it('prefers etcdutl (3.5+) and falls back to etcdctl (3.4) with ETCDCTL_API=3', () => {
    // Act
    const both = detectEtcdTool(() => true);
    const only34 = detectEtcdTool((command) => command === 'etcdctl');

    // Assess
    expect(both).toEqual({ flavour: 'etcdutl', command: 'etcdutl', env: {} });
    expect(only34).toEqual({ flavour: 'etcdctl', command: 'etcdctl', env: { ETCDCTL_API: '3' } });
  });

  it('fails with MISSING_TOOL when neither tool exists', () => {
    // Act
    const detect = () => detectEtcdTool(() => false);

    // Assess
    expect(detect).toThrow(PermanentError);
    expect(detect).toThrow(/neither etcdutl .* nor etcdctl/);
  });

  it.each(['etcdctl', 'etcdutl'] as const)('builds snapshot status argv for %s', (flavour) => {
    // Act
    const argv = snapshotStatusArgv(etcdTool(flavour), '/spool/snapshot.db');

    // Assess
    expect(argv).toEqual(['snapshot', 'status', '/spool/snapshot.db', '--write-out=json']);
  });

  it.each(['etcdctl', 'etcdutl'] as const)('builds snapshot restore argv for %s with a new cluster token', (flavour) => {
    // Act
    const argv = snapshotRestoreArgv(etcdTool(flavour), restoreOptions);

    // Assess
    expect(argv).toEqual([
      'snapshot', 'restore', '/spool/snapshot.db',
      '--name=restored',
      '--data-dir=/var/lib/etcd-restored',
      '--initial-cluster=restored=http://127.0.0.1:22380',
      '--initial-cluster-token=restore-bk1',
      '--initial-advertise-peer-urls=http://127.0.0.1:22380',
    ]);
  });

  it('adds --skip-hash-check only when asked, and passes a multi-member initial cluster through', () => {
    // Act
    const plain = snapshotRestoreArgv(etcdTool('etcdutl'), restoreOptions);
    const skip = snapshotRestoreArgv(etcdTool('etcdutl'), { ...restoreOptions, skipHashCheck: true });
    const multi = snapshotRestoreArgv(etcdTool('etcdctl'), { ...restoreOptions, initialCluster: 'restored=http://a:2380,m2=http://b:2380' });

    // Assess
    expect(plain).not.toContain('--skip-hash-check');
    expect(skip[skip.length - 1]).toBe('--skip-hash-check');
    expect(multi).toContain('--initial-cluster=restored=http://a:2380,m2=http://b:2380');
  });

  it('parses snapshot status JSON from etcdctl 3.4 and etcdutl 3.5', () => {
    // Act
    const v34 = parseSnapshotStatus('{"hash":2915380799,"revision":3,"totalKey":7,"totalSize":20480}\n');
    const v35 = parseSnapshotStatus('{"hash":1,"revision":42,"totalKey":50,"totalSize":4096,"version":"3.5.0"}');

    // Assess
    expect(v34).toEqual({ hash: 2915380799, revision: 3, totalKey: 7, totalSize: 20480 });
    expect(v35).toEqual({ hash: 1, revision: 42, totalKey: 50, totalSize: 4096, version: '3.5.0' });
  });

  it('refuses status output that is not the expected JSON', () => {
    // Act
    const notJson = () => parseSnapshotStatus('3e5d1c9a, 3, 7, 20 kB');
    const noRevision = () => parseSnapshotStatus('{"hash":1}');

    // Assess
    expect(notJson).toThrow(/not JSON/);
    expect(noRevision).toThrow(/"revision"/);
  });
});
