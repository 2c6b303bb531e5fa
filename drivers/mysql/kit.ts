/**
 * The MySQL driver's kits for the driver contract suite (test/contract): a MariaDB seeded with the
 * shop (every kind of value a dump must keep), backed up logically (a fresh server as each target)
 * and physically (a new data dir and port as each target, its server started by the restore), and
 * read back with plain SQL (row counts and CHECKSUM TABLE). Test code: loaded by the tests only.
 */
import path from 'node:path';
import { createConnection } from 'mysql2/promise';
import type { DriverKit, KitJson, KitSource, KitTarget } from '../../test/contract/driver-kit';
import { seedShop, startTestMariaDb, tableChecksums, trackServerPidFile, usingConnection } from '../../test/harness/mariadb';
import { freePort } from '../../test/harness/ports';
import { tempDir } from '../../test/harness/test-run';
import { stopServer } from './shared/local-server';

const WRONG_PASSWORD_ENV = 'KIT_MYSQL_WRONG_PASSWORD';
let servers = 0;

/** The shop's tables as plain SQL reads them on the server at `port`. */
function readShop(port: number): Promise<unknown> {
  return usingConnection(createConnection({ host: '127.0.0.1', port, user: 'root', supportBigNumbers: true, bigNumberStrings: true, dateStrings: true }), (c) => tableChecksums(c, 'shop'));
}

async function startSource(mode: 'logical' | 'physical'): Promise<KitSource> {
  const server = await startTestMariaDb(`kit-${mode}`, (servers += 1));
  await usingConnection(server.connect(), (c) => seedShop(c, { bigRows: 5_000 }));
  const config: KitJson = { ...server.config(), mode, databases: ['shop'] };
  let changes = 0;
  return {
    config,
    env: { [WRONG_PASSWORD_ENV]: 'wrong' },
    change: () => usingConnection(server.connect('shop'), async (c) => {
      changes += 1;
      await c.query('UPDATE customers SET balance = balance + 1 WHERE id = 1; DELETE FROM big WHERE id = ?; INSERT INTO no_pk VALUES (?, \'changed\')', [changes, changes]);
    }),
    read: () => readShop(server.port),
    unreachable: async () => ({ ...config, port: await freePort(), connectTimeoutMs: 1000 }),
    wrongCredentials: async () => ({ ...config, password: { $secret: `env:${WRONG_PASSWORD_ENV}` } }),
    invalid: () => ({ config: { ...config, port: 70_000 }, field: 'port' }),
    stop: () => server.stop(),
  };
}

async function logicalTarget(): Promise<KitTarget> {
  const server = await startTestMariaDb('kit-target', (servers += 1));
  return { target: server.config(), forced: server.config(), read: () => readShop(server.port), stop: () => server.stop() };
}

async function physicalTarget(): Promise<KitTarget> {
  const datadir = path.join(await tempDir('kit-physical-target'), 'data');
  const port = await freePort();
  trackServerPidFile(`${datadir}.pid`);
  const target = { host: '127.0.0.1', port, user: 'root', password: '', physical: { datadir } };
  return {
    target,
    forced: { ...target, physical: { datadir, stopRunningServer: true } },
    read: () => readShop(port),
    stop: () => stopServer(`${datadir}.pid`).catch(() => undefined),
  };
}

export const kits: readonly DriverKit[] = [
  { name: 'mysql logical', engine: 'mysql', startSource: () => startSource('logical'), scratchTarget: logicalTarget },
  { name: 'mysql physical', engine: 'mysql', startSource: () => startSource('physical'), scratchTarget: physicalTarget },
];
