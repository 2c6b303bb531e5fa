import { formatIssues } from '../../../core/config/issues';
import { clusterTokenFor, etcdRestoreTargetSchema, initialCluster, targetMembers } from '../../../drivers/etcd/restore-target';

const member = (n: number, extra: Record<string, unknown> = {}) => ({
  name: `m${n}`, dataDir: `/srv/etcd/m${n}`, clientUrl: `http://127.0.0.1:${23000 + n * 2}`, peerUrl: `http://127.0.0.1:${23001 + n * 2}`, ...extra,
});

/** The one-line message the registry gives an invalid target (INVALID_TARGET). */
function problems(input: unknown): string {
  const parsed = etcdRestoreTargetSchema.safeParse(input);
  if (parsed.success) throw new Error('the target was accepted');
  return formatIssues(parsed.error, 'target');
}

describe('etcd restore target schema', () => {
  it('fills defaults: name "restored", start true, etcd\'s own election timings, no token (derived later)', () => {
    // Act
    const parsed = etcdRestoreTargetSchema.parse({ dataDir: '/var/lib/etcd-r', clientUrl: 'http://127.0.0.1:22379', peerUrl: 'http://127.0.0.1:22380' });

    // Assess
    expect(parsed).toEqual({ dataDir: '/var/lib/etcd-r', name: 'restored', clientUrl: 'http://127.0.0.1:22379', peerUrl: 'http://127.0.0.1:22380', start: true, stopRunningServer: false, fastElections: false });
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

describe('etcd cluster restore target schema', () => {
  it('accepts members, fills the shared defaults and lists the members with the initial cluster', () => {
    // Act
    const parsed = etcdRestoreTargetSchema.parse({ members: [member(1), member(2), member(3)], clusterToken: 'tok' });

    // Assess
    expect(parsed).toEqual({ members: [member(1), member(2), member(3)], clusterToken: 'tok', start: true, stopRunningServer: false, fastElections: false });
    expect(targetMembers(parsed).map((m) => m.name)).toEqual(['m1', 'm2', 'm3']);
    expect(initialCluster(targetMembers(parsed))).toBe('m1=http://127.0.0.1:23003,m2=http://127.0.0.1:23005,m3=http://127.0.0.1:23007');
  });

  it('sees the single-member form as one member', () => {
    // Act
    const members = targetMembers(etcdRestoreTargetSchema.parse({ dataDir: '/var/lib/etcd-r', clientUrl: 'http://127.0.0.1:1', peerUrl: 'http://127.0.0.1:2' }));

    // Assess
    expect(members).toEqual([{ name: 'restored', dataDir: '/var/lib/etcd-r', clientUrl: 'http://127.0.0.1:1', peerUrl: 'http://127.0.0.1:2' }]);
  });

  it.each([
    ['duplicate names', { members: [member(1), member(2, { name: 'm1' })] }, "members[1].name: duplicate member name 'm1' (also members[0].name)"],
    ['the same data dir twice', { members: [member(1), member(2, { dataDir: '/srv/etcd/m1' })] }, "members[1].dataDir: '/srv/etcd/m1' overlaps members[0].dataDir"],
    ['a data dir inside another', { members: [member(1), member(2, { dataDir: '/srv/etcd/m1/inner' })] }, 'members[1].dataDir: '],
    ['a client URL that is another member\'s peer URL', { members: [member(1), member(2, { clientUrl: 'http://127.0.0.1:23003/' })] }, 'members[1].clientUrl: address 127.0.0.1:23003 is also members[0].peerUrl'],
    ['one member\'s client and peer URL on one port', { members: [member(1, { peerUrl: 'http://127.0.0.1:23002' })] }, 'members[0].peerUrl: address 127.0.0.1:23002 is also members[0].clientUrl'],
    ['no members', { members: [] }, 'members: at least one member is required'],
    ['a relative member data dir', { members: [member(1, { dataDir: 'etcd/m1' })] }, 'members[0].dataDir: must be an absolute path'],
    ['a member without a peer URL', { members: [member(1, { peerUrl: undefined })] }, 'members[0].peerUrl: must be an http:// or https:// URL'],
    ['an unknown member field', { members: [member(1, { initialCluster: 'x' })] }, 'members[0].initialCluster: unknown field'],
    ['a username without a password', { members: [member(1)], username: 'root' }, 'password: username and password must be given together'],
  ])('rejects %s, naming the field', (_label, input, message) => {
    // Act
    const said = problems(input);

    // Assess
    expect(said).toContain(message);
  });

  it('rejects a member list mixed with the single-member fields, naming each of them once', () => {
    // Act
    const said = problems({ members: [member(1)], dataDir: '/srv/etcd/x', clientUrl: 'http://127.0.0.1:1' });

    // Assess
    expect(said).toBe(
      'dataDir: not allowed next to members: give each member its own name, dataDir, clientUrl and peerUrl; '
      + 'clientUrl: not allowed next to members: give each member its own name, dataDir, clientUrl and peerUrl',
    );
  });

  it('still names the fields of an invalid single-member target', () => {
    // Act
    const said = problems({ dataDir: '/srv/../etc', clientUrl: 'ftp://x', peerUrl: 'http://127.0.0.1:2' });

    // Assess
    expect(said).toMatch(/^dataDir: must not contain '\.\.' segments .*; clientUrl: must be an http:\/\/ or https:\/\/ URL$/);
  });
});
