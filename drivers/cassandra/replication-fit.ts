/**
 * A backed-up keyspace's replication made to fit a smaller target: a keyspace of replication
 * factor 3 restored into a 1-node cluster (a drill's scratch cluster, a developer's copy) would
 * answer no read at QUORUM or ALL, as two of its three replicas can never exist. A keyspace the
 * restore creates gets, per data center, at most as many replicas as the target has nodes there;
 * a data center the target lacks keeps its factor (Cassandra places no replica there), but a
 * keyspace none of whose data centers the target has is refused: its rows would go nowhere.
 * Keyspaces that already exist on the target are the operator's and are left as they are.
 */
import { PermanentError } from '../../core/errors';
import { mapLiteral } from './cql-text';

/** `replication = {'k': 'v', …}` in a CREATE KEYSPACE statement (values are quoted strings, `''` a quote). */
const REPLICATION = /replication\s*=\s*\{((?:\s*'(?:[^']|'')*'\s*:\s*'(?:[^']|'')*'\s*,?)*)\s*\}/i;
const ENTRY = /'((?:[^']|'')*)'\s*:\s*'((?:[^']|'')*)'/g;

const unquote = (text: string) => text.replace(/''/g, "'");

/** The replication map of a CREATE KEYSPACE statement, in its order. */
export function replicationOf(cql: string): Array<[string, string]> {
  const match = REPLICATION.exec(cql);
  if (!match) throw new PermanentError(`cassandra: no replication map in ${cql}`, { code: 'CASSANDRA_BAD_SCHEMA', engine: 'cassandra' });
  return [...match[1].matchAll(ENTRY)].map(([, key, value]) => [unquote(key), unquote(value)]);
}

export interface FittedKeyspace {
  cql: string;
  /** What was lowered, e.g. `replication_factor 2 → 1`; empty when the statement is unchanged. */
  lowered: string[];
}

/**
 * `cql` (CREATE KEYSPACE) with its factors lowered to the target's node counts per data center
 * (`nodesPerDataCenter`). SimpleStrategy counts every node; NetworkTopologyStrategy each data center
 * it names; other strategies are left as they are.
 * @throws PermanentError `CASSANDRA_NO_SUCH_DATA_CENTER` for a NetworkTopologyStrategy keyspace
 *   that replicates to none of the target's data centers.
 * @example fitReplication("CREATE KEYSPACE shop WITH replication = {'class': 'SimpleStrategy', 'replication_factor': '2'} AND durable_writes = true", new Map([['dc1', 1]])).lowered // ['replication_factor 2 → 1']
 */
export function fitReplication(cql: string, nodesPerDataCenter: ReadonlyMap<string, number>): FittedKeyspace {
  const entries = replicationOf(cql);
  const strategy = (entries.find(([key]) => key === 'class')?.[1] ?? '').replace(/^.*\./, '');
  const total = [...nodesPerDataCenter.values()].reduce((sum, n) => sum + n, 0);
  const limitOf = (key: string): number | undefined => {
    if (strategy === 'SimpleStrategy') return key === 'replication_factor' ? total : undefined;
    if (strategy === 'NetworkTopologyStrategy') return key === 'class' ? undefined : nodesPerDataCenter.get(key);
    return undefined;
  };
  if (strategy === 'NetworkTopologyStrategy') {
    const wanted = entries.filter(([key, value]) => key !== 'class' && Number(value) > 0).map(([key]) => key);
    if (wanted.length > 0 && !wanted.some((dc) => nodesPerDataCenter.has(dc))) {
      throw new PermanentError(
        `cassandra: ${cql.slice(0, cql.indexOf(' WITH '))} replicates to data center(s) ${wanted.join(', ')}, and the target has only ${[...nodesPerDataCenter.keys()].join(', ')}: its rows would have no replica there (create the keyspace on the target with its data centers first)`,
        { code: 'CASSANDRA_NO_SUCH_DATA_CENTER', engine: 'cassandra' },
      );
    }
  }
  const lowered: string[] = [];
  const fitted = entries.map(([key, value]): [string, string] => {
    const limit = limitOf(key);
    const factor = Number(value);
    if (limit === undefined || limit === 0 || !Number.isInteger(factor) || factor <= limit) return [key, value];
    lowered.push(`${key} ${factor} → ${limit}`);
    return [key, String(limit)];
  });
  return lowered.length === 0 ? { cql, lowered } : { cql: cql.replace(REPLICATION, `replication = ${mapLiteral(fitted)}`), lowered };
}
