/**
 * The Schemaless driver end to end, through the synthesized state machines run in process, on real
 * MariaDB servers: eight shards over three servers, thousands of cells (unicode JSON profiles
 * indexed by email, binary avatars) and buffered writes; a full backup, then incrementals — one
 * taken while a writer runs and while a transaction holds a lower `added_id` that commits only
 * after it — restored as a chain onto two servers, proven by the driver's validation and by an
 * independent read of every cell; the full backup alone (index entries as backed up); and a point
 * in time.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Connection } from 'mysql2/promise';
import { SAMPLE_EPOCH, createSampleShards, sampleCell, sampleConfig, writeSampleCells, type SampleServer } from '../../../drivers/schemaless/sample-store';
import type { SchemalessConfig } from '../../../drivers/schemaless/config';
import { indexTableDdl, shardOf } from '../../../drivers/schemaless/layout';
import { startTestMariaDb, stopAllMariaDb, type TestMariaDb } from '../../harness/mariadb';
import { createTestRuntime, shippedDefinitions, type TestRuntime } from '../../harness/runtime';
import { misplacedNamed, swapFirstTwo } from '../../fixtures/sharded/swapped-map';
import { withServer } from '../../../drivers/mysql/sharded/sample-server';
import { markShardDatabase } from '../../../drivers/mysql/sharded/shard-restore-marker';
import { removeMarker } from '../../../drivers/mysql/logical/restore-marker';
import { holdEmptyTable } from '../../harness/held-table';
import { applyFailsSpoolLost, scriptedHostRunner } from '../../harness/scripted-host-runner';
import { localWorkflows } from '../../../statemachines/local/local-workflows';

const SHARDS = 8;
const FIRST_CELLS = 3_000;

let sources: TestMariaDb[];
let targets: TestMariaDb[];
let config: SchemalessConfig;
let rt: TestRuntime;
const backups: string[] = [];

const asSample = (servers: TestMariaDb[], prefix: string): SampleServer[] => servers.map((s, i) => ({ name: `${prefix}-${i + 1}`, host: s.host, port: s.port }));

/** Every cell of every shard of `place` as plain SQL reads it: shard → sorted lines. */
async function readCells(place: Pick<SchemalessConfig, 'servers' | 'shards'>, servers: TestMariaDb[], where = ''): Promise<Record<number, string[]>> {
  const cells: Record<number, string[]> = {};
  for (const shard of place.shards) {
    const index = place.servers.findIndex((s) => s.name === shard.server);
    const connection = await servers[index].connect();
    try {
      const [rows] = await connection.query(`SELECT added_id, HEX(row_key) k, column_name c, ref_key r, SHA2(body, 256) b, created_at t FROM \`${shard.database}\`.cell ${where} ORDER BY added_id`) as [Array<Record<string, unknown>>, unknown];
      cells[shard.shard] = rows.map((r) => `${r.added_id} ${r.k} ${r.c} ${r.r} ${r.b} ${r.t}`);
    } finally {
      await connection.end();
    }
  }
  return cells;
}

function targetOf(prefix: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const onTarget = sampleConfig(asSample(targets, 'target'), SHARDS, prefix);
  return { servers: onTarget.servers, shards: onTarget.shards, ...extra };
}

/** A connection to the source server holding shard `shard`. */
function sourceOf(shard: number): Promise<Connection> {
  const server = config.shards.find((s) => s.shard === shard)!.server;
  return sources[config.servers.findIndex((s) => s.name === server)].connect();
}

beforeAll(async () => {
  sources = [];
  targets = [];
  for (let i = 0; i < 3; i += 1) sources.push(await startTestMariaDb(`sl-src-${i}`, 40 + i));
  for (let i = 0; i < 2; i += 1) targets.push(await startTestMariaDb(`sl-dst-${i}`, 50 + i));
  config = sampleConfig(asSample(sources, 'sl'), SHARDS);
  await createSampleShards(config);
  await writeSampleCells(config, 1, FIRST_CELLS);
  rt = await createTestRuntime();
}, 240_000);

afterAll(async () => {
  await rt?.dispose();
  await stopAllMariaDb();
});

it('takes a full backup and incrementals (a writer running, a lower id committing late), and restores the chain onto two servers exactly', async () => {
  // Prepare: the full backup
  const full = await rt.backup({ engine: 'schemaless', instance: 'trips', config });
  backups.push(full.backupId);

  // Act: a transaction takes an id on shard 0 and stays open; a writer commits higher ids meanwhile;
  // the first incremental runs then; the transaction commits after it; a second incremental.
  const held = await sourceOf(0);
  const late = sampleCell(FIRST_CELLS + 1);
  const lateShard = shardOf(late.rowKey, SHARDS);
  const holder = lateShard === 0 ? held : await sourceOf(lateShard);
  const lateDb = config.shards[lateShard].database;
  await holder.query('BEGIN');
  await holder.query(`INSERT INTO \`${lateDb}\`.cell (row_key, column_name, ref_key, body, created_at) VALUES (?, ?, ?, ?, ?)`, [late.rowKey, late.column, late.refKey, late.body, late.createdAt]);
  let writing = true;
  let written = FIRST_CELLS + 1;
  const writer = (async () => {
    while (writing) {
      await writeSampleCells(config, written + 1, written + 20);
      written += 20;
    }
  })();
  const first = await rt.backup({ engine: 'schemaless', instance: 'trips', config, incremental: true });
  writing = false;
  await writer;
  await holder.query('COMMIT');
  await writeSampleCells(config, written + 1, written + 30); // about 1 % more
  const second = await rt.backup({ engine: 'schemaless', instance: 'trips', config, incremental: true });
  backups.push(first.backupId, second.backupId);
  await held.end();
  if (holder !== held) await holder.end();

  // Assess: the chain restored onto two servers holds every cell of the source, the late one included
  expect(first.extends).toBe(full.backupId);
  expect(second.extends).toBe(first.backupId);
  // The late cell came through the gap the first incremental recorded, not above its maximum.
  const recorded = (await rt.catalog.get(second.backupId)).manifest.facts as { nodes: Record<string, { shards: Array<{ shard: number; lateCells: number }> }> };
  const lateCells = Object.values(recorded.nodes).flatMap((n) => n.shards).find((s) => s.shard === lateShard)!.lateCells;
  expect(lateCells).toBeGreaterThanOrEqual(1);
  const report = await rt.restore({ backupId: second.backupId, target: targetOf('chain') });
  expect(report.validation.ok).toBe(true);
  expect(report.validation.checks.map((c) => c.name)).toEqual(expect.arrayContaining(['cell-summaries', 'cell-rows', 'buffered-writes', 'index-integrity']));
  const restoredPlace = sampleConfig(asSample(targets, 'target'), SHARDS, 'chain');
  const [source, restored] = [await readCells(config, sources), await readCells(restoredPlace, targets)];
  expect(restored).toEqual(source);
  expect(source[lateShard].some((line) => line.includes(late.rowKey.toString('hex').toUpperCase()) && line.includes(` ${late.refKey} `))).toBe(true);
}, 300_000);

it('restores the full backup alone with its index entries as backed up, checked across servers and left as they are when whole', async () => {
  // Act
  const report = await rt.restore({ backupId: backups[0], target: targetOf('full') });

  // Assess
  expect(report.validation.ok).toBe(true);
  const integrity = report.validation.checks.find((c) => c.name === 'index-integrity')!;
  expect(integrity.ok).toBe(true);
  expect(integrity.detail).toMatch(/index_user_email checked whole by the restore as loaded \(nothing to repair\)/); // not read a second time by the validation
  const restored = await readCells(sampleConfig(asSample(targets, 'target'), SHARDS, 'full'), targets);
  expect(Object.values(restored).reduce((n, cells) => n + cells.length, 0)).toBe(FIRST_CELLS);
  // The mark each shard database held while the restore wrote it (a backup of it refuses it meanwhile) is gone.
  for (const server of targets) {
    const connection = await server.connect();
    try {
      const [marked] = await connection.query({ sql: "SELECT table_schema FROM information_schema.tables WHERE table_name = '__dbbackup_restore_in_progress' AND table_schema LIKE 'full%'", rowsAsArray: true });
      expect(marked).toEqual([]);
    } finally {
      await connection.end();
    }
  }
}, 300_000);

it('restores to a point in time: exactly the cells created by then', async () => {
  // Prepare
  const time = new Date(SAMPLE_EPOCH + 1_500 * 1000).toISOString();
  const cutoff = time.slice(0, 19).replace('T', ' ');

  // Act
  const report = await rt.restore({ backupId: backups[2], target: targetOf('pit', { pointInTime: time }) });

  // Assess
  expect(report.validation.ok).toBe(true);
  const restored = await readCells(sampleConfig(asSample(targets, 'target'), SHARDS, 'pit'), targets);
  const source = await readCells(config, sources, `WHERE created_at <= '${cutoff}'`);
  expect(restored).toEqual(source);
  expect(Object.values(restored).reduce((n, cells) => n + cells.length, 0)).toBe(1_500);
}, 300_000);

it('refuses a backup of a shard database a restore into did not finish: found by its first step, or once its read view is open when the mark came after', async () => {
  // Prepare: shard 3's database marked as a restore's — before the backup, and (second run) only once its first step has run
  const place = config.shards.find((s) => s.shard === 3)!;
  const server = config.servers.find((s) => s.name === place.server)!;
  const onServer = <T>(fn: (c: Connection) => Promise<T>) => withServer(server, fn);
  let marking: Promise<void> | undefined; // the step runs once per server: the mark is made once
  const lateMark = scriptedHostRunner(rt.deps, {
    'backup-snapshot': { result: async (_input, runForReal) => { await (marking ??= onServer((c) => markShardDatabase(c, place.database, 'a-restore', 'some-backup'))); return runForReal(); } },
  });

  try {
    // Act
    await onServer((c) => markShardDatabase(c, place.database, 'a-restore', 'some-backup'));
    const early = await rt.backup({ engine: 'schemaless', instance: 'marked', config }).catch((e: unknown) => e);
    await onServer((c) => removeMarker(c, place.database));
    const late = await localWorkflows(rt, { waitMs: 10, retryIntervalMs: 10, definitions: shippedDefinitions(), hostRunner: lateMark })
      .backup({ engine: 'schemaless', instance: 'marked', config }).catch((e: unknown) => e);

    // Assess
    for (const refused of [early, late]) {
      expect(refused).toMatchObject({ code: 'SCHEMALESS_UNFINISHED_RESTORE' });
      expect((refused as Error).message).toMatch(new RegExp(`^schemaless database ${place.database} on ${place.server} holds table __dbbackup_restore_in_progress: a restore into it did not finish`));
    }
    expect((await rt.catalog.list({ engine: 'schemaless', instance: 'marked', includeIncomplete: true })).filter((b) => b.complete)).toEqual([]);
  } finally {
    await onServer((c) => removeMarker(c, place.database));
  }
}, 120_000);

it('refuses to back up through a shard map that swaps two shards\' databases, naming where their cells belong', async () => {
  // Prepare: shards 0 and 1 each named by the other's place
  const { swapped, zero, one } = swapFirstTwo(config.shards, 'shard');

  // Act
  const refused = rt.backup({ engine: 'schemaless', instance: 'swapped', config: { ...config, shards: swapped } });

  // Assess
  await expect(refused).rejects.toMatchObject({ code: 'SHARD_MAP_MISMATCH' });
  const named = [`shard 0 (${one.database}.cell) holds rows of shard 1`, `shard 1 (${zero.database}.cell) holds rows of shard 0`];
  expect(named).toContain(await misplacedNamed(refused, 'shard'));
  expect(await rt.catalog.list({ engine: 'schemaless', instance: 'swapped' })).toEqual([]);
}, 120_000);

it('refuses a target of another number of shards, and a point in time beyond the backup, before touching it', async () => {
  // Prepare
  const onTarget = sampleConfig(asSample(targets, 'target'), 4, 'four');

  // Act
  const refused = rt.restore({ backupId: backups[0], target: { servers: onTarget.servers, shards: onTarget.shards } });

  // Assess
  await expect(refused).rejects.toMatchObject({ code: 'SCHEMALESS_SHARD_COUNT' });
  const beyond = rt.restore({ backupId: backups[0], target: targetOf('beyond', { pointInTime: new Date(Date.now() + 3600_000).toISOString() }) });
  await expect(beyond).rejects.toMatchObject({ code: 'SCHEMALESS_POINT_IN_TIME_BEYOND' });
}, 120_000);

it('takes every shard whole when an incremental cannot extend its base (an index added), and restores the chain from there', async () => {
  // Prepare: a second index on every shard, empty at the source (a store building it)
  const byName = { table: 'index_user_name', column: 'profile', field: '$.name' };
  for (const shard of config.shards) {
    const connection = await sourceOf(shard.shard);
    await connection.query(`USE \`${shard.database}\``);
    await connection.query(indexTableDdl(byName.table));
    await connection.end();
  }
  const changed = { ...config, indexes: [...config.indexes, byName] };

  // Act
  const taken = await rt.backup({ engine: 'schemaless', instance: 'trips', config: changed, incremental: true });
  const report = await rt.restore({ backupId: taken.backupId, target: targetOf('changed') });

  // Assess
  const facts = (await rt.catalog.get(taken.backupId)).manifest.facts as { nodes: Record<string, { shards: Array<{ kind: string }> }> };
  expect(Object.values(facts.nodes).flatMap((n) => n.shards).map((s) => s.kind)).toEqual(Array(SHARDS).fill('full'));
  expect(report.validation.ok).toBe(true);
  const integrity = report.validation.checks.find((c) => c.name === 'index-integrity')!;
  expect(integrity.detail).toMatch(/^2 indexes/);
  expect(Number(/(\d+) missing added/.exec(integrity.detail!)![1])).toBeGreaterThan(1_000); // the new index, empty at the source, built from the cells
  expect(await readCells(sampleConfig(asSample(targets, 'target'), SHARDS, 'changed'), targets)).toEqual(await readCells(config, sources));
}, 300_000);

it('says a restore that failed after it began writing left the shards part written, even when the host\'s spool went before its cleanup: the marks in the databases tell', async () => {
  // Prepare: shard 2's cell table on the target held by an open transaction, so the restore's DROP of it times out once writing began; the spool goes before the cleanup runs
  const onTarget = sampleConfig(asSample(targets, 'target'), SHARDS, 'cleanup_lost');
  const place = onTarget.shards.find((s) => s.shard === 2)!;
  const server = onTarget.servers.find((s) => s.name === place.server)!;
  const held = await holdEmptyTable(await targets[onTarget.servers.indexOf(server)].connect(), place.database, 'cell');
  const hostRunner = applyFailsSpoolLost(rt.deps, rt.spoolRoot);

  // Act
  const failed = localWorkflows(rt, { waitMs: 10, retryIntervalMs: 10, definitions: shippedDefinitions(), hostRunner })
    .restore({ backupId: backups[0], target: { servers: onTarget.servers, shards: onTarget.shards } });

  // Assess: partial, naming shard databases that hold this restore's mark
  try {
    await expect(failed).rejects.toMatchObject({ code: 'STOPPED_BY_TEST' });
    await expect(failed).rejects.toThrow(new RegExp(`target partial: the shard databases of target-1, target-2 hold part of backup ${backups[0]} .*; it wrote \\S+ on target-[12]`));
  } finally {
    await held.end();
  }
}, 180_000);

it('says a restore that failed on a corrupt chunk, before writing anything, left the target untouched', async () => {
  // Prepare: one chunk of the full backup altered in the store
  const manifest = (await rt.catalog.get(backups[0])).manifest;
  const chunk = manifest.artifacts.find((a) => a.name.includes('/cell.'))!;
  const file = path.join(rt.storeDir, chunk.key);
  const original = await readFile(file);
  await writeFile(file, Buffer.concat([original.subarray(0, original.length - 1), Buffer.from([original[original.length - 1] ^ 0xff])]));

  // Act
  const failed = rt.restore({ backupId: backups[0], target: targetOf('corrupt') });

  // Assess
  try {
    await expect(failed).rejects.toMatchObject({ code: 'CHECKSUM_MISMATCH', message: expect.stringMatching(new RegExp(`— target untouched: the shard databases of target-1, target-2 were not written to — backup ${backups[0]} is damaged \\(\\S+\\): recorded CORRUPT, so \`restore latest\` passes over it to the newest intact backup \\(\`dbbackup verify ${backups[0]}\` checks every artifact again\\)$`)) });
  } finally {
    await writeFile(file, original);
  }
}, 120_000);

