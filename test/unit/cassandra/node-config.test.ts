/** A node's cassandra.yaml (drivers/cassandra/node-config.ts) and its tokens (tokens.ts). */
import { cassandraYaml, type NodeConfig } from '../../../drivers/cassandra/node-config';
import { evenTokens } from '../../../drivers/cassandra/tokens';

const BASE: NodeConfig = {
  clusterName: 'test "quoted"', address: '127.0.0.2', seeds: ['127.0.0.1'], storagePort: 7000, nativePort: 9042, rpcPort: 9160,
  dataDirs: ['/d/data1', '/d/data2'], commitlogDir: '/d/commitlog', savedCachesDir: '/d/saved_caches',
  tokens: { initialTokens: ['-3074457345618258603'] }, bootstrap: false,
};

/** The yaml's `key: value` lines as an object (every value is JSON). */
function settings(yaml: string): Record<string, unknown> {
  return Object.fromEntries(yaml.trim().split('\n').map((line) => {
    const at = line.indexOf(': ');
    return [line.slice(0, at), JSON.parse(line.slice(at + 2))];
  }));
}

describe('cassandra.yaml of a node', () => {
  it('names its addresses, ports, seeds, JBOD data dirs, tokens and the JDK 17 needs', () => {
    const yaml = settings(cassandraYaml(BASE));
    expect(yaml).toMatchObject({
      cluster_name: 'test "quoted"', listen_address: '127.0.0.2', rpc_address: '127.0.0.2', storage_port: 7000, native_transport_port: 9042,
      data_file_directories: ['/d/data1', '/d/data2'], commitlog_directory: '/d/commitlog', saved_caches_directory: '/d/saved_caches',
      num_tokens: 1, initial_token: '-3074457345618258603', auto_bootstrap: false, disk_access_mode: 'standard', start_rpc: true, rpc_port: 9160,
      seed_provider: [{ class_name: 'org.apache.cassandra.locator.SimpleSeedProvider', parameters: [{ seeds: '127.0.0.1' }] }],
    });
  });

  it('takes vnodes instead of given tokens', () => {
    const yaml = settings(cassandraYaml({ ...BASE, tokens: { numTokens: 16 } }));
    expect(yaml.num_tokens).toBe(16);
    expect(yaml).not.toHaveProperty('initial_token');
  });
});

describe('evenly spaced tokens', () => {
  it('split the Murmur3 ring into equal parts from its start', () => {
    expect(evenTokens(1)).toEqual(['-9223372036854775808']);
    expect(evenTokens(3)).toEqual(['-9223372036854775808', '-3074457345618258603', '3074457345618258602']);
    expect(evenTokens(4)).toEqual(['-9223372036854775808', '-4611686018427387904', '0', '4611686018427387904']);
    expect(() => evenTokens(0)).toThrow(RangeError);
  });
});
