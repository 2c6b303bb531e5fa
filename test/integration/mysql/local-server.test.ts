/**
 * The local server the physical restore and the tests start: a server that does not accept
 * logins in time is stopped, not left holding its data dir and port for the retry.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { TransientError } from '../../../core/errors';
import { commandLineOf } from '../../../core/host/processes';
import { initializeDataDir, startServer } from '../../../drivers/mysql/shared/local-server';
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

  it('starts a server without networking, reachable through its socket only (the prepare check runs one without grant checks)', async () => {
    // Prepare
    const dataDir = path.join(server.dir, 'socket-only', 'data');
    await initializeDataDir(dataDir);

    // Act
    const started = await startServer({ dataDir, port: 'socket-only' });
    trackServerPidFile(started.pidFile);

    // Assess
    const connection = await mysql.createConnection({ socketPath: started.socket, user: 'root' });
    try {
      const [[row]] = await connection.query('SELECT @@skip_networking AS off, @@port AS port') as [Array<{ off: number; port: number }>, unknown];
      expect(Number(row.off)).toBe(1);
    } finally {
      await connection.end();
    }
    expect((await commandLineOf(started.pid))?.join(' ')).not.toMatch(/--port=|--bind-address=/);
    await started.stop();
  }, 120_000);
});
