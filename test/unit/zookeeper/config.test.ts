/** The ZooKeeper source config's checks (drivers/zookeeper/config.ts). */
import { zookeeperConfigSchema } from '../../../drivers/zookeeper/config';

it('refuses one member listed twice, under two names of this machine\'s loopback too', () => {
  const members = (...addresses: string[]) => zookeeperConfigSchema.safeParse({ members: addresses.map((address) => ({ address })) });

  expect(members('127.0.0.1:2181', '127.0.0.1:2182', '127.0.0.2:2181').success).toBe(true);
  for (const twice of [['10.0.0.5:2181', '10.0.0.5:2181'], ['localhost:2181', '127.0.0.1:2181'], ['LOCALHOST.:2181', 'ip6-localhost:2181']]) {
    expect(members(...twice).error?.message).toMatch(/member addresses must be unique \(localhost and 127\.0\.0\.1 are one\)/);
  }
});
