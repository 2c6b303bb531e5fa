/** What a Cassandra backup or restore connects to, as its circuit breaker keys it (drivers/cassandra/config.ts). */
import { cassandraConfigSchema, cassandraEndpoint } from '../../../drivers/cassandra/config';

const config = (jmx: { jmxPort?: number; nodePort?: number } = {}) => cassandraConfigSchema.parse({
  contactPoints: ['10.0.0.2', '10.0.0.1'],
  nodes: [{ address: '10.0.0.1', ...(jmx.nodePort ? { jmxPort: jmx.nodePort } : {}) }, { address: '10.0.0.2' }],
  ...(jmx.jmxPort ? { jmxPort: jmx.jmxPort } : {}),
});

it('names the contact points and every node\'s nodetool port, so a config corrected after failures through a wrong JMX port is another endpoint', () => {
  expect(cassandraEndpoint(config())).toBe('10.0.0.1:9042,10.0.0.2:9042 jmx 10.0.0.1:7199,10.0.0.2:7199');
  expect(cassandraEndpoint(config({ jmxPort: 7299 }))).not.toBe(cassandraEndpoint(config()));
  expect(cassandraEndpoint(config({ nodePort: 7299 }))).toBe('10.0.0.1:9042,10.0.0.2:9042 jmx 10.0.0.1:7299,10.0.0.2:7199');
});
