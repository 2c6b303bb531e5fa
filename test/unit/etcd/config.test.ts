import { etcdConfigSchema } from '../../../drivers/etcd/config';

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
