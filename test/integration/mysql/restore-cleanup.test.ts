/**
 * A failed MySQL restore's cleanup, through the locally run restore state machine against real
 * MariaDB 10.11 servers: the server a physical restore started is stopped when a later step fails
 * (and the target is said to hold the restored backup); a logical restore that failed while loading
 * a forced target is said to have left it partial — the databases holding its marker named, their
 * previous contents gone.
 */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Connection } from 'mysql2/promise';
import type { AgentResult } from '../../../core/agent/agent-steps';
import { serverPaths, serverPid } from '../../../drivers/mysql/shared/local-server';
import { MARKER_TABLE } from '../../../drivers/mysql/logical/restore-marker';
import { ExecutionFailedError } from '../../../statemachines/local/run-local';
import { localWorkflows } from '../../../statemachines/local/local-workflows';
import { startTestMariaDb, trackServerPidFile, type TestMariaDb } from '../../harness/mariadb';
import { freePort } from '../../harness/ports';
import { shippedDefinitions, type TestRuntime } from '../../harness/runtime';
import type { StepScript } from '../../harness/scripted-host-runner';
import { scriptedHostRunner } from '../../harness/scripted-host-runner';
import { startShopSource, stopShopSource } from '../../harness/shop-source';

let source: TestMariaDb;
let admin: Connection;
let rt: TestRuntime;
let scratch: string;

beforeAll(async () => {
  ({ source, admin, rt, scratch } = await startShopSource('cleanup-src', 2_000));
}, 120_000);
afterAll(() => stopShopSource({ source, admin, rt, scratch }));

/** Runs a restore whose host steps `scripts` name are scripted (the others run for real); returns its failure. */
async function failedRestore(request: Record<string, unknown>, scripts: Partial<Record<string, StepScript>>): Promise<ExecutionFailedError> {
  const hostRunner = scriptedHostRunner(rt.deps, scripts);
  const workflows = localWorkflows(rt, { definitions: shippedDefinitions(), waitMs: 10, retryIntervalMs: 100, hostRunner });
  return workflows.execute('restore', request).then(() => { throw new Error('the restore succeeded'); }, (error: unknown) => error as ExecutionFailedError);
}

const spoolRestores = async (): Promise<string[]> => (existsSync(path.join(rt.spoolRoot, 'restore')) ? readdir(path.join(rt.spoolRoot, 'restore')) : []);

it('stops the server a physical restore started when a later step fails, and says the data dir holds the restored backup', async () => {
  // Prepare
  const summary = await rt.backup({ engine: 'mysql', instance: 'phys-cleanup', config: { ...source.config(), mode: 'physical' } });
  const datadir = path.join(scratch, 'physical', 'data');
  const { pidFile } = serverPaths(datadir);
  trackServerPidFile(pidFile);
  const port = await freePort();
  const validationRefused: AgentResult = { ok: false, error: { name: 'PermanentError', code: 'SCRIPTED', message: 'validation refused' } };

  // Act: the restore starts the server on the restored data dir; validation then fails.
  const error = await failedRestore(
    { backupId: summary.backupId, target: { ...source.config(), port, physical: { datadir } } },
    { 'restore-validate': { result: () => validationRefused } },
  );

  // Assess
  expect(error.causeText).toMatch(new RegExp(
    `^SCRIPTED: validation refused — target restored: ${datadir} holds backup \\S+ as restored; the failure came after the restore; stopped what the restore started: MariaDB server \\(pid \\d+, port ${port}\\)$`,
  ));
  expect(await serverPid(pidFile)).toBeUndefined();
  expect(existsSync(`${datadir}.restore-staging`)).toBe(false);
  expect(await spoolRestores()).toEqual([]);
}, 180_000);

it('says a logical restore that failed while loading a forced target left it partial, its old data gone', async () => {
  // Prepare: a target server whose `shop` holds the operator's data; a backup of the source's shop.
  const target = await startTestMariaDb('cleanup-tgt', 2);
  const targetAdmin = await target.connect();
  try {
    await targetAdmin.query('CREATE DATABASE shop; CREATE TABLE shop.old_orders (id INT PRIMARY KEY); INSERT INTO shop.old_orders VALUES (1), (2)');
    const summary = await rt.backup({ engine: 'mysql', instance: 'logical-cleanup', config: { ...source.config(), databases: ['shop'] } });
    // The restore step, run for real, finds LOAD DATA LOCAL refused once it has replaced the databases.
    const refuseLocalInfile: StepScript = {
      async result(_input, runForReal) {
        await targetAdmin.query('SET GLOBAL local_infile = 0');
        try {
          return await runForReal();
        } finally {
          await targetAdmin.query('SET GLOBAL local_infile = 1');
        }
      },
    };

    // Act
    const error = await failedRestore({ backupId: summary.backupId, target: target.config(), force: true }, { 'restore-apply': refuseLocalInfile });

    // Assess: said, and so.
    expect(error.causeText).toMatch(new RegExp(
      `— target partial: on root@127\\.0\\.0\\.1:${target.port}: shop holds an unfinished restore \\(marker table ${MARKER_TABLE}\\); the previous contents of shop are gone: restore again with force \\(on a server the host lists in DBBACKUP_RESTORE_SERVERS: shop holds tables or other objects\\) or drop them$`,
    ));
    const [tables] = await targetAdmin.query('SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?', ['shop']) as [Array<{ name: string }>, unknown];
    expect(tables.map((t) => t.name)).toContain(MARKER_TABLE);
    expect(tables.map((t) => t.name)).not.toContain('old_orders');
    expect(await spoolRestores()).toEqual([]);
  } finally {
    await targetAdmin.end();
  }
}, 180_000);

it('says a logical restore whose validation failed left the target holding the restored backup, not untouched', async () => {
  // Prepare
  const target = await startTestMariaDb('cleanup-validated', 3);
  const summary = await rt.backup({ engine: 'mysql', instance: 'logical-validated', config: { ...source.config(), databases: ['shop'] } });
  const validationRefused: AgentResult = { ok: false, error: { name: 'PermanentError', code: 'SCRIPTED', message: 'validation refused' } };

  // Act: the restore loads the target (its markers removed, its download spool gone); validation then fails.
  const error = await failedRestore({ backupId: summary.backupId, target: target.config() }, { 'restore-validate': { result: () => validationRefused } });

  // Assess
  expect(error.causeText).toBe(`SCRIPTED: validation refused — target restored: on root@127.0.0.1:${target.port}: shop holds backup ${summary.backupId} as restored; the failure came after the restore`);
}, 180_000);

it('says how far a point-in-time replay took the target when validation failed after it, not "as restored"', async () => {
  // Prepare: B1 with archived binlogs; a write (the point); B2 archiving it
  const target = await startTestMariaDb('cleanup-replayed', 4);
  const config = { ...source.config(), databases: ['shop'], archiveBinlogs: true };
  const summary = await rt.backup({ engine: 'mysql', instance: 'logical-replayed', config });
  await admin.query("INSERT INTO shop.customers (name, created) VALUES ('cleanup-replayed', NOW())");
  const [[{ gtid }]] = await admin.query('SELECT @@gtid_binlog_pos AS gtid') as [Array<{ gtid: string }>, unknown];
  await rt.backup({ engine: 'mysql', instance: 'logical-replayed', config });
  const validationRefused: AgentResult = { ok: false, error: { name: 'PermanentError', code: 'SCRIPTED', message: 'validation refused' } };

  // Act: the restore loads and replays; validation then fails.
  const error = await failedRestore({ backupId: summary.backupId, target: { ...target.config(), pointInTime: { untilGtid: gtid } } }, { 'restore-validate': { result: () => validationRefused } });

  // Assess
  expect(error.causeText).toMatch(new RegExp(`^SCRIPTED: validation refused — target restored: on root@127\\.0\\.0\\.1:${target.port}: shop holds backup ${summary.backupId} restored and replayed up to GTID ${gtid} \\(last event at \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\), which may not be the point asked for: see the failed checks; the failure came after the restore$`));
}, 180_000);
