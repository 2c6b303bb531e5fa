/**
 * Step state stays small whatever the database: a MySQL database of 2 000 tables is backed up and
 * restored through the synthesized state machines, every host step sent through the real SSM
 * client to the SSM stand-in that runs the host agent (the store is a directory: 2 000 chunk files
 * through s3rver would make a slow test of the store, which other tests cover). The local runner holds
 * every payload to Step Functions' 256 KiB; the test asserts the largest step payload and the
 * largest SSM command are a few KB (with the state carrying artifact lists and per-table facts, the
 * command line passed SSM's 48 000 characters at ~80 tables, and the payload 256 KiB at ~370).
 */
import path from 'node:path';
import { agentStepDocument, shellQuote } from '../../../core/host-runner/agent-document';
import { SsmHostRunner } from '../../../core/host-runner/ssm-runner';
import { readJson } from '../../../core/store/json';
import type { RestoreReport } from '../../../core/restore/restore-state';
import { startSsmStandin, type SsmStandin } from '../../harness/ssm-standin';
import { startTestMariaDb, stopAllMariaDb, type TestMariaDb } from '../../harness/mariadb';
import { stopAllEtcd, tempDir } from '../../harness/etcd';
import { localWorkflows } from '../../../statemachines/local/local-workflows';
import { createTestRuntime, shippedDefinitions, type TestRuntime } from '../../harness/runtime';

const TABLES = 2000;
/** "A few KB": what a step's state may weigh, whatever the table count. */
const PAYLOAD_BUDGET = 8 * 1024;
const HOST = 'i-0123456789abcdef0';
const AGENT = `${shellQuote(process.execPath)} ${shellQuote(path.resolve(__dirname, '../../../bin/dbbackup.js'))}`;
const DOCUMENT = 'DbBackup-AgentStep';
let source: TestMariaDb;
let target: TestMariaDb;
let ssm: SsmStandin;
let rt: TestRuntime;

/** 2 000 one-row tables in one round trip: a procedure that creates and fills them. */
async function createTables(server: TestMariaDb, count: number): Promise<void> {
  const connection = await server.connect();
  try {
    await connection.query(`
      CREATE DATABASE wide;
      CREATE PROCEDURE wide.make(n INT)
      BEGIN
        DECLARE i INT DEFAULT 0;
        WHILE i < n DO
          SET @name = CONCAT('t', LPAD(i, 4, '0'));
          SET @sql = CONCAT('CREATE TABLE wide.', @name, ' (id INT PRIMARY KEY, v VARCHAR(16)) ENGINE=InnoDB');
          PREPARE s FROM @sql; EXECUTE s; DEALLOCATE PREPARE s;
          SET @sql = CONCAT('INSERT INTO wide.', @name, ' VALUES (', i, ', ''', @name, ''')');
          PREPARE s FROM @sql; EXECUTE s; DEALLOCATE PREPARE s;
          SET i = i + 1;
        END WHILE;
      END;
      CALL wide.make(${count});
      DROP PROCEDURE wide.make;`);
  } finally {
    await connection.end();
  }
}

beforeAll(async () => {
  [source, target] = await Promise.all([startTestMariaDb('wide-src'), startTestMariaDb('wide-dst', 2)]);
  await createTables(source, TABLES);
  const storeUrl = await tempDir('wide-store');
  // The host's own configuration: the one server a restore may load into (in AWS, a restore to any other is refused).
  const document = agentStepDocument({
    storeUrl, region: 'us-east-1', agentCommand: AGENT, environment: { DBBACKUP_SPOOL_DIR: await tempDir('wide-host-spool'), DBBACKUP_RESTORE_SERVERS: `127.0.0.1:${target.port}` },
  });
  ssm = await startSsmStandin({ instanceIds: [HOST], documents: { [DOCUMENT]: document } });
  rt = await createTestRuntime({ storeUrl, workflows: { hostStepTimeoutSeconds: 600, waitMs: 100 } });
  const hostRunner = new SsmHostRunner({ clientConfig: ssm.clientConfig, documentName: DOCUMENT, resultStore: rt.store });
  Object.assign(rt, localWorkflows(rt, { definitions: shippedDefinitions(), hostRunner, hostStepTimeoutSeconds: 600, waitMs: 100 }));
}, 300_000);
afterAll(async () => {
  await ssm?.stop();
  await stopAllMariaDb();
  await stopAllEtcd(); // removes the temp dirs made with tempDir()
  await rt?.dispose();
});

it(`backs up and restores ${TABLES} tables through SSM and the state machines with every step payload a few KB`, async () => {
  // Act
  const backup = await rt.execute('backup', { engine: 'mysql', instance: 'wide', config: { ...source.config(), databases: ['wide'], parallelism: 4 }, host: HOST });
  const { backupId } = (backup.output as { summary: { backupId: string } }).summary;
  const restore = await rt.execute('restore', { backupId, target: { ...target.config(), parallelism: 4 }, host: HOST });

  // Assess: the restore is proven table by table, from the report the state only points to.
  const summary = (restore.output as { report: { reportKey: string; validation: { ok: boolean; failed: number } } }).report;
  expect(summary.validation).toMatchObject({ ok: true, failed: 0 });
  const report = await readJson<RestoreReport>(rt.store, summary.reportKey);
  const digests = report!.validation.checks.find((c) => c.name === 'table-digests');
  expect(digests).toMatchObject({ ok: true, detail: expect.stringContaining(`${TABLES}`) });

  // Assess: the largest payload of any state, and of any SSM command, whatever the table count.
  const commands = ssm.calls.filter((c) => c.operation === 'SendCommand').map((c) => JSON.stringify(c.input.Parameters).length);
  const largest = [backup, restore].map((e) => e.limits.largestPayload).sort((a, b) => b.bytes - a.bytes)[0];
  console.log(`${TABLES} tables: largest step payload ${largest.bytes} bytes (${largest.where}); largest SSM command parameters ${Math.max(...commands)} characters; history events backup ${backup.limits.historyEvents}, restore ${restore.limits.historyEvents}`);
  expect(largest.bytes).toBeLessThan(PAYLOAD_BUDGET);
  expect(Math.max(...commands)).toBeLessThan(PAYLOAD_BUDGET);
}, 300_000);

it('refuses, on the host, a restore into a server the host\'s configuration does not name, forced or not: the console cannot send the data elsewhere', async () => {
  // Prepare: the backup of the test above
  const [entry] = await rt.catalog.list({ engine: 'mysql', instance: 'wide' });

  // Act: into the source server, under another name
  const error = await rt.execute('restore', { backupId: entry.backupId, target: { ...source.config(), renameDatabases: { wide: 'wide_copy' } }, host: HOST }).then(() => undefined, (e: unknown) => e);

  // Assess
  expect(error).toMatchObject({ errorName: 'PermanentError', causeText: expect.stringMatching(new RegExp(`^RESTORE_ROOT_REFUSED: the restore would load the backup's data into 127\\.0\\.0\\.1:${source.port}, which is not among the servers this host allows \\(127\\.0\\.0\\.1:${target.port}\\); a restore started in AWS writes only on the servers the host's own configuration names in DBBACKUP_RESTORE_SERVERS`)) });
  const connection = await source.connect();
  try {
    const [databases] = await connection.query("SHOW DATABASES LIKE 'wide_copy'") as [unknown[], unknown];
    expect(databases).toEqual([]);
  } finally {
    await connection.end();
  }
}, 120_000);
