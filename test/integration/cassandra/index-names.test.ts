/**
 * Secondary indexes with mixed-case names through a backup and a restore into an empty Cassandra
 * 2.1 node: one named `AttrKeys` (2.1 keeps a name as written) and one auto-named after a mixed-case
 * table and column (`MixedTable_ColA_idx`). 2.1.0's CREATE INDEX takes the name bare only
 * (`"AttrKeys"` is a syntax error); the restored indexes must carry exactly the source's names and
 * answer queries on the restored rows.
 */
import type { Client } from 'cassandra-driver';
import type { BackupManifest } from '../../../core/catalog/manifest';
import { clusterDescription, restoreTargetOf } from '../../../drivers/cassandra/local-cluster';
import { readKeyspace, startTestCassandra, stopAllCassandra, type TestCassandra } from '../../harness/cassandra';
import { createTestRuntime, type TestRuntime } from '../../harness/runtime';

const INSTANCE = 'mixed-index';
const SCHEMA = [
  `CREATE KEYSPACE hostile WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`,
  'CREATE TABLE hostile.idx (k int PRIMARY KEY, attrs map<text, text>)',
  'CREATE INDEX AttrKeys ON hostile.idx (keys(attrs))',
  `CREATE KEYSPACE "MixedKS" WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`,
  'CREATE TABLE "MixedKS"."MixedTable" (k int PRIMARY KEY, "Col A" text)',
  'CREATE INDEX ON "MixedKS"."MixedTable" ("Col A")',
];
const ROWS = 30;

let rt: TestRuntime;
let source: TestCassandra;
let client: Client;

/** `table.index` of every index of `keyspace`, as 2.1's schema tables name them. */
async function indexNames(on: Client, keyspace: string): Promise<string[]> {
  const rows = (await on.execute('SELECT columnfamily_name, index_name FROM system.schema_columns WHERE keyspace_name = ?', [keyspace])).rows;
  return rows.filter((row) => row.index_name).map((row) => `${row.columnfamily_name}.${row.index_name}`).sort();
}

/** What the indexes answer: the keys of the rows they find. */
async function indexAnswers(on: Client): Promise<number[][]> {
  const byKey = await on.execute("SELECT k FROM hostile.idx WHERE attrs CONTAINS KEY 'even'");
  const byColumn = await on.execute(`SELECT k FROM "MixedKS"."MixedTable" WHERE "Col A" = 'v3'`);
  return [byKey.rows.map((row) => row.k as number).sort((a, b) => a - b), byColumn.rows.map((row) => row.k as number).sort((a, b) => a - b)];
}

beforeAll(async () => {
  rt = await createTestRuntime();
  source = await startTestCassandra('index-src');
  client = await source.connect();
  for (const statement of SCHEMA) await client.execute(statement);
  for (let k = 0; k < ROWS; k++) {
    await client.execute('INSERT INTO hostile.idx (k, attrs) VALUES (?, ?)', [k, { [k % 2 === 0 ? 'even' : 'odd']: `v${k}` }], { prepare: true });
    await client.execute('INSERT INTO "MixedKS"."MixedTable" (k, "Col A") VALUES (?, ?)', [k, `v${k % 5}`], { prepare: true });
  }
}, 300_000);

afterAll(async () => {
  await stopAllCassandra();
  await rt.dispose();
}, 120_000);

it('restores mixed-case index names into an empty node: the same names, answering queries on the restored rows', async () => {
  // Prepare
  const description = clusterDescription(source);
  const config = { ...description, nodes: (description.nodes as Array<Record<string, unknown>>).map((node) => ({ ...node, host: 'i-0aaaaaaaaaaaaaaa1' })) };
  expect([...await indexNames(client, 'hostile'), ...await indexNames(client, 'MixedKS')]).toEqual(['idx.AttrKeys', 'MixedTable.MixedTable_ColA_idx']);
  const expected = await indexAnswers(client);
  expect(expected).toEqual([Array.from({ length: ROWS / 2 }, (_, i) => 2 * i), [3, 8, 13, 18, 23, 28]]);
  const { backupId } = await rt.backup({ engine: 'cassandra', instance: INSTANCE, config });
  const manifest = (await rt.catalog.list({ engine: 'cassandra', instance: INSTANCE })).find((e) => e.backupId === backupId)?.manifest as BackupManifest;
  expect(manifest.validation.ok).toBe(true);
  const target = await startTestCassandra('index-dst');

  // Act
  const report = await rt.restore({ backupId, target: restoreTargetOf(target) });

  // Assess
  expect(report.validation.ok).toBe(true);
  const restored = await target.connect();
  expect([...await indexNames(restored, 'hostile'), ...await indexNames(restored, 'MixedKS')]).toEqual(['idx.AttrKeys', 'MixedTable.MixedTable_ColA_idx']);
  expect(await indexAnswers(restored)).toEqual(expected);
  for (const keyspace of ['hostile', 'MixedKS']) expect(await readKeyspace(restored, keyspace)).toEqual(await readKeyspace(client, keyspace));
}, 900_000);
