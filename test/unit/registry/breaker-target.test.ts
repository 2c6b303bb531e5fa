/**
 * What a circuit breaker is keyed by: the endpoint a config or restore target connects to, as the
 * driver names it, or a digest of the config (secrets masked) for a driver that does not.
 */
import { z } from 'zod';
import { createRegistry } from '../../../core/driver/builtin';
import { DriverRegistry } from '../../../core/driver/registry';
import { DRIVER_API_VERSION, type DriverPlugin } from '../../../core/driver/types';
import { circuitStateKey } from '../../../core/resilience/circuit-breaker';

describe('breaker targets', () => {
  it('are the endpoints the built-in drivers connect to, whatever the other settings, scoped by the instance', async () => {
    // Prepare
    const registry = await createRegistry();
    const mysql = (config: object) => registry.backupBreakerTarget('mysql', 'shop', registry.parseConfig('mysql', { user: 'root', ...config }));

    // Act + Assess
    expect(mysql({ host: 'db1', port: 3307 })).toBe('mysql/shop@db1:3307');
    expect(mysql({ host: 'db1', port: 3307, parallelism: 8 })).toBe('mysql/shop@db1:3307');
    expect(mysql({ socketPath: '/run/mysqld/mysqld.sock' })).toBe('mysql/shop@unix:/run/mysqld/mysqld.sock');
    expect(registry.backupBreakerTarget('etcd', 'main', { endpoints: ['http://b:2379', 'http://a:2379'] })).toBe('etcd/main@http://a:2379,http://b:2379');
    expect(registry.restoreBreakerTarget('etcd', 'main', { clientUrl: 'http://127.0.0.1:23790' })).toBe('etcd/main@http://127.0.0.1:23790');
    expect(registry.restoreBreakerTarget('mysql', 'shop', { host: '127.0.0.1', port: 3310 })).toBe('mysql/shop@127.0.0.1:3310');
  });

  it("keep their state under the instance's own prefix, so a host can be allowed to write only its instances' breakers", () => {
    expect(circuitStateKey('mysql/shop@db1:3307')).toMatch(/^circuit-breakers\/mysql\/shop\/db1_3307-[0-9a-f]{12}$/);
    expect(circuitStateKey('etcd/main@http://a:2379')).toMatch(/^circuit-breakers\/etcd\/main\/http_a_2379-[0-9a-f]{12}$/);
    expect(circuitStateKey('etcd/../x@h')).toMatch(/^circuit-breakers\/etcd_\.\._x_h-[0-9a-f]{12}$/); // one flat segment
  });

  it('default to a digest of the config without its secrets for a driver that names no endpoint', () => {
    // Prepare
    const noop = async () => { throw new Error('not called'); };
    const plugin: DriverPlugin = {
      manifest: {
        name: 'plain', version: '1.0.0', apiVersion: DRIVER_API_VERSION, capabilities: ['backup'],
        configSchema: z.object({}).loose(), restoreTargetSchema: z.object({}).loose(),
      },
      backup: { createSnapshot: noop, validateSnapshot: noop, upload: noop, cleanup: noop },
    };
    const registry = new DriverRegistry();
    registry.register(plugin);

    // Act
    const target = (config: object) => registry.backupBreakerTarget('plain', 'i', config);

    // Assess
    expect(target({ host: 'h', port: 1 })).toMatch(/^plain\/i@config-[0-9a-f]{16}$/);
    expect(target({ port: 1, host: 'h' })).toBe(target({ host: 'h', port: 1 }));
    expect(target({ host: 'h', port: 2 })).not.toBe(target({ host: 'h', port: 1 }));
    expect(target({ host: 'h', port: 1, password: 'new' })).toBe(target({ host: 'h', port: 1, password: 'old' }));
  });
});
