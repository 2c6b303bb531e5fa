/**
 * The Docstore driver end to end, through the synthesized state machines run in process, on real
 * MariaDB servers: three partitions on three servers, thousands of documents (unicode JSON, typed
 * columns, two indexes whose entries sit on other partitions than their documents), a writer
 * running during the backup, and an index entry without its document and a document without its
 * entry on the source; restored onto two servers, the index repaired and counted, proven by the
 * driver's validation and by an independent read.
 */
import { rm } from 'node:fs/promises';
import { withServer } from '../../../drivers/mysql/sharded/sample-server';
import { markShardDatabase } from '../../../drivers/mysql/sharded/shard-restore-marker';
import { shardOf } from '../../../drivers/mysql/sharded/shard-map';
import { docstoreRestoreTargetSchema, type DocstoreConfig } from '../../../drivers/docstore/config';
import docstore from '../../../drivers/docstore';
import type { JsonObject } from '../../../core/driver/types';
import { silentLogger } from '../../../core/logger';
import { deletePrefix } from '../../../core/store/blob-store';
import { tempDir } from '../../harness/test-run';
import { freePort } from '../../harness/ports';
import { SAMPLE_SCHEMA, createSamplePartitions, sampleConfig, writeSampleDocuments } from '../../../drivers/docstore/sample-store';
import { quoteId } from '../../../drivers/mysql/shared/connection';
import { checkDocuments } from '../../../drivers/docstore/document-check';
import { startTestMariaDb, stopAllMariaDb, type TestMariaDb } from '../../harness/mariadb';
import { createTestRuntime, shippedDefinitions, type TestRuntime } from '../../harness/runtime';
import { holdEmptyTable } from '../../harness/held-table';
import { applyFailsSpoolLost, scriptedHostRunner } from '../../harness/scripted-host-runner';
import type { AgentResult } from '../../../core/agent/agent-steps';
import type { RestoreReport } from '../../../core/restore/restore-state';
import { localWorkflows } from '../../../statemachines/local/local-workflows';
import { documentTableDdl } from '../../../drivers/docstore/layout';
import { misplacedNamed, swapFirstTwo } from '../../fixtures/sharded/swapped-map';
import type { TableDefinition } from '../../../drivers/docstore/layout';

const PARTITIONS = 3;
const TRIPS = 3_000;

let sources: TestMariaDb[];
let targets: TestMariaDb[];
let config: DocstoreConfig;
let rt: TestRuntime;

const named = (servers: TestMariaDb[], prefix: string) => servers.map((s, i) => ({ name: `${prefix}-${i + 1}`, host: s.host, port: s.port }));

type Place = Pick<DocstoreConfig, 'servers' | 'partitions'>;

/** Runs `sql` on every partition of `place`; rows per partition. */
async function onEach(place: Place, sql: (database: string) => string): Promise<unknown[][][]> {
  const results: unknown[][][] = [];
  for (const partition of [...place.partitions].sort((a, b) => a.partition - b.partition)) {
    const server = place.servers.find((s) => s.name === partition.server)!;
    results.push(await withServer(server, async (c) => (await c.query({ sql: sql(quoteId(partition.database)), rowsAsArray: true }))[0] as unknown[][]));
  }
  return results;
}

/** The documents of every table, partition by partition, in key order. */
const documents = (place: Place) => Promise.all(Object.keys(SAMPLE_SCHEMA).map((table) => onEach(place, (db) => `SELECT * FROM ${db}.${table} ORDER BY partition_key, sort_key`)));

beforeAll(async () => {
  sources = [];
  targets = [];
  for (let i = 0; i < 3; i += 1) sources.push(await startTestMariaDb(`ds-src-${i}`, 80 + i));
  for (let i = 0; i < 2; i += 1) targets.push(await startTestMariaDb(`ds-dst-${i}`, 90 + i));
  config = sampleConfig(named(sources, 'ds'), PARTITIONS);
  await createSamplePartitions(config);
  await writeSampleDocuments(config, 1, TRIPS);
  rt = await createTestRuntime();
}, 240_000);

afterAll(async () => {
  await rt?.dispose();
  await stopAllMariaDb();
});

it('backs up three partitions while a writer runs and restores them onto two servers, every index entry resolving to its document', async () => {
  // Prepare: an entry whose document does not exist, and a document whose entry does not
  const ghost = Buffer.from('Atlantis', 'utf8');
  const ghostPartition = config.partitions[shardOf(ghost, PARTITIONS)];
  await withServer(config.servers.find((s) => s.name === ghostPartition.server)!, (c) =>
    c.query(`INSERT INTO ${quoteId(ghostPartition.database)}.trips_by_city VALUES (?, 'rider-nobody', 'trip-none')`, [ghost]));
  const city = Buffer.from('Zürich', 'utf8');
  const cityPartition = config.partitions[shardOf(city, PARTITIONS)];
  await withServer(config.servers.find((s) => s.name === cityPartition.server)!, (c) =>
    c.query(`DELETE FROM ${quoteId(cityPartition.database)}.trips_by_city WHERE index_key = ? ORDER BY partition_key, sort_key LIMIT 1`, [city]));
  // A rider whose email (142 characters, 272 bytes) is longer than an index key holds: the store has no entry for it (a strict server refuses one).
  const longEmail = `${'é'.repeat(130)}@example.com`;
  const longRider = Buffer.from('rider-long-email', 'utf8');
  const longPartition = config.partitions[shardOf(longRider, PARTITIONS)];
  await withServer(config.servers.find((s) => s.name === longPartition.server)!, (c) =>
    c.query(`INSERT INTO ${quoteId(longPartition.database)}.riders (partition_key, sort_key, doc, email) VALUES (?, 'profile', ?, ?)`,
      [longRider, JSON.stringify({ rider_id: 'rider-long-email', kind: 'profile', email: longEmail }), longEmail]));
  let writing = true;
  let written = TRIPS;
  const writer = (async () => {
    while (writing) {
      await writeSampleDocuments(config, written + 1, written + 30);
      written += 30;
    }
  })();

  // Act
  let backup;
  try {
    backup = await rt.backup({ engine: 'docstore', instance: 'rides', config });
  } finally {
    writing = false;
    await writer;
  }
  const onTarget = sampleConfig(named(targets, 'target'), PARTITIONS, 'restored');
  const report = await rt.restore({ backupId: backup.backupId, target: { servers: onTarget.servers, partitions: onTarget.partitions } });

  // Assess: the backup says no snapshot spans the partitions; the restore proves itself
  expect(Object.values((backup.consistency as { nodes: Record<string, { globalSnapshot: boolean; gtid: string }> }).nodes).map((n) => n.globalSnapshot)).toEqual([false, false, false]);
  expect(report.validation.ok).toBe(true);
  const integrity = report.validation.checks.find((c) => c.name === 'index-integrity')!;
  const [, dangling, missing] = /(\d+) dangling entries removed, (\d+) missing added/.exec(integrity.detail ?? '')!.map(Number);
  expect(dangling).toBeGreaterThanOrEqual(1);
  expect(missing).toBeGreaterThanOrEqual(1);
  expect(report.validation.checks.find((c) => c.name === 'documents')?.ok).toBe(true);
  // Independently: the restored documents are the backed-up ones (the source holds the writer's later ones too) ...
  const restored = await documents(onTarget);
  const restoredTrips = restored[Object.keys(SAMPLE_SCHEMA).indexOf('trips')].flat();
  expect(restoredTrips.length).toBeGreaterThanOrEqual(TRIPS);
  const source = await documents(config);
  for (const [t, partitions] of restored.entries()) {
    for (const [p, rows] of partitions.entries()) {
      const keys = new Set(source[t][p].map((r) => JSON.stringify(r)));
      expect(rows.filter((r) => !keys.has(JSON.stringify(r)))).toEqual([]);
    }
  }
  // ... and each index holds exactly one entry per document with a value that fits an index key, on the value's partition.
  for (const [table, definition] of Object.entries(SAMPLE_SCHEMA)) {
    for (const index of definition.indexes) {
      const expected = (await onEach(onTarget, (db) => `SELECT HEX(CAST(${quoteId(index.column)} AS BINARY)), HEX(partition_key), HEX(sort_key) FROM ${db}.${table} WHERE LENGTH(CAST(${quoteId(index.column)} AS BINARY)) <= 255`))
        .flat().map((r) => ({ entry: r.join(' '), partition: shardOf(Buffer.from(String(r[0]), 'hex'), PARTITIONS) }));
      const held = await onEach(onTarget, (db) => `SELECT HEX(index_key), HEX(partition_key), HEX(sort_key) FROM ${db}.${index.table}`);
      for (let p = 0; p < PARTITIONS; p += 1) {
        expect(held[p].map((r) => r.join(' ')).sort()).toEqual(expected.filter((e) => e.partition === p).map((e) => e.entry).sort());
      }
    }
  }
}, 300_000);

it('refuses to back up partitions whose schema tables differ across servers (a schema change on some servers only), naming both: no restore could take it', async () => {
  // Prepare: partition 1's server describes one more table
  const second = config.partitions.find((p) => p.partition === 1)!;
  const server = config.servers.find((s) => s.name === second.server)!;
  const table = `${quoteId(second.database)}.${quoteId(config.schemaTable)}`;
  await withServer(server, (c) => c.query(`INSERT INTO ${table} (table_name, definition) SELECT 'trips_later', definition FROM ${table} WHERE table_name = 'trips'`));

  // Act
  const refused = rt.backup({ engine: 'docstore', instance: 'split-schema', config });

  // Assess
  try {
    await expect(refused).rejects.toMatchObject({ code: 'DOCSTORE_SCHEMA_DIFFERS', message: expect.stringContaining(`the schema table of partition 1 (${second.database} on ${second.server}) differs from partition 0's`) });
    expect(await rt.catalog.list({ engine: 'docstore', instance: 'split-schema' })).toEqual([]);
  } finally {
    await withServer(server, (c) => c.query(`DELETE FROM ${table} WHERE table_name = 'trips_later'`));
  }
}, 120_000);

it('refuses to mark complete a backup whose servers read different schemas, though the change reached every server before the second snapshot', async () => {
  // Prepare: the first server's snapshot is taken, then the schema changes on every server at once, then the others' are
  const rollOut = (definition: TableDefinition) => Promise.all(config.partitions.map((p) => withServer(config.servers.find((s) => s.name === p.server)!, (c) =>
    c.query(`UPDATE ${quoteId(p.database)}.${quoteId(config.schemaTable)} SET definition = ? WHERE table_name = 'riders'`, [JSON.stringify(definition)]))));
  let firstTaken!: () => void;
  const rolledOut = new Promise<void>((resolve) => { firstTaken = resolve; });
  const hostRunner = scriptedHostRunner(rt.deps, {
    'backup-snapshot': {
      async result(input, runForReal) {
        if ((input.node as { name: string }).name !== config.servers[0].name) return rolledOut.then(runForReal);
        const taken = await runForReal();
        await rollOut({ ...SAMPLE_SCHEMA.riders, indexes: [] }); // riders lose their index everywhere
        firstTaken();
        return taken;
      },
    },
  });
  const workflows = localWorkflows(rt, { waitMs: 10, retryIntervalMs: 10, definitions: shippedDefinitions(), hostRunner });

  try {
    // Act
    const refused = await workflows.backup({ engine: 'docstore', instance: 'rollout', config: config as unknown as JsonObject }).catch((e: unknown) => e as Error);

    // Assess: each snapshot passed its own check; together they are refused, nothing is complete, and the failed backup's objects are gone
    expect(refused).toBeInstanceOf(Error);
    expect(String((refused as Error).message)).toMatch(/DOCSTORE_SCHEMA_DIFFERS|the schema changed between the two servers' snapshots/);
    expect(String((refused as Error).message)).toContain(`differs from the one ${config.servers[0].name}'s read`);
    expect(hostRunner.submitted.filter((c) => c.step === 'backup-snapshot')).toHaveLength(config.servers.length);
    expect(await rt.catalog.list({ engine: 'docstore', instance: 'rollout', includeIncomplete: true })).toEqual([]);
  } finally {
    await rollOut(SAMPLE_SCHEMA.riders);
  }
}, 120_000);

it('checks a typed integer column against its field as the number the field is (1e3 is 1000, 1000.5 is no integer)', async () => {
  // Prepare: two trips of one rider, their distance written in exponent form and as a fraction
  const rider = Buffer.from('rider-exponent', 'utf8');
  const place = config.partitions[shardOf(rider, PARTITIONS)];
  const server = config.servers.find((s) => s.name === place.server)!;
  const table = `${quoteId(place.database)}.trips`;
  const insert = (trip: string, distance: string) => withServer(server, (c) => c.query(
    `INSERT INTO ${table} (partition_key, sort_key, doc, city, fare, distance_m) VALUES (?, ?, ?, NULL, NULL, 1000)`,
    [rider, Buffer.from(trip), `{"rider_id":"rider-exponent","trip_id":"${trip}","distance_m":${distance}}`]));
  const check = () => withServer(server, (connection) => checkDocuments({ shard: place.partition, database: place.database, connection }, 'trips', SAMPLE_SCHEMA.trips, PARTITIONS));

  try {
    // Act
    await insert('exponent', '1e3');
    const exponent = await check();
    await insert('fraction', '1000.5');
    const fraction = await check();

    // Assess
    expect(exponent.wrongColumns.distance_m).toBe(0);
    expect(fraction.wrongColumns.distance_m).toBe(1);
  } finally {
    await withServer(server, (c) => c.query(`DELETE FROM ${table} WHERE partition_key = ?`, [rider]));
  }
}, 120_000);

it('restores a source whose document disagrees with its typed column as the source held it: validated, the disagreement named as the source\'s own', async () => {
  // Prepare: a trip whose distance column disagrees with its document's field (a client wrote them apart)
  const rider = Buffer.from('rider-disagrees', 'utf8');
  const place = config.partitions[shardOf(rider, PARTITIONS)];
  const server = config.servers.find((s) => s.name === place.server)!;
  const table = `${quoteId(place.database)}.trips`;
  await withServer(server, (c) => c.query(
    `INSERT INTO ${table} (partition_key, sort_key, doc, city, fare, distance_m) VALUES (?, ?, ?, NULL, NULL, 9007199254740992)`,
    [rider, Buffer.from('apart'), '{"rider_id":"rider-disagrees","trip_id":"apart","distance_m":9007199254740993}']));
  const onTarget = sampleConfig(named(targets, 'disagrees'), PARTITIONS, 'disagrees');
  const target = docstoreRestoreTargetSchema.parse({ servers: onTarget.servers, partitions: onTarget.partitions });

  try {
    // Act
    const backup = await rt.backup({ engine: 'docstore', instance: 'disagrees', config });
    const report = await rt.restore({ backupId: backup.backupId, target });

    // Assess: restored as the source was, and said so
    expect(report.validation.ok).toBe(true);
    expect(report.validation.checks.find((c) => c.name === 'documents')).toMatchObject({
      ok: true,
      detail: expect.stringMatching(new RegExp(`restored as the source held them; the source's own disagreements, as backed up \\(every table digest-equal to the dump\\): partition ${place.partition} trips: 1 with distance_m other than their field$`)),
    });
    expect(await documents(onTarget)).toEqual(await documents(sampleConfig(named(sources, 'ds'), PARTITIONS)));
  } finally {
    await withServer(server, (c) => c.query(`DELETE FROM ${table} WHERE partition_key = ?`, [rider]));
  }
}, 300_000);

it('refuses to back up through a partition map that swaps two partitions\' databases, naming where their documents belong', async () => {
  // Prepare: partitions 0 and 1 each named by the other's place
  const { swapped, zero, one } = swapFirstTwo(config.partitions, 'partition');

  // Act
  const refused = rt.backup({ engine: 'docstore', instance: 'swapped', config: { ...config, partitions: swapped } });

  // Assess
  await expect(refused).rejects.toMatchObject({ code: 'SHARD_MAP_MISMATCH' });
  const named = [0, 1].flatMap((n) => ['riders', 'trips'].map((table) => `partition ${n} (${(n === 0 ? one : zero).database}.${table}) holds rows of partition ${1 - n}`));
  expect(named).toContain(await misplacedNamed(refused, 'partition'));
  expect(await rt.catalog.list({ engine: 'docstore', instance: 'swapped' })).toEqual([]);
}, 120_000);

it('refuses a target of another number of partitions before touching it', async () => {
  // Prepare
  const backupId = (await rt.catalog.list({ engine: 'docstore', instance: 'rides' }))[0].backupId;
  const onTarget = sampleConfig(named(targets, 'target'), 2, 'two');

  // Act
  const refused = rt.restore({ backupId, target: { servers: onTarget.servers, partitions: onTarget.partitions } });

  // Assess
  await expect(refused).rejects.toMatchObject({ code: 'DOCSTORE_PARTITION_COUNT' });
}, 120_000);

it('checks the target is still empty just before it writes: a document written there after the restore prepared it is kept, and the restore refused', async () => {
  // Prepare: an empty riders table on the target; a rider written to it once the restore has downloaded the backup
  const onTarget = sampleConfig(named(targets, 'target'), PARTITIONS, 'late');
  const place = onTarget.partitions[0];
  const server = onTarget.servers.find((s) => s.name === place.server)!;
  await withServer(server, async (c) => {
    await c.query(`CREATE DATABASE ${quoteId(place.database)}`);
    await c.query(`CREATE TABLE ${quoteId(place.database)}.riders ${documentTableDdl('riders', SAMPLE_SCHEMA.riders).replace(/^CREATE TABLE \S+ /, '')}`);
  });

  // Act
  const refused = restoreAroundApply(onTarget, async (runForReal) => {
    await withServer(server, (c) => c.query(`INSERT INTO ${quoteId(place.database)}.riders (partition_key, sort_key, doc, email) VALUES ('rider-late', 'profile', '{}', NULL)`));
    return runForReal();
  });

  // Assess
  await expect(refused).rejects.toMatchObject({ code: 'TARGET_NOT_EMPTY' });
  await expect(refused).rejects.toThrow(`${place.database}.riders`);
  const [kept] = await onEach({ servers: onTarget.servers, partitions: [place] }, (db) => `SELECT partition_key FROM ${db}.riders`);
  expect(kept.map(([key]) => String(key))).toEqual(['rider-late']);
}, 120_000);

/**
 * A restore whose first load fails once writing began (partition 1's riders table held, so its
 * DROP times out: a transient MYSQL_BUSY), `between` run before its retry: how many attempts it
 * took, and its report.
 */
async function retriedAfterWriting(label: string, between: () => Promise<void>): Promise<{ attempts: number; report: RestoreReport }> {
  const onTarget = sampleConfig(named(targets, 'target'), PARTITIONS, label);
  const held = await holdRiders(onTarget);
  let attempts = 0;
  try {
    const report = await restoreAroundApply(onTarget, async (runForReal) => {
      attempts += 1;
      const result = await runForReal();
      if (attempts === 1) {
        await between();
        await held.release();
      }
      return result;
    });
    return { attempts, report };
  } finally {
    await held.end();
  }
}

it('retries a load that failed after it began writing: the retry finds its own earlier attempt\'s tables, not a target that holds data, and the restore proves itself', async () => {
  // Act
  const { attempts, report } = await retriedAfterWriting('retried', async () => undefined);

  // Assess
  expect(attempts).toBe(2);
  expect(report.validation.ok).toBe(true);
}, 180_000);

it('retries a load that failed after it began writing on a host whose spool was lost meanwhile: the marks in the databases it wrote tell its own tables from data it must not replace', async () => {
  // Act: between the attempts the host's spool goes (a host replaced, its disk wiped)
  const { attempts, report } = await retriedAfterWriting('spool_lost', () => rm(rt.spoolRoot, { recursive: true, force: true }));

  // Assess
  expect(attempts).toBe(2);
  expect(report.validation.ok).toBe(true);
}, 180_000);

it('says a restore that failed after it began writing left the partitions part written, even when the host\'s spool went before its cleanup: the marks in the databases tell', async () => {
  // Prepare: the load fails for good after it began writing; the spool goes before the cleanup runs
  const onTarget = sampleConfig(named(targets, 'target'), PARTITIONS, 'cleanup_lost');
  const held = await holdRiders(onTarget);
  const backupId = (await rt.catalog.list({ engine: 'docstore', instance: 'rides' }))[0].backupId;
  const hostRunner = applyFailsSpoolLost(rt.deps, rt.spoolRoot);

  // Act
  const failed = localWorkflows(rt, { waitMs: 10, retryIntervalMs: 10, definitions: shippedDefinitions(), hostRunner })
    .restore({ backupId, target: { servers: onTarget.servers, partitions: onTarget.partitions } });

  // Assess
  try {
    await expect(failed).rejects.toMatchObject({ code: 'STOPPED_BY_TEST' });
    await expect(failed).rejects.toThrow(/target partial: the partition databases of .* hold part of backup .*; it wrote \S+/);
  } finally {
    await held.end();
  }
}, 180_000);

it('says, after a failure before writing, that the target was not written to by this host\'s spool when the partition databases cannot be read for marks a lost spool\'s attempt left', async () => {
  // Prepare: a restore whose spool holds no marker, its servers at a port nobody listens on
  const port = await freePort();
  const onTarget = sampleConfig(named(targets, 'target').map((s) => ({ ...s, port })), PARTITIONS, 'unreadable');
  const target = docstoreRestoreTargetSchema.parse({ servers: onTarget.servers, partitions: onTarget.partitions });
  const backup = (await rt.catalog.get((await rt.catalog.list({ engine: 'docstore', instance: 'rides' }))[0].backupId)).manifest!;
  const ctx = { backupId: backup.backupId, instance: 'rides', backup, target, node: { name: 'default' }, spoolDir: await tempDir('ds-unreadable'), force: false, restoreId: 'unreadable', logger: silentLogger };

  // Act
  const cleanup = await docstore.restore!.cleanup!(ctx, {});

  // Assess
  expect(cleanup).toMatchObject({
    target: 'untouched',
    detail: expect.stringMatching(/^by this host's spool, the partition databases of target-1, target-2 were not written to \(their own marks, which would show an attempt whose spool was lost, could not be read: .+\)$/),
  });
}, 60_000);

it('refuses, once its read view is open, a partition database a restore began writing after the backup checked its servers', async () => {
  // Prepare: partitions on the targets; between the backup's first step (which finds no mark) and its snapshot, a restore marks one
  const onTarget = sampleConfig(named(targets, 'target'), PARTITIONS, 'late_mark');
  await createSamplePartitions(onTarget);
  const place = onTarget.partitions[2];
  let marking: Promise<void> | undefined; // the step runs once per server: the mark is made once
  const hostRunner = scriptedHostRunner(rt.deps, {
    'backup-snapshot': {
      async result(_input, runForReal) {
        await (marking ??= withServer(onTarget.servers.find((s) => s.name === place.server)!, (c) => markShardDatabase(c, place.database, 'a-restore-starting', 'some-backup')));
        return runForReal();
      },
    },
  });

  // Act
  const backup = localWorkflows(rt, { waitMs: 10, retryIntervalMs: 10, definitions: shippedDefinitions(), hostRunner }).backup({ engine: 'docstore', instance: 'late-mark', config: onTarget });

  // Assess
  await expect(backup).rejects.toMatchObject({ code: 'DOCSTORE_UNFINISHED_RESTORE' });
  await expect(backup).rejects.toThrow(`docstore database ${place.database} on ${place.server} holds table __dbbackup_restore_in_progress`);
}, 120_000);

/**
 * Partition 1's riders table on `onTarget` created, and read in an open transaction on its server
 * with `lock_wait_timeout` 1 s there, so a load's DROP of it times out (a transient MYSQL_BUSY);
 * `release` commits and puts the timeout back, `end` also closes the holding connection.
 */
async function holdRiders(onTarget: DocstoreConfig) {
  const place = onTarget.partitions[1];
  const server = onTarget.servers.find((s) => s.name === place.server)!;
  return { place, ...await holdEmptyTable(await targets[onTarget.servers.indexOf(server)].connect(), place.database, 'riders') };
}

it('marks each partition database it writes until the restore finishes: a backup of a half-restored target is refused, and a finished restore leaves no mark', async () => {
  // Prepare: partition 1's riders table held, so every attempt's DROP of it times out once writing began
  const onTarget = sampleConfig(named(targets, 'target'), PARTITIONS, 'halfway');
  const held = await holdRiders(onTarget);
  const marked = async () => (await onEach(onTarget, (db) => `SELECT table_name FROM information_schema.tables WHERE table_schema = '${db.slice(1, -1)}' AND table_name = '__dbbackup_restore_in_progress'`))
    .flatMap((rows, partition) => (rows.length > 0 ? [onTarget.partitions[partition].database] : []));

  let failed: unknown;
  try {
    // Act: the restore fails part way, as one killed would stop
    failed = await restoreAroundApply(onTarget, (runForReal) => runForReal()).then(() => undefined, (error: unknown) => error);
  } finally {
    await held.end();
  }
  const halfway = await marked();
  const backupOfHalf = rt.backup({ engine: 'docstore', instance: 'half-restored', config: onTarget });

  // Assess: the written databases say so, and the store they make up is not backed up as a whole one
  expect(failed).toBeDefined();
  expect(halfway).toContain(held.place.database);
  await expect(backupOfHalf).rejects.toMatchObject({ code: 'DOCSTORE_UNFINISHED_RESTORE' });
  await expect(backupOfHalf).rejects.toThrow(/^docstore databases? halfway_\d on target-\d(, halfway_\d on target-\d)* holds? table __dbbackup_restore_in_progress: a restore into (it|them) did not finish/);
  await expect(backupOfHalf).rejects.toThrow(`${held.place.database} on ${held.place.server}`);
  expect((await rt.catalog.list({ engine: 'docstore', instance: 'half-restored', includeIncomplete: true })).filter((b) => b.status === 'complete')).toEqual([]);

  // Act: the restore done again (it replaces what the first one wrote), then a backup of its target;
  // the failed attempts opened the target's circuit breaker, which an operator resets as its message says
  await deletePrefix(rt.store, 'state/circuit-breakers/');
  const backupId = (await rt.catalog.list({ engine: 'docstore', instance: 'rides' }))[0].backupId;
  const report = await rt.restore({ backupId, target: { servers: onTarget.servers, partitions: onTarget.partitions }, force: true });
  const after = await marked();
  const backupOfWhole = await rt.backup({ engine: 'docstore', instance: 'half-restored', config: onTarget });

  // Assess
  expect(report.validation.ok).toBe(true);
  expect(after).toEqual([]);
  expect(backupOfWhole.validation.ok).toBe(true);
  expect(backupOfWhole.bytes).toBeGreaterThan(0);
}, 180_000);

/**
 * The rides backup restored onto `onTarget` through workflows whose apply step runs `apply` in its
 * place (given the real step to run), retried as the state machine retries it.
 */
async function restoreAroundApply(onTarget: Place, apply: (runForReal: () => Promise<AgentResult>) => Promise<AgentResult>): Promise<RestoreReport> {
  const backupId = (await rt.catalog.list({ engine: 'docstore', instance: 'rides' }))[0].backupId;
  const hostRunner = scriptedHostRunner(rt.deps, { 'restore-apply': { result: (_input, runForReal) => apply(runForReal) } });
  return localWorkflows(rt, { waitMs: 10, retryIntervalMs: 10, definitions: shippedDefinitions(), hostRunner }).restore({ backupId, target: { servers: onTarget.servers, partitions: onTarget.partitions } });
}

/** Bytes the servers of `place` have sent their clients so far (global status). */
async function bytesSent(place: Place): Promise<number> {
  let sum = 0;
  for (const server of place.servers) {
    sum += await withServer(server, async (c) => Number(((await c.query({ sql: "SHOW GLOBAL STATUS LIKE 'Bytes_sent'", rowsAsArray: true }))[0] as unknown[][])[0][1]));
  }
  return sum;
}

it('proves the schema and document tables as each is loaded: the validation counts the documents again instead of reading them to the client again, and fails on a table that read back otherwise or holds a document less now', async () => {
  // Prepare: a backup restored onto the targets
  const backup = await rt.backup({ engine: 'docstore', instance: 'proven', config });
  const onTarget = sampleConfig(named(targets, 'proven'), PARTITIONS, 'proven');
  const target = docstoreRestoreTargetSchema.parse({ servers: onTarget.servers, partitions: onTarget.partitions });
  const report = await rt.restore({ backupId: backup.backupId, target });
  const entry = await rt.catalog.get(backup.backupId);
  const ctx = { backupId: backup.backupId, instance: 'proven', backup: entry.manifest!, target, node: { name: 'default' }, spoolDir: await tempDir('ds-proven'), force: false, restoreId: 'proven', logger: silentLogger };
  const endpoint = report.endpoint as JsonObject & { readBack: { tables: number; differ: string[]; differCount: number } };
  const documentBytes = (await onEach(onTarget, (db) => `SELECT SUM(LENGTH(doc)) FROM ${db}.trips`)).reduce((sum, [[n]]) => sum + Number(n), 0);
  const validated = async (readBack: JsonObject | undefined) => {
    const before = await bytesSent(onTarget);
    const { readBack: _recorded, ...rest } = endpoint;
    const validation = await docstore.restore!.validateRestore(ctx, { endpoint: { ...rest, ...(readBack ? { readBack } : {}) }, bytes: 0, durationMs: 0 });
    return { validation, sent: (await bytesSent(onTarget)) - before };
  };

  // Act
  const proven = await validated(endpoint.readBack);
  const unproven = await validated(undefined); // a restore recorded by an older version: no read-back
  const differed = await validated({ ...endpoint.readBack, differ: ['proven_1.trips: digest differs'], differCount: 3 }); // as the loader words it
  const place = onTarget.partitions[1];
  await withServer(onTarget.servers.find((s) => s.name === place.server)!, (c) => c.query(`DELETE FROM ${quoteId(place.database)}.trips ORDER BY partition_key LIMIT 1`));
  const fewer = await validated(endpoint.readBack);

  // Assess
  expect(report.validation.ok).toBe(true);
  expect(endpoint.readBack.tables).toBe(PARTITIONS * (1 + Object.keys(SAMPLE_SCHEMA).length)); // each partition's schema and document tables
  expect(report.validation.checks.find((c) => c.name === 'tables-restored')?.detail).toMatch(/read back and digested as each was loaded/);
  expect(proven.validation.ok).toBe(true);
  expect(unproven.validation.ok).toBe(true);
  expect(unproven.sent - proven.sent).toBeGreaterThan(documentBytes); // the trips' documents, read to the client only without the load's read-back
  expect(differed.validation.ok).toBe(false);
  expect(differed.validation.checks.find((c) => !c.ok)).toMatchObject({ name: 'tables-restored', detail: expect.stringContaining('proven_1.trips: digest differs; … and 2 more') });
  expect(fewer.validation.checks.find((c) => !c.ok)).toMatchObject({ name: 'tables-restored', detail: expect.stringMatching(/partition 1 proven_1\.trips: \d+ rows now; dumped \d+/) });
}, 300_000);
