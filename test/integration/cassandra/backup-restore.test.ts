/**
 * Cassandra backups and restores through the synthesized state machines, against real Cassandra
 * 2.1: a 3-node source cluster (127.0.0.1–3, RF 2, two data dirs per node) whose nodes name their
 * own hosts, backed up node by node into the instance's content-addressed pool; a second backup
 * after a few new writes sends only the new SSTables; a restore into another 3-node cluster of the
 * same tokens, and one into a 1-node cluster by sstableloader, are validated by our digests and
 * compared with the source by an independent read; a node that fails during its snapshot fails the
 * whole backup cleanly, and so does a node whose data dirs are named wrongly; a table whose rows
 * were all deleted after the backup (tombstones only) is not taken as empty by a restore in place.
 */
import { types, type Client } from 'cassandra-driver';
import type { AgentResult } from '../../../core/agent/agent-steps';
import type { BackupManifest } from '../../../core/catalog/manifest';
import { listSnapshots } from '../../../drivers/cassandra/nodetool';
import { clusterDescription, restoreTargetOf } from '../../../drivers/cassandra/local-cluster';
import { evenTokens } from '../../../drivers/cassandra/tokens';
import { localWorkflows } from '../../../statemachines/local/local-workflows';
import {
  liveDataFiles, readKeyspace, seedKeyspace, spreadOverDataDirs, startTestCassandra, stopAllCassandra, type TestCassandra,
} from '../../harness/cassandra';
import { createTestRuntime, shippedDefinitions, type TestRuntime } from '../../harness/runtime';
import { tempDir } from '../../harness/test-run';
import { scriptedHostRunner } from '../../harness/scripted-host-runner';

const KEYSPACE = 'shop';
const INSTANCE = 'ring';
const HOSTS = ['i-0aaaaaaaaaaaaaaa1', 'i-0bbbbbbbbbbbbbbb2', 'i-0ccccccccccccccc3'];

let rt: TestRuntime;
let source: TestCassandra;
let client: Client;
let config: Record<string, unknown>;

/** The source cluster's config, each node on its own host. */
function onHosts(description: Record<string, unknown>): Record<string, unknown> {
  const nodes = description.nodes as Array<Record<string, unknown>>;
  return { ...description, keyspaces: [KEYSPACE], nodes: nodes.map((node, i) => ({ ...node, host: HOSTS[i] })) };
}

async function manifestOf(backupId: string): Promise<BackupManifest> {
  const entry = (await rt.catalog.list({ engine: 'cassandra', instance: INSTANCE })).find((e) => e.backupId === backupId);
  if (!entry?.manifest) throw new Error(`no complete backup ${backupId}`);
  return entry.manifest;
}

/** Tags of the snapshots left on any node of the source. */
async function snapshotTags(): Promise<string[]> {
  const listed = await Promise.all(source.nodes.map((node) => listSnapshots(source.nodetoolTarget(node))));
  return [...new Set(listed.flat().map((e) => e.tag))];
}

/** Every node's facts of a manifest. */
function nodeFacts(manifest: BackupManifest): Array<{ uploadedBytes: number; bytes: number; tables: Array<{ digest: { stable: boolean; rows: number } }> }> {
  return Object.values((manifest.facts as { nodes: Record<string, never> }).nodes);
}

beforeAll(async () => {
  rt = await createTestRuntime();
  source = await startTestCassandra('backup-src', { count: 3, dataDirsPerNode: 2 });
  client = await source.connect();
  await seedKeyspace(client, { keyspace: KEYSPACE, replicationFactor: 2, rows: 300 });
  await spreadOverDataDirs(source, client, { keyspace: KEYSPACE, replicationFactor: 2, rows: 300 });
  config = onHosts(clusterDescription(source));
}, 600_000);

afterAll(async () => {
  await stopAllCassandra();
  await rt.dispose();
}, 120_000);

let first: BackupManifest;
let second: BackupManifest;

it('backs up every node of the ring on its own host: SSTables of both data dirs pooled, token map and digests recorded, snapshots cleared', async () => {
  // Act
  const summary = await rt.backup({ engine: 'cassandra', instance: INSTANCE, config });
  const { backupId } = summary;
  first = await manifestOf(backupId);

  // Assess: one node per ring node, with its tokens
  const consistency = (first.consistency as { nodes: Record<string, { address: string; tokens: string[]; tag: string }> }).nodes;
  expect(Object.values(consistency).map((c) => [c.address, c.tokens, c.tag])).toEqual(
    ['127.0.0.1', '127.0.0.2', '127.0.0.3'].map((address, i) => [address, [evenTokens(3)[i]], backupId]),
  );
  // Every SSTable component is a pool object of this instance, named after its sha256; both data dirs of every node are in it.
  const sstables = first.artifacts.filter((a) => a.name.includes('/d'));
  for (const artifact of sstables) expect(artifact.key).toBe(`pool/cassandra/${INSTANCE}/${artifact.sha256}`);
  for (const node of Object.keys(consistency)) {
    for (const dir of ['d0', 'd1']) expect(sstables.some((a) => a.name.startsWith(`${node}/${dir}/${KEYSPACE}/`) && a.name.endsWith('-Data.db'))).toBe(true);
  }
  // The schema travels with every node; each table counted and digested before and after the snapshot, equal.
  expect(first.artifacts.filter((a) => a.name.endsWith('/schema.json'))).toHaveLength(3);
  for (const facts of nodeFacts(first)) expect(facts.tables.map((t) => t.digest.stable)).toEqual([true, true, true]);
  // The pool was empty: every distinct component was sent, and a component whose bytes another node
  // had already sent (a TOC.txt is the same text everywhere) was not sent again, unless two nodes raced.
  const distinct = new Map(sstables.map((a) => [a.key, a.size]));
  const sent = nodeFacts(first).reduce((sum, f) => sum + f.uploadedBytes, 0);
  expect(sent).toBeGreaterThanOrEqual([...distinct.values()].reduce((sum, size) => sum + size, 0));
  expect(sent).toBeLessThanOrEqual(nodeFacts(first).reduce((sum, f) => sum + f.bytes, 0));
  // What the run says it sent counts those pooled bytes, and the schema files besides.
  expect(summary.sentBytes).toBeGreaterThan(sent);
  expect(await snapshotTags()).toEqual([]);
}, 600_000);

it('a second backup after a few new writes uploads only the SSTables that are new', async () => {
  // Prepare: ~1 % more rows, flushed into new SSTables by the backup
  await seedKeyspace(client, { keyspace: KEYSPACE, replicationFactor: 2, rows: 6, offset: 100_000 });

  // Act
  const { backupId } = await rt.backup({ engine: 'cassandra', instance: INSTANCE, config });
  second = await manifestOf(backupId);

  // Assess: what was sent is exactly the components whose content the first backup did not have
  const before = new Set(first.artifacts.map((a) => a.key));
  const fresh = second.artifacts.filter((a) => a.key.startsWith('pool/') && !before.has(a.key));
  const sent = nodeFacts(second).reduce((sum, f) => sum + f.uploadedBytes, 0);
  const total = nodeFacts(second).reduce((sum, f) => sum + f.bytes, 0);
  expect(fresh.length).toBeGreaterThan(0);
  expect(sent).toBe(fresh.reduce((sum, a) => sum + a.size, 0));
  expect(sent).toBeLessThan(total / 2);
  // Unchanged SSTables are listed again under the same pool keys.
  expect(second.artifacts.filter((a) => before.has(a.key)).length).toBeGreaterThan(0);
}, 600_000);

it('restores into a 3-node cluster of the same tokens: validated by digests, and equal to the source by an independent read', async () => {
  // Prepare
  const target = await startTestCassandra('backup-dst', { count: 3 });
  const expected = await readKeyspace(client, KEYSPACE);

  // Act
  const report = await rt.restore({ backupId: second.backupId, target: restoreTargetOf(target) });

  // Assess
  expect(report.validation.ok).toBe(true);
  expect(report.validation.checks.find((c) => c.name === 'rows-and-digests')).toMatchObject({ ok: true });
  const restored = await readKeyspace(await target.connect(), KEYSPACE);
  expect(Object.keys(restored)).toEqual(Object.keys(expected));
  for (const table of Object.keys(expected)) expect({ table, rows: restored[table] }).toEqual({ table, rows: expected[table] });
  await target.stop();
}, 900_000);

it('restores into a fresh 1-node cluster (another topology) by sstableloader: replication fitted, validated, equal to the source; a backup of it refused while a restore into it is unfinished', async () => {
  // Prepare: one node, one token the backup's ring does not have
  const target = await startTestCassandra('backup-one', { count: 1 });
  const expected = await readKeyspace(client, KEYSPACE);
  const description = restoreTargetOf(target);
  const targetClient = await target.connect();
  const backupOfTarget = () => rt.backup({ engine: 'cassandra', instance: 'restored', config: { ...clusterDescription(target), keyspaces: [KEYSPACE] } });

  // Act: a first restore whose load fails for good once its schema is created
  const stopped = scriptedHostRunner(rt.deps, {
    'restore-start': { result: () => ({ ok: false, error: { name: 'PermanentError', code: 'STOPPED_BY_TEST', message: 'host lost before its load' } }) },
  });
  const failed = await localWorkflows(rt, { waitMs: 10, definitions: shippedDefinitions(), hostRunner: stopped })
    .restore({ backupId: second.backupId, target: { ...description, method: 'auto' } }).catch((e: unknown) => e as Error);
  const backupRefused = await backupOfTarget().catch((e: unknown) => e as Error);

  // Assess: the target said partial, and a backup of it refused, naming the restore
  expect(failed).toMatchObject({ code: 'STOPPED_BY_TEST', message: expect.stringMatching(/target partial: .*keep this restore's mark in dbbackup\.unfinished_restores, so a backup of them is refused/) });
  expect(backupRefused).toMatchObject({ code: 'CASSANDRA_UNFINISHED_RESTORE' });
  expect((backupRefused as Error).message).toMatch(new RegExp(`^a restore into keyspace ${KEYSPACE} \\(restore \\S+ of backup ${second.backupId}, writing ${KEYSPACE}\\.\\w+, .*\\) did not finish or was not proven`));

  // Act: the restore again (its tables were created empty: no force needed), with a rate limit (the loader streams under its --throttle)
  const report = await rt.restore({ backupId: second.backupId, target: { ...description, method: 'auto' }, rateLimit: 100_000_000 });

  // Assess: every row of every node (RF 2 of 3 nodes: each row from two backups) in one node, once
  expect(report.validation.ok).toBe(true);
  expect(report.validation.checks.find((c) => c.name === 'rows-and-digests')).toMatchObject({ ok: true });
  // The proven restore took its mark and the failed attempt's (which wrote only tables it replaced) away: the target backs up.
  expect((await targetClient.execute('SELECT restore_id FROM dbbackup.unfinished_restores')).rows).toEqual([]);
  expect((await backupOfTarget()).backupId).toBeDefined();
  const keyspace = await targetClient.execute('SELECT strategy_options FROM system.schema_keyspaces WHERE keyspace_name = ?', [KEYSPACE]);
  expect(JSON.parse(keyspace.rows[0].strategy_options as string)).toEqual({ replication_factor: '1' });
  const restored = await readKeyspace(targetClient, KEYSPACE);
  expect(Object.keys(restored)).toEqual(Object.keys(expected));
  for (const table of Object.keys(expected)) expect({ table, rows: restored[table] }).toEqual({ table, rows: expected[table] });

  // Act: the same target refused as a place for an in-place (refresh) restore
  const refused = await rt.restore({ backupId: second.backupId, target: { ...description, method: 'refresh' }, force: true }).catch((e: unknown) => e as Error);

  // Assess
  expect(String((refused as Error).message)).toMatch(/CASSANDRA_TOPOLOGY_DIFFERS|ring is not the backup's/);
  await target.stop();
}, 900_000);

it('a node that fails during its snapshot fails the whole backup: snapshots cleared on every node, nothing complete; a rerun succeeds', async () => {
  // Prepare: the third host's snapshot step takes its snapshot and then fails
  const failing = scriptedHostRunner(rt.deps, {
    'backup-snapshot': {
      async result(input, runForReal): Promise<AgentResult> {
        const done = await runForReal();
        const node = input.node as { host?: string };
        return node.host === HOSTS[2] ? { ok: false, error: { name: 'PermanentError', code: 'SCRIPTED', message: 'host lost during the snapshot' } } : done;
      },
    },
  });
  const workflows = localWorkflows(rt, { waitMs: 10, definitions: shippedDefinitions(), hostRunner: failing });
  const completeBefore = (await rt.catalog.list({ engine: 'cassandra', instance: INSTANCE })).length;

  // Act
  const error = await workflows.backup({ engine: 'cassandra', instance: INSTANCE, config }).catch((e: unknown) => e as Error);

  // Assess
  expect(error).toBeInstanceOf(Error);
  expect(String((error as Error).message)).toMatch(/host lost during the snapshot/);
  expect(failing.submitted.filter((c) => c.step === 'backup-cleanup').map((c) => c.host).sort()).toEqual([...HOSTS].sort());
  expect(await snapshotTags()).toEqual([]);
  expect((await rt.catalog.list({ engine: 'cassandra', instance: INSTANCE })).length).toBe(completeBefore);

  // Act: the rerun
  const rerun = await rt.backup({ engine: 'cassandra', instance: INSTANCE, config });

  // Assess
  expect((await manifestOf(rerun.backupId)).validation.ok).toBe(true);
  expect(await snapshotTags()).toEqual([]);
}, 900_000);

it('refuses a node whose dataDirs are not its data directories: its snapshot holds none of the rows it serves, so nothing is recorded as a backup', async () => {
  // Prepare: the second node's data dirs named as an empty directory
  const elsewhere = await tempDir('cassandra-not-data');
  const nodes = (config.nodes as Array<Record<string, unknown>>).map((node, i) => (i === 1 ? { ...node, dataDirs: [elsewhere] } : node));
  const completeBefore = (await rt.catalog.list({ engine: 'cassandra', instance: INSTANCE })).length;

  // Act
  const error = await rt.backup({ engine: 'cassandra', instance: INSTANCE, config: { ...config, nodes } }).then(() => new Error('no error'), (e: unknown) => e as Error & { code?: string });

  // Assess
  expect(error).toMatchObject({ code: 'CASSANDRA_SNAPSHOT_EMPTY' });
  expect(error.message).toContain(`rows it serves (${KEYSPACE}.`);
  expect(error.message).toContain(`under ${elsewhere}: is dataDirs the node's data_file_directories`);
  expect((await rt.catalog.list({ engine: 'cassandra', instance: INSTANCE })).length).toBe(completeBefore);
  expect(await snapshotTags()).toEqual([]);
}, 900_000);

it('a table whose rows were all deleted after the backup holds tombstones, not nothing: a restore in place is refused without force (nothing written) and restores every row with it', async () => {
  // Prepare: keyspace gone (RF 2) backed up on its own, then every row deleted on the source (the tombstones in the memtables)
  const gone = 'gone';
  const ids = Array.from({ length: 30 }, (_, id) => id);
  const options = { prepare: true, consistency: types.consistencies.all };
  await client.execute(`CREATE KEYSPACE ${gone} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 2}`);
  await client.execute(`CREATE TABLE ${gone}.t (id int PRIMARY KEY, v text)`);
  for (const id of ids) await client.execute(`INSERT INTO ${gone}.t (id, v) VALUES (?, ?)`, [id, `v${id}`], options);
  const expected = await readKeyspace(client, gone);
  const { backupId } = await rt.backup({ engine: 'cassandra', instance: 'ring-gone', config: { ...config, keyspaces: [gone] } });
  for (const id of ids) await client.execute(`DELETE FROM ${gone}.t WHERE id = ?`, [id], options);
  // One contact point: the tests allow forced restores to 127.0.0.1 only.
  const target = { ...restoreTargetOf(source), contactPoints: [source.contactPoints[0]], keyspaces: [gone] };
  const dataFiles = async () => (await Promise.all(source.nodes.flatMap((node) => node.dataDirs).map((dir) => liveDataFiles(dir, gone)))).flat().sort();
  const filesBefore = await dataFiles();
  const failure = (restore: Promise<unknown>) => restore.then(() => new Error('no error'), (e: unknown) => e as Error & { code?: string });

  // Act
  const refused = await failure(rt.restore({ backupId, target }));
  const filesAfterRefusal = await dataFiles();
  const rowsAfterRefusal = (await client.execute(`SELECT * FROM ${gone}.t`, [], options)).rowLength;
  const forced = await rt.restore({ backupId, target, force: true });

  // Assess: refused naming the table and what it holds; nothing placed, nothing truncated
  expect(refused).toMatchObject({ name: 'PermanentError', code: 'TARGET_NOT_EMPTY' });
  expect(refused.message).toMatch(/the target's tables gone\.t \(127\.0\.0\.1: SSTables \d+, memtable cells \d+; .*\) hold no rows a read returns but hold deletions \(tombstones\)/);
  expect(refused.message).toContain('restore with force to truncate them first');
  expect(filesAfterRefusal).toEqual(filesBefore);
  expect(rowsAfterRefusal).toBe(0);
  // Forced: truncated, then every row back, proven by the digests and by an independent read
  expect(forced.validation.ok).toBe(true);
  expect(forced.validation.checks.find((c) => c.name === 'rows-and-digests')).toMatchObject({ ok: true });
  expect(await readKeyspace(client, gone)).toEqual(expected);

  // Prepare: the table truncated, then a row that is not there deleted (a tombstone in the memtable, no SSTable)
  await client.execute(`TRUNCATE ${gone}.t`);
  await client.execute(`DELETE FROM ${gone}.t WHERE id = 3`, [], options);

  // Act
  const again = await failure(rt.restore({ backupId, target }));

  // Assess
  expect(again).toMatchObject({ code: 'TARGET_NOT_EMPTY' });
  expect(again.message).toContain(': SSTables 0, memtable cells 1');
  expect(await dataFiles()).toEqual([]);
}, 900_000);
