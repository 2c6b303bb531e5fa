/**
 * What a Cassandra backup or restore connects to, as its circuit breaker keys it (drivers/cassandra/config.ts),
 * and the servers a forced restore replaces data on, as a host's allowed servers are checked against them.
 */
import { cassandraConfigSchema, cassandraEndpoint } from '../../../drivers/cassandra/config';
import { CassandraRestoreDriver } from '../../../drivers/cassandra/restore-driver';
import { cassandraRestoreTargetSchema } from '../../../drivers/cassandra/restore-target';
import { assertRestoreAllowed } from '../../../core/host/restore-roots';

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

it('names each contact point for a forced restore, which a host allowing those servers lets through (the breaker key is not a server)', async () => {
  const target = cassandraRestoreTargetSchema.parse({ contactPoints: ['127.0.0.1', '127.0.0.2'], nodes: [{ address: '127.0.0.1' }, { address: '127.0.0.2' }] });
  const forced = (servers: string[]) => assertRestoreAllowed(
    { engine: 'cassandra', force: true, confined: false, paths: [], servers: new CassandraRestoreDriver().replacedServers(target) },
    { roots: [], servers },
  );

  expect(new CassandraRestoreDriver().replacedServers(target)).toEqual(['127.0.0.1:9042', '127.0.0.2:9042']);
  await expect(forced(['127.0.0.1:*', '127.0.0.2:9042'])).resolves.toBeUndefined();
  await expect(forced(['127.0.0.1:*'])).rejects.toMatchObject({ code: 'RESTORE_ROOT_REFUSED', message: expect.stringContaining('the server 127.0.0.2:9042') });
});
