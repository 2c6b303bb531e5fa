/**
 * The ZooKeeper restore target: members on one host or each on its own (`host`), what must be
 * unique across the ensemble and what only on one host, and the nodes and paths the restore works
 * on per host.
 */
import { zookeeperRestoreTargetSchema } from '../../../drivers/zookeeper/config';
import { ZooKeeperRestoreDriver } from '../../../drivers/zookeeper/restore-driver';

const member = (id: number, extra: Record<string, unknown> = {}) => ({
  id, dataDir: `/srv/zk${id}`, clientPort: 2180 + id, quorumPort: 2880 + id, electionPort: 3880 + id, ...extra,
});
const issues = (target: unknown): string[] => {
  const parsed = zookeeperRestoreTargetSchema.safeParse(target);
  return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('ZooKeeper restore target', () => {
  it('takes one member per host with the same dataDir and ports on each, and spreads the restore over those hosts', () => {
    // Prepare
    const hosts = ['i-0aaaaaaaaaaaaaaaa', 'i-0bbbbbbbbbbbbbbbb', 'i-0cccccccccccccccc'];
    const members = hosts.map((host, i) => ({ id: i + 1, host, hostname: `10.0.1.${11 + i}`, dataDir: '/var/lib/zookeeper', clientPort: 2181, quorumPort: 2888, electionPort: 3888 }));
    const driver = new ZooKeeperRestoreDriver();

    // Act
    const target = zookeeperRestoreTargetSchema.parse({ members });

    // Assess
    expect(driver.targetNodes(target)).toEqual(hosts.map((host) => ({ name: host, host })));
    expect(driver.replacedPaths(target, { name: 'i-0bbbbbbbbbbbbbbbb', host: 'i-0bbbbbbbbbbbbbbbb' })).toEqual(['/var/lib/zookeeper']);
    expect(driver.endpoint(target)).toBe('10.0.1.11:2181,10.0.1.12:2181,10.0.1.13:2181');
  });

  it('keeps members without a host on the request\'s host, one node for them all', () => {
    const target = zookeeperRestoreTargetSchema.parse({ members: [member(1), member(2), member(3)] });
    expect(new ZooKeeperRestoreDriver().targetNodes(target)).toEqual([{ name: 'default' }]);
    expect(new ZooKeeperRestoreDriver().replacedPaths(target, { name: 'default' })).toEqual(['/srv/zk1', '/srv/zk2', '/srv/zk3']);
  });

  it('refuses a dataDir twice on one host, a client address twice, and a host that is no instance id', () => {
    expect(issues({ members: [member(1), member(2, { dataDir: '/srv/zk1' })] })).toEqual(['members: member dataDirs (on one host) must be unique']);
    expect(issues({ members: [member(1, { host: 'i-0aaaaaaaaaaaaaaaa' }), member(2, { host: 'i-0bbbbbbbbbbbbbbbb', clientPort: 2181 })] })).toEqual(['members: member client addresses (hostname:clientPort) must be unique']);
    // `host` was once the member's address: such a target is refused, not read as an instance id.
    expect(issues({ members: [member(1, { host: '10.0.1.11' })] })).toEqual([expect.stringMatching(/^members\.0\.host: must be an EC2 or SSM managed instance id .* not its network address$/)]);
    expect(issues({ members: [member(1, { host: 'default' })] })).toEqual([expect.stringMatching(/^members\.0\.host: must be an EC2 or SSM managed instance id/)]);
  });

  it('refuses a port two members on one machine would both listen on, naming whose it is', () => {
    // Act
    const found = issues({ members: [member(1), member(2, { quorumPort: 2181 }), member(3, { quorumPort: 2881, electionPort: 3881 })] });
    const apart = issues({ members: [member(1, { host: 'i-0aaaaaaaaaaaaaaaa', hostname: '10.0.1.11' }), member(2, { host: 'i-0bbbbbbbbbbbbbbbb', hostname: '10.0.1.12', clientPort: 2181, quorumPort: 2881, electionPort: 3881 })] });

    // Assess
    expect(found).toEqual([
      "members.1.quorumPort: port 2181 on 127.0.0.1 is already member 1's clientPort: every port of every member on one machine must differ",
      "members.2.quorumPort: port 2881 on 127.0.0.1 is already member 1's quorumPort: every port of every member on one machine must differ",
      "members.2.electionPort: port 3881 on 127.0.0.1 is already member 1's electionPort: every port of every member on one machine must differ",
    ]);
    expect(apart).toEqual([]);
    // Two names for this machine's loopback are one address: the second member could not bind the port.
    expect(issues({ members: [member(1), member(2, { hostname: 'localhost', quorumPort: 2181 })] })).toEqual([
      "members.1.quorumPort: port 2181 on localhost is already member 1's clientPort: every port of every member on one machine must differ",
    ]);
    expect(issues({ members: [member(1, { juteMaxBuffer: 4 << 20 }), member(2)] })).toEqual(["members: juteMaxBuffer must be the same on every member (a follower reads the leader's snapshot with its own)"]);
  });
});
