/**
 * Processes by pid: a zombie is not alive, a pid file is trusted only while its pid runs the
 * expected program, and stopping never signals an unrelated process nor waits on a zombie.
 */
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { commandLineOf, isAlive, recordedPid, runsProgram, stopProcess, stopRecordedProcess } from '../../../core/host/processes';
import { isZombie, killStarted, startSleep, startUnreapedSleep, until } from './process-fixture';

let dir: string;
let pidFile: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dbbackup-processes-'));
  pidFile = path.join(dir, 'server.pid');
});

afterEach(async () => {
  killStarted();
  await rm(dir, { recursive: true, force: true });
});

/** A pid that just exited and was reaped. */
function deadPid(): number {
  return spawnSync('true').pid;
}

describe('isAlive and commandLineOf', () => {
  it('sees a running process and its arguments', async () => {
    // Prepare
    const pid = await startSleep();

    // Act
    const alive = isAlive(pid);
    const commandLine = await commandLineOf(pid);

    // Assess
    expect(alive).toBe(true);
    expect(commandLine).toEqual(['sleep', '30']);
  });

  it('counts a zombie as dead, though the pid still answers signal 0', async () => {
    // Prepare
    const pid = await startUnreapedSleep(0.1);
    await until(() => isZombie(pid), `pid ${pid} to become a zombie`);

    // Act
    const alive = isAlive(pid);

    // Assess
    expect(() => process.kill(pid, 0)).not.toThrow();
    expect(alive).toBe(false);
    expect(await commandLineOf(pid)).toEqual([]);
  });

  it('says a reaped pid is gone', async () => {
    // Prepare
    const pid = deadPid();

    // Act
    const alive = isAlive(pid);
    const commandLine = await commandLineOf(pid);

    // Assess
    expect(alive).toBe(false);
    expect(commandLine).toBeUndefined();
  });
});

describe('recordedPid', () => {
  it('gives the pid of a live process of the expected program', async () => {
    // Prepare
    const pid = await startSleep();
    await writeFile(pidFile, `${pid}\n`);

    // Act
    const recorded = await recordedPid(pidFile, ['sleep']);

    // Assess
    expect(recorded).toBe(pid);
    expect(await runsProgram(pid, ['mariadbd', 'sleep'])).toBe(true);
  });

  it.each([
    ['another program', async () => `${await startSleep()}\n`],
    ['a dead process', async () => `${deadPid()}\n`],
    ['no pid', async () => 'not a pid\n'],
  ])('gives nothing for a pid file naming %s', async (_, content) => {
    // Prepare
    await writeFile(pidFile, await content());

    // Act
    const recorded = await recordedPid(pidFile, ['mariadbd']);

    // Assess
    expect(recorded).toBeUndefined();
  });

  it('gives nothing for a missing pid file', async () => {
    // Act
    const recorded = await recordedPid(pidFile, ['sleep']);

    // Assess
    expect(recorded).toBeUndefined();
  });
});

describe('stopRecordedProcess', () => {
  it('stops the recorded process when it runs the expected program and removes the pid file', async () => {
    // Prepare
    const pid = await startSleep();
    await writeFile(pidFile, `${pid}\n`);

    // Act
    await stopRecordedProcess(pidFile, ['sleep'], { timeoutMs: 5_000 });

    // Assess
    expect(isAlive(pid)).toBe(false);
    await expect(access(pidFile)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('leaves an unrelated process alone and removes the stale pid file', async () => {
    // Prepare
    const pid = await startSleep();
    await writeFile(pidFile, `${pid}\n`);

    // Act
    await stopRecordedProcess(pidFile, ['mariadbd', 'mysqld'], { timeoutMs: 5_000 });

    // Assess
    expect(isAlive(pid)).toBe(true);
    await expect(access(pidFile)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('checks a given pid too, instead of the file\'s', async () => {
    // Prepare
    const pid = await startSleep();

    // Act
    await stopRecordedProcess(pidFile, ['etcd'], { pid, timeoutMs: 5_000 });

    // Assess
    expect(isAlive(pid)).toBe(true);
  });

  it('does nothing for a missing pid file', async () => {
    // Act
    const stopping = stopRecordedProcess(pidFile, ['sleep'], { timeoutMs: 5_000 });

    // Assess
    await expect(stopping).resolves.toBeUndefined();
  });
});

describe('stopProcess', () => {
  it('kills a process that ignores SIGTERM once the timeout has passed', async () => {
    // Prepare
    const pid = await startSleep({ ignoreTerm: true });

    // Act
    const started = Date.now();
    await stopProcess(pid, 300);

    // Assess
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(isAlive(pid)).toBe(false);
  });

  it('returns as soon as the process is a zombie instead of waiting for it to disappear', async () => {
    // Prepare: nobody reaps this sleep, so SIGTERM leaves a zombie behind.
    const pid = await startUnreapedSleep(30);

    // Act
    const started = Date.now();
    await stopProcess(pid, 20_000);

    // Assess
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(isZombie(pid)).toBe(true);
  });

  it('does nothing for a dead pid', async () => {
    // Act
    const stopping = stopProcess(deadPid(), 5_000);

    // Assess
    await expect(stopping).resolves.toBeUndefined();
  });
});
