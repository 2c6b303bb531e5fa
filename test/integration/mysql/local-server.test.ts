/**
 * The local server the physical restore and the tests start: a server that does not accept
 * logins in time is stopped, not left holding its data dir and port for the retry.
 */
import { readdir } from 'node:fs/promises';
import { TransientError } from '../../../core/errors';
import { commandLineOf } from '../../../core/host/processes';
import { startServer } from '../../../drivers/mysql/local-server';
import { freePort } from '../../harness/ports';
import { startTestMariaDb, stopAllMariaDb, trackServerPidFile, type TestMariaDb } from '../../harness/mariadb';

let server: TestMariaDb;

beforeAll(async () => {
  server = await startTestMariaDb('local-server', 31);
  await server.stop();
}, 60_000);

afterAll(async () => {
  await stopAllMariaDb();
});

/** Pids of the processes running with `--datadir=<dataDir>`. */
async function serversOn(dataDir: string): Promise<number[]> {
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name)).map(Number);
  const found: number[] = [];
  for (const pid of pids) {
    if ((await commandLineOf(pid))?.includes(`--datadir=${dataDir}`)) found.push(pid);
  }
  return found;
}

describe('startServer', () => {
  it('stops a server that did not accept logins in time, so that the next start finds the data dir free', async () => {
    // Act
    const error = await startServer({ dataDir: server.dataDir, port: await freePort(), readyTimeoutMs: 1 }).then(() => undefined, (e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(TransientError);
    expect((error as TransientError).code).toBe('MYSQL_START_TIMEOUT');
    expect(await serversOn(server.dataDir)).toEqual([]);
    const again = await startServer({ dataDir: server.dataDir, port: await freePort() });
    trackServerPidFile(again.pidFile);
    expect(await serversOn(server.dataDir)).toEqual([again.pid]);
  }, 120_000);
});
