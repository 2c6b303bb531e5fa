/**
 * The drivers' stop functions given a stale pid file (the server crashed or the host rebooted,
 * and its pid now belongs to an unrelated process): they remove the pid file and signal nothing.
 */
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { stopMember } from '../../../drivers/etcd/member';
import { stopServer } from '../../../drivers/mysql/shared/local-server';
import { isAlive } from '../../../core/host/processes';
import { killStarted, startNamed, startSleep } from './process-fixture';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dbbackup-stale-pid-'));
});

afterEach(async () => {
  killStarted();
  await rm(dir, { recursive: true, force: true });
});

describe.each([
  ['stopServer(pidFile)', (pidFile: string) => stopServer(pidFile)],
  ['stopServer(pidFile, pid)', (pidFile: string, pid: number) => stopServer(pidFile, pid)],
  ['stopMember(pidFile)', (pidFile: string) => stopMember(pidFile)],
])('%s with a stale pid file', (_, stop) => {
  it('leaves the unrelated process running and removes the pid file', async () => {
    // Prepare
    const pid = await startSleep();
    const pidFile = path.join(dir, 'data.pid');
    await writeFile(pidFile, `${pid}\n`);

    // Act
    await stop(pidFile, pid);

    // Assess
    expect(isAlive(pid)).toBe(true);
    await expect(access(pidFile)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('stopServer with a pid file naming another mariadbd', () => {
  it('leaves that server running: only the server started with this pid file is ours', async () => {
    // Prepare: a "mariadbd" holding the pid, but started for another data dir
    const pidFile = path.join(dir, 'data.pid');
    const other = await startNamed('mariadbd', `--pid-file=${path.join(dir, 'production.pid')}`);
    await writeFile(pidFile, `${other}\n`);

    // Act
    await stopServer(pidFile);

    // Assess
    expect(isAlive(other)).toBe(true);
    await expect(access(pidFile)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
