/**
 * Maps keyed by blobs, timestamps and tuples through a default (every keyspace) backup and a
 * restore into an empty Cassandra 2.1 node. The driver's clients decode maps as `Map`, so such
 * tables are digested exactly (a plain object would lose a blob key's bytes and a timestamp key's
 * milliseconds), backed up, restored and validated; the values read back are the source's.
 */
import { types, type Client } from 'cassandra-driver';
import type { BackupManifest } from '../../../core/catalog/manifest';
import { canonicalRowText } from '../../../drivers/cassandra/canonical-row';
import { clusterDescription, restoreTargetOf } from '../../../drivers/cassandra/local-cluster';
import { startTestCassandra, stopAllCassandra, type TestCassandra } from '../../harness/cassandra';
import { createTestRuntime, type TestRuntime } from '../../harness/runtime';

const INSTANCE = 'map-keys';
const ROWS = 20;

let rt: TestRuntime;
let source: TestCassandra;
let client: Client;

/** Every row of mapks.m in key order, canonical. */
async function rowsOf(on: Client): Promise<string[]> {
  const rows = (await on.execute('SELECT * FROM mapks.m', [], { consistency: types.consistencies.all })).rows;
  return rows.map((row) => canonicalRowText(row as unknown as Record<string, unknown>)).sort();
}

beforeAll(async () => {
  rt = await createTestRuntime();
  source = await startTestCassandra('mapkeys-src');
  client = await source.connect();
  await client.execute(`CREATE KEYSPACE mapks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`);
  await client.execute('CREATE TABLE mapks.m (k int PRIMARY KEY, mb map<blob, int>, mt map<timestamp, text>, mp map<frozen<tuple<int, text>>, int>)');
  // As CQL literals, so the rows are the same whatever the client's encoding; 0xff.. and 0xfe.. read
  // alike as UTF-8 (a plain object would keep one), the timestamps a millisecond apart.
  for (let k = 0; k < ROWS; k++) {
    const hex = k.toString(16).padStart(2, '0');
    const ms = (n: number) => `'2024-01-01 00:00:00.${String(n + k).padStart(3, '0')}+0000'`;
    await client.execute(`INSERT INTO mapks.m (k, mb, mt, mp) VALUES (${k}, {0xff${hex}: 1, 0xfe${hex}: 2}, {${ms(123)}: 'a${k}', ${ms(124)}: 'b${k}'}, {(${k}, 'x'): 1, (${k}, 'x,y'): 2})`);
  }
}, 300_000);

afterAll(async () => {
  await stopAllCassandra();
  await rt.dispose();
}, 120_000);

it('backs up every keyspace, maps keyed by blob, timestamp and tuple among them, and restores them validated, each value the source\'s', async () => {
  // Prepare
  const description = clusterDescription(source);
  const config = { ...description, nodes: (description.nodes as Array<Record<string, unknown>>).map((node) => ({ ...node, host: 'i-0aaaaaaaaaaaaaaa1' })) };
  const expected = await rowsOf(client);
  expect(expected).toHaveLength(ROWS);
  expect(expected[0]).toBe(canonicalRowText({
    k: 0, mb: [['fe00', 2], ['ff00', 1]], mp: [['[0,"x"]', 1], ['[0,"x,y"]', 2]], mt: [['2024-01-01T00:00:00.123Z', 'a0'], ['2024-01-01T00:00:00.124Z', 'b0']],
  }));

  // Act
  const { backupId } = await rt.backup({ engine: 'cassandra', instance: INSTANCE, config });
  const manifest = (await rt.catalog.list({ engine: 'cassandra', instance: INSTANCE })).find((e) => e.backupId === backupId)?.manifest as BackupManifest;
  const target = await startTestCassandra('mapkeys-dst');
  const report = await rt.restore({ backupId, target: restoreTargetOf(target) });

  // Assess
  expect(manifest.validation.ok).toBe(true);
  // One node's facts: the manifest's own (one node), or under nodes (a ring).
  type Facts = { tables: Array<{ keyspace: string; table: string; digest: { stable: boolean; rows: number } }> };
  const facts = manifest.facts as Facts & { nodes?: Record<string, Facts> };
  const { tables } = facts.nodes ? Object.values(facts.nodes)[0] : facts;
  expect(tables.find((t) => t.keyspace === 'mapks' && t.table === 'm')?.digest).toMatchObject({ stable: true, rows: ROWS });
  expect(report.validation.ok).toBe(true);
  expect(report.validation.checks.find((c) => c.name === 'rows-and-digests')).toMatchObject({ ok: true });
  expect(await rowsOf(await target.connect())).toEqual(expected);
}, 900_000);
