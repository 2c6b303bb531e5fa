/**
 * How a backup goes into a target (restore-plan.ts): in place when the rings match, streamed by
 * sstableloader otherwise, shared out among the target's hosts; and a keyspace's replication
 * fitted to a smaller target (replication-fit.ts).
 */
import type { BackedUpNode } from '../../../drivers/cassandra/backed-up-nodes';
import { fitReplication, replicationOf } from '../../../drivers/cassandra/replication-fit';
import { assertToolsFit, planRestore, restoreHosts, restoredTables, shareOf } from '../../../drivers/cassandra/restore-plan';
import { cassandraRestoreTargetSchema } from '../../../drivers/cassandra/restore-target';
import type { RingNode } from '../../../drivers/cassandra/ring';
import { evenTokens } from '../../../drivers/cassandra/tokens';

const HOSTS = ['i-0aaaaaaaaaaaaaaa1', 'i-0bbbbbbbbbbbbbbb2'];

function backedUp(count: number): BackedUpNode[] {
  return evenTokens(count).map((token, i) => ({
    consistency: { tag: 'b1', address: `10.0.0.${i + 1}`, hostId: `h${i}`, dataCenter: 'dc1', rack: 'r1', releaseVersion: '2.1.0', tokens: [token], dataDirs: ['/d'] },
    facts: { schemaArtifact: 'schema.json', schemaSha256: 'a'.repeat(64), keyspaces: [], tables: [], sstables: 0, bytes: 0, uploadedBytes: 0 },
    artifacts: [],
  }));
}

function ring(tokens: string[][]): RingNode[] {
  return tokens.map((t, i) => ({ address: `10.1.0.${i + 1}`, dataCenter: 'dc1', rack: 'r1', hostId: `t${i}`, releaseVersion: '2.1.0', tokens: t, up: true }));
}

function target(count: number, extra: Record<string, unknown> = {}, hosts = HOSTS) {
  return cassandraRestoreTargetSchema.parse({
    contactPoints: ['10.1.0.1'], nodes: Array.from({ length: count }, (_, i) => ({ address: `10.1.0.${i + 1}`, host: hosts[i % hosts.length] })), ...extra,
  });
}

describe('planRestore', () => {
  it('loads in place (refresh) when every target node has a backed-up node of its tokens', () => {
    const plan = planRestore(target(3), ring(evenTokens(3).map((t) => [t])), backedUp(3));
    expect(plan.method).toBe('refresh');
    if (plan.method !== 'refresh') return;
    expect(plan.plans.map((p) => [p.target.address, p.source.consistency.address])).toEqual([['10.1.0.1', '10.0.0.1'], ['10.1.0.2', '10.0.0.2'], ['10.1.0.3', '10.0.0.3']]);
  });

  it('streams with sstableloader into another topology, the backed-up nodes shared out among the target hosts', () => {
    const plan = planRestore(target(2), ring([['-100'], ['100']]), backedUp(3));
    expect(plan).toMatchObject({ method: 'sstableloader', releaseVersion: '2.1.0' });
    if (plan.method !== 'sstableloader') return;
    expect(shareOf(plan.shares, { name: HOSTS[0], host: HOSTS[0] }).map((n) => n.consistency.address)).toEqual(['10.0.0.1', '10.0.0.3']);
    expect(shareOf(plan.shares, { name: HOSTS[1], host: HOSTS[1] }).map((n) => n.consistency.address)).toEqual(['10.0.0.2']);
  });

  it('streams every backed-up node from the one host of a 1-node target', () => {
    const plan = planRestore(target(1, {}, []), ring([['0']]), backedUp(3));
    expect(plan.method).toBe('sstableloader');
    if (plan.method !== 'sstableloader') return;
    expect(shareOf(plan.shares, { name: 'default' })).toHaveLength(3);
  });

  it('streams into a matching ring too when told to, and refuses another ring when told to refresh', () => {
    const tokens = ring(evenTokens(3).map((t) => [t]));
    expect(planRestore(target(3, { method: 'sstableloader' }), tokens, backedUp(3)).method).toBe('sstableloader');
    expect(() => planRestore(target(1, { method: 'refresh' }), ring([['0']]), backedUp(3))).toThrow(expect.objectContaining({
      code: 'CASSANDRA_TOPOLOGY_DIFFERS', message: expect.stringMatching(/3 backed-up nodes, 1 target nodes.*method sstableloader/),
    }));
  });

  it('streams into a target on more hosts than a restore runs on from its first four, even when the rings match; refresh keeps every host', () => {
    const hosts = Array.from({ length: 6 }, (_, i) => `i-0${'abcdef'[i].repeat(15)}${i}`);
    const six = target(6, {}, hosts);
    const plan = planRestore(six, ring(evenTokens(6).map((t) => [t])), backedUp(6));
    expect(plan.method).toBe('sstableloader');
    if (plan.method !== 'sstableloader') return;
    expect(restoreHosts(six).map((h) => h.host)).toEqual(hosts.slice(0, 4));
    expect(plan.shares.map((s) => s.sources.length)).toEqual([2, 2, 1, 1]);
    const refreshing = target(6, { method: 'refresh' }, hosts);
    expect(restoreHosts(refreshing)).toHaveLength(6);
    expect(planRestore(refreshing, ring(evenTokens(6).map((t) => [t])), backedUp(6)).method).toBe('refresh');
  });

  it('refuses a target whose ring has a node its config does not list', () => {
    expect(() => planRestore(target(1), ring([['0'], ['5']]), backedUp(3))).toThrow(expect.objectContaining({ code: 'CASSANDRA_RING_MISMATCH' }));
  });
});

describe('restoredTables', () => {
  const withTables = (...keys: string[]): BackedUpNode[] => backedUp(1).map((n) => ({
    ...n,
    facts: {
      ...n.facts,
      tables: keys.map((key) => {
        const [keyspace, table] = key.split('.');
        return { keyspace, table, id: `${table}-id`, counter: false, partitionKeys: ['id'], sstables: 1, bytes: 1, digest: { mode: 'full' as const, spans: 1, rows: 1, sha256: 'b'.repeat(64), stable: true } };
      }),
    },
  }));
  const names = (tables: Array<{ keyspace: string; table: string }>) => tables.map((t) => `${t.keyspace}.${t.table}`);
  const nodes = withTables('shop.items', 'shop.events', 'crm.people', 'system_auth.users', 'system_auth.credentials');

  it('restores system_auth only when asked', () => {
    expect(names(restoredTables(target(1), nodes))).toEqual(['shop.items', 'shop.events', 'crm.people']);
    expect(names(restoredTables(target(1, { systemAuth: true }), nodes))).toEqual(['shop.items', 'shop.events', 'crm.people', 'system_auth.users', 'system_auth.credentials']);
  });

  it('restores the keyspaces named, and refuses one the backup does not hold', () => {
    expect(names(restoredTables(target(1, { keyspaces: ['crm'] }), nodes))).toEqual(['crm.people']);
    expect(() => restoredTables(target(1, { keyspaces: ['crm', 'billing'] }), nodes)).toThrow(expect.objectContaining({ code: 'CASSANDRA_NO_SUCH_KEYSPACE', message: expect.stringMatching(/billing/) }));
  });
});

describe('fitReplication', () => {
  const simple = (rf: number) => `CREATE KEYSPACE shop WITH replication = {'class': 'SimpleStrategy', 'replication_factor': '${rf}'} AND durable_writes = true`;

  it('lowers a SimpleStrategy factor to the target node count, and leaves one that fits', () => {
    expect(fitReplication(simple(3), new Map([['dc1', 1]]))).toEqual({ cql: simple(1), lowered: ['replication_factor 3 → 1'] });
    expect(fitReplication(simple(2), new Map([['dc1', 3]]))).toEqual({ cql: simple(2), lowered: [] });
  });

  it('lowers each NetworkTopologyStrategy data center to its node count; a data center the target lacks keeps its factor', () => {
    const cql = "CREATE KEYSPACE \"Odd'ks\" WITH replication = {'class': 'org.apache.cassandra.locator.NetworkTopologyStrategy', 'eu''west': '3', 'us': '3'} AND durable_writes = false";
    const fitted = fitReplication(cql, new Map([["eu'west", 2]]));
    expect(fitted.lowered).toEqual(["eu'west 3 → 2"]);
    expect(replicationOf(fitted.cql)).toEqual([['class', 'org.apache.cassandra.locator.NetworkTopologyStrategy'], ["eu'west", '2'], ['us', '3']]);
    expect(fitted.cql).toMatch(/^CREATE KEYSPACE "Odd'ks" WITH replication = \{.*\} AND durable_writes = false$/);
  });

  it('refuses a NetworkTopologyStrategy keyspace none of whose data centers the target has', () => {
    const cql = "CREATE KEYSPACE shop WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': '3', 'dc2': '0'} AND durable_writes = true";
    expect(() => fitReplication(cql, new Map([['datacenter1', 1]]))).toThrow(expect.objectContaining({
      code: 'CASSANDRA_NO_SUCH_DATA_CENTER', message: expect.stringMatching(/CREATE KEYSPACE shop replicates to data center\(s\) dc1, and the target has only datacenter1/),
    }));
  });

  it('leaves other strategies alone, and refuses a statement without a replication map', () => {
    const local = "CREATE KEYSPACE x WITH replication = {'class': 'LocalStrategy'} AND durable_writes = true";
    expect(fitReplication(local, new Map([['dc1', 1]])).lowered).toEqual([]);
    expect(() => fitReplication('CREATE KEYSPACE x', new Map())).toThrow(expect.objectContaining({ code: 'CASSANDRA_BAD_SCHEMA' }));
  });
});

describe('assertToolsFit', () => {
  const loader = (release: string) => ({ method: 'sstableloader' as const, shares: [], releaseVersion: release });
  const refresh = (release: string) => ({ method: 'refresh' as const, plans: [], releaseVersion: release });

  it('lets tools of the target\'s version stream, and any nodetool refresh a 2.x or 3.x target', () => {
    expect(() => assertToolsFit(loader('2.1.22'), '2.1.0')).not.toThrow();
    expect(() => assertToolsFit(refresh('3.11.4'), '2.1.0')).not.toThrow();
    expect(() => assertToolsFit(refresh('4.1.3'), '4.1.0')).not.toThrow();
  });

  it('refuses a loader of another major version, and a 4.x target without nodetool import', () => {
    expect(() => assertToolsFit(loader('4.0.1'), '2.1.0')).toThrow(expect.objectContaining({ code: 'CASSANDRA_TOOLS_MISMATCH', message: expect.stringMatching(/sstableloader 2\.1\.0 cannot stream into Cassandra 4\.0\.1.*cassandraHome/) }));
    expect(() => assertToolsFit(refresh('4.0.1'), '2.1.0')).toThrow(expect.objectContaining({ code: 'CASSANDRA_TOOLS_MISMATCH', message: expect.stringMatching(/has no `import`/) }));
  });
});
