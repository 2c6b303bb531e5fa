/**
 * Schema shapes a default (every keyspace) backup met in a hostile trial, through a backup and a
 * restore into an empty Cassandra 2.1 node (one source and one target for the file):
 * - maps keyed by blobs, timestamps and tuples: the driver's clients decode maps as `Map`, so such
 *   tables are digested exactly (a plain object would lose a blob key's bytes and a timestamp key's
 *   milliseconds), backed up, restored and validated, each value the source's;
 * - secondary indexes with mixed-case names, one named `AttrKeys` (2.1 keeps a name as written) and
 *   one auto-named after a mixed-case table and column (`MixedTable_ColA_idx`): 2.1.0's CREATE INDEX
 *   takes the name bare only (`"AttrKeys"` is a syntax error), and the restored indexes must carry
 *   exactly the source's names and answer queries on the restored rows;
 * - decimals of a negative scale (1E+3 and 1E+4: the driver's text drops the scale, both `1.`),
 *   digested exactly, so a restore is compared value by value;
 * - rows with a TTL that expire between the backup and the restore: the restore validates, the
 *   table compared by its count (at most the backup's), not by a digest the expiry changed.
 */
import { types, type Client } from 'cassandra-driver';
import type { BackupManifest } from '../../../core/catalog/manifest';
import type { RestoreReport } from '../../../core/restore/restore-state';
import { canonicalRowText } from '../../../drivers/cassandra/canonical-row';
import { clusterDescription, restoreTargetOf } from '../../../drivers/cassandra/local-cluster';
import { readKeyspace, startTestCassandra, stopAllCassandra, type TestCassandra } from '../../harness/cassandra';
import { wireDecimal } from '../../harness/cassandra-values';
import { createTestRuntime, type TestRuntime } from '../../harness/runtime';

const INSTANCE = 'schema-shapes';
const ROWS = 20;
const SCHEMA = [
  `CREATE KEYSPACE mapks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`,
  'CREATE TABLE mapks.m (k int PRIMARY KEY, mb map<blob, int>, mt map<timestamp, text>, mp map<frozen<tuple<int, text>>, int>)',
  'CREATE TABLE mapks.amounts (k int PRIMARY KEY, d decimal, ds list<decimal>, dm map<decimal, int>)',
  `CREATE KEYSPACE hostile WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`,
  'CREATE TABLE hostile.idx (k int PRIMARY KEY, attrs map<text, text>)',
  'CREATE INDEX AttrKeys ON hostile.idx (keys(attrs))',
  `CREATE KEYSPACE "MixedKS" WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`,
  'CREATE TABLE "MixedKS"."MixedTable" (k int PRIMARY KEY, "Col A" text)',
  'CREATE INDEX ON "MixedKS"."MixedTable" ("Col A")',
];

let rt: TestRuntime;
let source: TestCassandra;
let client: Client;
let target: TestCassandra;
let restored: Client;
let manifest: BackupManifest;
let report: RestoreReport;
let mapRows: string[];
let answers: number[][];

/** Every row of `table` (mapks.m by default), canonical, sorted. */
async function mapRowsOf(on: Client, table = 'mapks.m'): Promise<string[]> {
  const rows = (await on.execute(`SELECT * FROM ${table}`, [], { consistency: types.consistencies.all })).rows;
  return rows.map((row) => canonicalRowText(row as unknown as Record<string, unknown>)).sort();
}

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
  source = await startTestCassandra('shapes-src');
  client = await source.connect();
  for (const statement of SCHEMA) await client.execute(statement);
  // Map keys as CQL literals, so the rows are the same whatever the client's encoding; 0xff.. and
  // 0xfe.. read alike as UTF-8 (a plain object would keep one), the timestamps a millisecond apart.
  for (let k = 0; k < ROWS; k++) {
    const hex = k.toString(16).padStart(2, '0');
    const ms = (n: number) => `'2024-01-01 00:00:00.${String(n + k).padStart(3, '0')}+0000'`;
    await client.execute(`INSERT INTO mapks.m (k, mb, mt, mp) VALUES (${k}, {0xff${hex}: 1, 0xfe${hex}: 2}, {${ms(123)}: 'a${k}', ${ms(124)}: 'b${k}'}, {(${k}, 'x'): 1, (${k}, 'x,y'): 2})`);
    await client.execute('INSERT INTO hostile.idx (k, attrs) VALUES (?, ?)', [k, new Map([[k % 2 === 0 ? 'even' : 'odd', `v${k}`]])], { prepare: true });
    await client.execute('INSERT INTO "MixedKS"."MixedTable" (k, "Col A") VALUES (?, ?)', [k, `v${k % 5}`], { prepare: true });
    await client.execute('INSERT INTO mapks.amounts (k, d, ds, dm) VALUES (?, ?, ?, ?)', [k, wireDecimal(-(k % 3) - 1), [wireDecimal(-3), wireDecimal(-4)], new Map([[wireDecimal(-3), k], [wireDecimal(-4), -k]])], { prepare: true });
  }
  mapRows = await mapRowsOf(client);
  answers = await indexAnswers(client);

  // A default backup (every keyspace), restored into an empty node.
  const description = clusterDescription(source);
  const config = { ...description, nodes: (description.nodes as Array<Record<string, unknown>>).map((node) => ({ ...node, host: 'i-0aaaaaaaaaaaaaaa1' })) };
  const { backupId } = await rt.backup({ engine: 'cassandra', instance: INSTANCE, config });
  manifest = (await rt.catalog.list({ engine: 'cassandra', instance: INSTANCE })).find((e) => e.backupId === backupId)?.manifest as BackupManifest;
  target = await startTestCassandra('shapes-dst');
  report = await rt.restore({ backupId, target: restoreTargetOf(target) });
  restored = await target.connect();
}, 900_000);

afterAll(async () => {
  await stopAllCassandra();
  await rt.dispose();
}, 120_000);

it('backs up and restores maps keyed by blob, timestamp and tuple, validated, each value the source\'s', async () => {
  // Assess
  expect(mapRows).toHaveLength(ROWS);
  expect(mapRows[0]).toBe(canonicalRowText({
    k: 0, mb: [['fe00', 2], ['ff00', 1]], mp: [['[0,"x"]', 1], ['[0,"x,y"]', 2]], mt: [['2024-01-01T00:00:00.123Z', 'a0'], ['2024-01-01T00:00:00.124Z', 'b0']],
  }));
  expect(manifest.validation.ok).toBe(true);
  // One node's facts: the manifest's own (one node), or under nodes (a ring).
  type Facts = { tables: Array<{ keyspace: string; table: string; digest: { stable: boolean; rows: number } }> };
  const facts = manifest.facts as Facts & { nodes?: Record<string, Facts> };
  const { tables } = facts.nodes ? Object.values(facts.nodes)[0] : facts;
  expect(tables.find((t) => t.keyspace === 'mapks' && t.table === 'm')?.digest).toMatchObject({ stable: true, rows: ROWS });
  expect(report.validation.ok).toBe(true);
  expect(report.validation.checks.find((c) => c.name === 'rows-and-digests')).toMatchObject({ ok: true });
  expect(await mapRowsOf(restored)).toEqual(mapRows);
});

it('backs up and restores decimals of a negative scale, digested by their exact value and validated, each value the source\'s', async () => {
  // Assess
  const amounts = await mapRowsOf(client, 'mapks.amounts');
  expect(amounts).toContain(canonicalRowText({ k: 0, d: wireDecimal(-1), ds: [wireDecimal(-3), wireDecimal(-4)], dm: new Map([[wireDecimal(-3), 0], [wireDecimal(-4), 0]]) }));
  expect(amounts[0]).toMatch(/"1E\+3","1E\+4"/);
  type Facts = { tables: Array<{ keyspace: string; table: string; digest: { stable: boolean; rows: number; decimals?: string } }> };
  const facts = manifest.facts as Facts & { nodes?: Record<string, Facts> };
  const { tables } = facts.nodes ? Object.values(facts.nodes)[0] : facts;
  expect(tables.find((t) => t.keyspace === 'mapks' && t.table === 'amounts')?.digest).toMatchObject({ stable: true, rows: ROWS, decimals: 'exact' });
  expect(report.validation.checks.find((c) => c.name === 'rows-and-digests')).toMatchObject({ ok: true });
  expect(await mapRowsOf(restored, 'mapks.amounts')).toEqual(amounts);
});

it('restores mixed-case index names: the same names, answering queries on the restored rows', async () => {
  // Assess
  expect([...await indexNames(client, 'hostile'), ...await indexNames(client, 'MixedKS')]).toEqual(['idx.AttrKeys', 'MixedTable.MixedTable_ColA_idx']);
  expect(answers).toEqual([Array.from({ length: ROWS / 2 }, (_, i) => 2 * i), [3, 8, 13, 18]]);
  expect([...await indexNames(restored, 'hostile'), ...await indexNames(restored, 'MixedKS')]).toEqual(['idx.AttrKeys', 'MixedTable.MixedTable_ColA_idx']);
  expect(await indexAnswers(restored)).toEqual(answers);
  for (const keyspace of ['hostile', 'MixedKS']) expect(await readKeyspace(restored, keyspace)).toEqual(await readKeyspace(client, keyspace));
});

it('validates a restore of a table whose rows with a TTL expired since the backup: counted, at most the backup\'s, the rest the source\'s', async () => {
  // Prepare: one row for good, one that expires once the backup is done
  const TTL_SECONDS = 40;
  await client.execute(`CREATE KEYSPACE ttlks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`);
  await client.execute('CREATE TABLE ttlks.sess (id int PRIMARY KEY, v text)');
  await client.execute("INSERT INTO ttlks.sess (id, v) VALUES (1, 'kept')");
  await client.execute(`INSERT INTO ttlks.sess (id, v) VALUES (2, 'expires') USING TTL ${TTL_SECONDS}`);
  const description = clusterDescription(source);
  const config = { ...description, keyspaces: ['ttlks'], nodes: (description.nodes as Array<Record<string, unknown>>).map((node) => ({ ...node, host: 'i-0aaaaaaaaaaaaaaa1' })) };
  const { backupId } = await rt.backup({ engine: 'cassandra', instance: `${INSTANCE}-ttl`, config });
  const taken = (await rt.catalog.list({ engine: 'cassandra', instance: `${INSTANCE}-ttl` })).find((e) => e.backupId === backupId)?.manifest as BackupManifest;
  const count = async (on: Client) => Number((await on.execute('SELECT count(*) AS n FROM ttlks.sess')).first().n);
  while (await count(client) > 1) await new Promise((resolve) => setTimeout(resolve, 1_000)); // the TTL passes

  // Act
  const ttlReport = await rt.restore({ backupId, target: restoreTargetOf(target) });

  // Assess
  type Facts = { tables: Array<{ keyspace: string; table: string; digest: { stable: boolean; rows: number; expiring?: boolean } }> };
  const facts = taken.facts as Facts & { nodes?: Record<string, Facts> };
  const { tables } = facts.nodes ? Object.values(facts.nodes)[0] : facts;
  expect(tables.find((t) => t.table === 'sess')?.digest).toMatchObject({ stable: true, rows: 2, expiring: true });
  expect(ttlReport.validation.ok).toBe(true);
  expect(ttlReport.validation.checks.find((c) => c.name === 'tables-with-expiring-rows')).toMatchObject({ ok: true, detail: expect.stringContaining('ttlks.sess') });
  expect((await restored.execute('SELECT id, v FROM ttlks.sess')).rows.map((row) => [row.id, row.v])).toEqual([[1, 'kept']]);
}, 300_000);
