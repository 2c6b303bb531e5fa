import { clusterTokenFor, etcdConfigSchema, etcdRestoreTargetSchema } from '../../../drivers/etcd/config';

describe('etcd instance config schema', () => {
  it('accepts http(s) endpoints with optional credentials and dial timeout', () => {
    // Prepare
    const input = { endpoints: ['http://10.0.0.1:2379', 'https://etcd.example:2379'], username: 'root', password: 'pw', dialTimeoutMs: 2000 };

    // Act
    const parsed = etcdConfigSchema.safeParse(input);

    // Assess
    expect(parsed.success).toBe(true);
    expect(parsed.data).toEqual(input);
  });

  it.each([
    ['no endpoints', { endpoints: [] }],
    ['a non-URL endpoint', { endpoints: ['10.0.0.1:2379'] }],
    ['a non-http scheme', { endpoints: ['unix:///run/etcd.sock'] }],
    ['an unknown key', { endpoints: ['http://a:2379'], endpoint: 'http://a:2379' }],
    ['a username without a password', { endpoints: ['http://a:2379'], username: 'root' }],
    ['a negative dial timeout', { endpoints: ['http://a:2379'], dialTimeoutMs: -1 }],
  ])('rejects %s', (_label, input) => {
    // Act
    const parsed = etcdConfigSchema.safeParse(input);

    // Assess
    expect(parsed.success).toBe(false);
  });
});

describe('etcd restore target schema', () => {
  it('fills defaults: name "restored", start true, no token (derived later)', () => {
    // Act
    const parsed = etcdRestoreTargetSchema.parse({ dataDir: '/var/lib/etcd-r', clientUrl: 'http://127.0.0.1:22379', peerUrl: 'http://127.0.0.1:22380' });

    // Assess
    expect(parsed).toEqual({ dataDir: '/var/lib/etcd-r', name: 'restored', clientUrl: 'http://127.0.0.1:22379', peerUrl: 'http://127.0.0.1:22380', start: true, stopRunningServer: false });
  });

  it('rejects unknown keys and missing URLs', () => {
    // Act
    const unknownKey = etcdRestoreTargetSchema.safeParse({ dataDir: '/d', clientUrl: 'http://a:1', peerUrl: 'http://a:2', initialCluster: 'x' });
    const noPeer = etcdRestoreTargetSchema.safeParse({ dataDir: '/d', clientUrl: 'http://a:1' });

    // Assess
    expect(unknownKey.success).toBe(false);
    expect(noPeer.success).toBe(false);
  });

  it('derives a deterministic cluster token from the backup id unless one is given', () => {
    // Act
    const derived = clusterTokenFor({}, '2026-11-21T10:00:00Z/etcd-main');
    const again = clusterTokenFor({}, '2026-11-21T10:00:00Z/etcd-main');
    const other = clusterTokenFor({}, '2026-11-22T10:00:00Z/etcd-main');
    const explicit = clusterTokenFor({ clusterToken: 'mine' }, 'whatever');

    // Assess
    expect(derived).toBe('restore-2026-11-21T10-00-00Z-etcd-main');
    expect(again).toBe(derived);
    expect(other).not.toBe(derived);
    expect(explicit).toBe('mine');
  });
});
