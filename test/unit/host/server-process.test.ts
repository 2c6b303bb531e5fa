/**
 * Starting a local server process (core/host/server-process.ts) with a stand-in server: a Node
 * program that listens on a port, or exits, or never answers. Whatever way a start ends, nothing
 * is left running and the error carries the log's last lines; a taken port is retried on fresh ones.
 */
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { onFreePorts } from '../../../core/host/ports';
import { isAlive } from '../../../core/host/processes';
import { startServerProcess, type ServerProcessOptions } from '../../../core/host/server-process';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dbbackup-server-process-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Polls `check` until it holds. */
async function until(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await sleep(20);
}

/** A TCP connect to 127.0.0.1:`port`: resolves once something accepts it. */
function connects(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => { socket.destroy(); resolve(); });
    socket.once('error', reject);
  });
}

/** Options for a stand-in server running `program` (Node), probed by a connect to `port`. */
function standIn(program: string, port: number, overrides: Partial<ServerProcessOptions<void>> = {}): ServerProcessOptions<void> {
  const marker = `--stand-in=${dir}`;
  return {
    engine: 'test',
    codePrefix: 'TEST',
    what: `stand-in on port ${port}`,
    command: process.execPath,
    args: ['-e', program, String(port), marker],
    logFile: path.join(dir, 'server.log'),
    pidFile: path.join(dir, 'server.pid'),
    identity: { programs: [path.basename(process.execPath)], argument: marker },
    probe: () => connects(port),
    readyTimeoutMs: 30_000,
    stopTimeoutMs: 5_000,
    ...overrides,
  };
}

const LISTENS = "console.log('listening'); require('net').createServer().listen(Number(process.argv[1]), '127.0.0.1');";
const EXITS = "console.error('bind: address already in use'); process.exit(3);";
const SILENT = "console.log('starting, never listening'); setInterval(() => {}, 1000);";

describe('startServerProcess', () => {
  it('starts a detached server, records its pid, waits until it answers, and stop() ends it', async () => {
    // Prepare
    const [port] = await onFreePorts(1, async (ports) => ports);

    // Act
    const server = await startServerProcess(standIn(LISTENS, port));
    const recorded = Number(await readFile(server.pidFile, 'utf8'));
    const aliveBeforeStop = isAlive(server.pid);
    await server.stop();

    // Assess
    expect(recorded).toBe(server.pid);
    expect(aliveBeforeStop).toBe(true);
    expect(isAlive(server.pid)).toBe(false);
    await expect(access(server.pidFile)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readFile(server.logFile, 'utf8')).toContain('listening');
  });

  it('fails with <prefix>_START_FAILED and the log tail when the server exits before it answers, leaving no pid file', async () => {
    // Prepare
    const options = standIn(EXITS, 1);

    // Act
    const error = await startServerProcess(options).catch((e: unknown) => e);

    // Assess
    expect(error).toMatchObject({ name: 'PermanentError', code: 'TEST_START_FAILED', engine: 'test' });
    expect((error as Error).message).toMatch(/^stand-in on port 1 exited before it became ready\n--- last lines of .*server\.log ---\nbind: address already in use/);
    await expect(access(options.pidFile)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('stops a server that does not answer in time and fails with <prefix>_START_TIMEOUT', async () => {
    // Prepare
    const options = standIn(SILENT, 1, { readyTimeoutMs: 300 });
    let pid: number | undefined;
    const probe = options.probe;
    // However slow the machine, the stand-in has logged its line before the start gives up on it.
    options.probe = async () => {
      pid ??= Number(await readFile(options.pidFile, 'utf8'));
      await until(async () => (await readFile(options.logFile, 'utf8')).includes('never listening'));
      return probe();
    };

    // Act
    const error = await startServerProcess(options).catch((e: unknown) => e);

    // Assess
    expect(error).toMatchObject({ name: 'TransientError', code: 'TEST_START_TIMEOUT' });
    expect((error as Error).message).toMatch(/did not become ready in time \(last: .*ECONNREFUSED.*\); stopped it\n--- last lines of .* ---\nstarting, never listening/s);
    expect(pid).toBeGreaterThan(0);
    expect(isAlive(pid!)).toBe(false);
    await expect(access(options.pidFile)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('fails with MISSING_TOOL when the program is not installed', async () => {
    // Act
    const error = await startServerProcess(standIn(LISTENS, 1, { command: 'no-such-server-dbbackup' })).catch((e: unknown) => e);

    // Assess
    expect(error).toMatchObject({ name: 'PermanentError', code: 'MISSING_TOOL', message: expect.stringMatching(/^cannot start no-such-server-dbbackup/) });
  });
});

describe('onFreePorts', () => {
  it('gives distinct ports and starts again on fresh ones when a port was taken in between', async () => {
    // Prepare
    const seen: number[][] = [];

    // Act
    const result = await onFreePorts(2, async (ports, attempt) => {
      seen.push(ports);
      if (attempt === 0) throw new Error('listen tcp 127.0.0.1:1: bind: address already in use');
      return attempt;
    });

    // Assess
    expect(result).toBe(1);
    expect(seen).toHaveLength(2);
    for (const ports of seen) expect(new Set(ports).size).toBe(2);
  });

  it('gives up after the last attempt, and at once on another error', async () => {
    // Prepare
    let taken = 0;
    let other = 0;

    // Act
    const always = await onFreePorts(1, async () => { taken += 1; throw new Error('EADDRINUSE'); }, 3).catch((e: unknown) => e);
    const broken = await onFreePorts(1, async () => { other += 1; throw new Error('no such data dir'); }).catch((e: unknown) => e);

    // Assess
    expect([taken, (always as Error).message]).toEqual([3, 'EADDRINUSE']);
    expect([other, (broken as Error).message]).toEqual([1, 'no such data dir']);
  });
});
