/**
 * Every path-valued field of the built-in drivers' configs and restore targets names exactly one
 * place: absolute, no `..` segment. Checked through the registry, as the steps parse them.
 */
import { createRegistry } from '../../../core/driver/create-registry';
import { builtinPlugins } from '../../../drivers';
import type { DriverRegistry } from '../../../core/driver/registry';

let registry: DriverRegistry;
beforeAll(async () => { registry = await createRegistry(builtinPlugins()); });

const urls = { clientUrl: 'http://127.0.0.1:22379', peerUrl: 'http://127.0.0.1:22380' };

describe('path fields', () => {
  it.each([
    ['etcd target dataDir', () => registry.parseRestoreTarget('etcd', { dataDir: '/srv/a/../../etc', ...urls }), /^invalid restore target for engine 'etcd': dataDir: must not contain '\.\.' segments/],
    ['etcd target dataDir, relative', () => registry.parseRestoreTarget('etcd', { dataDir: 'restored', ...urls }), /: dataDir: must be an absolute path \(got 'restored'\)/],
    ['mysql target physical.datadir', () => registry.parseRestoreTarget('mysql', { user: 'root', physical: { datadir: '/srv/r/..' } }), /: physical\.datadir: must not contain '\.\.'/],
    ['mysql target socketPath', () => registry.parseRestoreTarget('mysql', { user: 'root', socketPath: 'mysqld.sock' }), /: socketPath: must be an absolute path/],
    ['mysql config physical.datadir', () => registry.parseConfig('mysql', { user: 'root', mode: 'physical', physical: { datadir: 'var/lib/mysql' } }), /^invalid config for engine 'mysql': physical\.datadir: must be an absolute path/],
    ['mysql config socketPath', () => registry.parseConfig('mysql', { user: 'root', socketPath: '/run/../tmp/x.sock' }), /: socketPath: must not contain '\.\.'/],
  ])('refuses a bad %s, naming the field', (_label, parse, message) => {
    expect(parse).toThrow(message);
  });

  it('accepts absolute paths without ..', () => {
    expect(registry.parseRestoreTarget('etcd', { dataDir: '/srv/etcd..old/data', ...urls })).toMatchObject({ dataDir: '/srv/etcd..old/data' });
    expect(registry.parseConfig('mysql', { user: 'root', socketPath: '/run/mysqld/mysqld.sock' })).toMatchObject({ socketPath: '/run/mysqld/mysqld.sock' });
  });
});
