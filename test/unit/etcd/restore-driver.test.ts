import { EtcdRestoreDriver } from '../../../drivers/etcd/restore-driver';
import { etcdRestoreTargetSchema } from '../../../drivers/etcd/restore-target';
import { etcdTool } from '../../../drivers/etcd/etcd-tools';

describe('etcd restore driver: what a target replaces and connects to', () => {
  const driver = new EtcdRestoreDriver({ tool: etcdTool('etcdctl') });

  it('names every member\'s data dir as replaced, and the client URLs, sorted, as the endpoint', () => {
    // Prepare
    const target = etcdRestoreTargetSchema.parse({
      members: [
        { name: 'b', dataDir: '/srv/r/b', clientUrl: 'http://127.0.0.1:3', peerUrl: 'http://127.0.0.1:4' },
        { name: 'a', dataDir: '/srv/r/a', clientUrl: 'http://127.0.0.1:1', peerUrl: 'http://127.0.0.1:2' },
      ],
    });

    // Act
    const replaced = driver.replacedPaths(target, { name: 'default' });
    const endpoint = driver.endpoint(target);

    // Assess
    expect(replaced).toEqual(['/srv/r/b', '/srv/r/a']);
    expect(endpoint).toBe('http://127.0.0.1:1,http://127.0.0.1:3');
  });

  it('names, for each host of a cluster spread over hosts, only the data dirs on that host', () => {
    const target = etcdRestoreTargetSchema.parse({
      members: [
        { name: 'a', host: 'i-0aaaaaaaaaaaaaaaa', dataDir: '/srv/r/etcd', clientUrl: 'http://10.0.0.1:2379', peerUrl: 'http://10.0.0.1:2380' },
        { name: 'b', host: 'i-0bbbbbbbbbbbbbbbb', dataDir: '/srv/r/etcd', clientUrl: 'http://10.0.0.2:2379', peerUrl: 'http://10.0.0.2:2380' },
      ],
    });
    expect(driver.targetNodes(target)).toEqual([{ name: 'i-0aaaaaaaaaaaaaaaa', host: 'i-0aaaaaaaaaaaaaaaa' }, { name: 'i-0bbbbbbbbbbbbbbbb', host: 'i-0bbbbbbbbbbbbbbbb' }]);
    expect(driver.replacedPaths(target, { name: 'i-0bbbbbbbbbbbbbbbb', host: 'i-0bbbbbbbbbbbbbbbb' })).toEqual(['/srv/r/etcd']);
    expect(driver.replacedPaths(target, { name: 'default' })).toEqual([]);
  });

  it('keeps the single-member answers', () => {
    // Prepare
    const target = etcdRestoreTargetSchema.parse({ dataDir: '/srv/r/one', clientUrl: 'http://127.0.0.1:1', peerUrl: 'http://127.0.0.1:2' });

    // Act
    const replaced = driver.replacedPaths(target, { name: 'default' });
    const endpoint = driver.endpoint(target);

    // Assess
    expect(replaced).toEqual(['/srv/r/one']);
    expect(endpoint).toBe('http://127.0.0.1:1');
  });
});
