/**
 * What `force` may do on a host, through the restore state machine with the real handlers and real
 * etcd members: replace data only inside the restore roots the host allows (not where the console
 * input says), and never stop a server the restore did not start unless the target says so.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isAlive } from '../../../core/host/processes';
import { memberPidFile, startLocalEtcd } from '../../../drivers/etcd/member';
import { ExecutionFailedError } from '../../../statemachines/local/run-local';
import { freeMemberUrls, startTestEtcd, stopAllEtcd, tempDir, trackMember, writeKeys, type TestEtcd } from '../../harness/etcd';
import { freePort } from '../../harness/ports';
import { createTestRuntime, type TestRuntime } from '../../harness/runtime';

let etcd: TestEtcd;
let rt: TestRuntime;
let roots: string;

beforeAll(async () => {
  etcd = await startTestEtcd('forced');
  await writeKeys(etcd.client, 30);
  roots = await tempDir('restore-roots');
  rt = await createTestRuntime({ restoreRoots: [roots] });
  await rt.backup({ engine: 'etcd', instance: 'forced', config: { endpoints: [etcd.clientUrl] } });
});
afterAll(async () => {
  await stopAllEtcd();
  await rt?.dispose();
});

/** A data dir holding a file, as an earlier member's data would. */
async function occupied(parent: string): Promise<string> {
  const dataDir = path.join(parent, 'data');
  await mkdir(dataDir, { recursive: true });
  await writeFile(path.join(dataDir, 'precious'), 'old data');
  trackMember(memberPidFile(dataDir));
  return dataDir;
}

async function forcedRestore(target: Record<string, unknown>): Promise<unknown> {
  return rt.execute('restore', { backupId: 'latest', engine: 'etcd', instance: 'forced', force: true, target: { ...(await freeMemberUrls()), ...target } })
    .then((execution) => execution.output, (error: unknown) => error);
}

describe('a forced restore', () => {
  it('is refused outside the host\'s restore roots, naming the setting, and leaves the target alone', async () => {
    // Prepare
    const dataDir = await occupied(await tempDir('outside-roots'));

    // Act
    const error = await forcedRestore({ dataDir }) as ExecutionFailedError;

    // Assess
    expect(error).toBeInstanceOf(ExecutionFailedError);
    expect(error.causeText).toMatch(new RegExp(`^RESTORE_ROOT_REFUSED: force would replace ${dataDir}, which is not inside the restore roots this host allows \\(${roots}\\).*DBBACKUP_RESTORE_ROOTS`));
    expect(error.execution.path).not.toContain('Apply');
    expect(await readFile(path.join(dataDir, 'precious'), 'utf8')).toBe('old data');
  });

  it('replaces a non-empty data dir inside a restore root', async () => {
    // Prepare
    const dataDir = await occupied(path.join(roots, 'inside'));

    // Act
    const output = await forcedRestore({ dataDir }) as { report: { validation: { ok: boolean } } };

    // Assess
    expect(output.report.validation.ok).toBe(true);
    expect(existsSync(path.join(dataDir, 'precious'))).toBe(false);
  });

  it('never stops a member it did not start unless the target says stopRunningServer, not even one an earlier restore started', async () => {
    // Prepare: a member running on a data dir inside the roots, started by hand
    const dir = path.join(roots, 'running');
    const running = await startLocalEtcd({ dir, clientPort: await freePort(), peerPort: await freePort() });
    trackMember(memberPidFile(running.dataDir));

    // Act
    const refused = await forcedRestore({ dataDir: running.dataDir }) as ExecutionFailedError;
    const stillRunning = isAlive(running.pid);
    const allowed = await forcedRestore({ dataDir: running.dataDir, stopRunningServer: true }) as { report: { restoreId: string; endpoint: { pid: number }; validation: { ok: boolean } } };
    const again = await forcedRestore({ dataDir: running.dataDir }) as ExecutionFailedError;

    // Assess
    expect(refused.causeText).toMatch(new RegExp(`^SERVER_NOT_STARTED_BY_RESTORE: the etcd member of ${running.dataDir} is running \\(pid ${running.pid}\\) and this restore did not start it; .*"stopRunningServer": true`));
    expect(refused.execution.path).not.toContain('Apply');
    expect(stillRunning).toBe(true);
    expect(allowed.report.validation.ok).toBe(true);
    expect(isAlive(running.pid)).toBe(false);
    expect(again.causeText).toMatch(new RegExp(`^SERVER_NOT_STARTED_BY_RESTORE: .*\\(pid ${allowed.report.endpoint.pid}\\) and this restore did not start it \\(restore ${allowed.report.restoreId} did\\)`));
    expect(isAlive(allowed.report.endpoint.pid)).toBe(true);
  });
});
