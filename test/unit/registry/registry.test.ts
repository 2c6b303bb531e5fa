import { z } from 'zod';
import { DriverRegistry } from '../../../core/driver/registry';
import { DRIVER_API_VERSION, type DriverPlugin } from '../../../core/driver/types';
import { PermanentError } from '../../../core/errors';

/** A minimal valid plugin; `overrides` replace manifest fields. */
function fakePlugin(overrides: Record<string, unknown> = {}, extra: Partial<DriverPlugin> = {}): DriverPlugin {
  const noop = async () => { throw new Error('not called'); };
  return {
    manifest: {
      name: 'fake',
      version: '1.2.3',
      apiVersion: DRIVER_API_VERSION,
      capabilities: ['backup'],
      configSchema: z.object({ host: z.string(), port: z.number().int() }),
      restoreTargetSchema: z.object({ dataDir: z.string() }),
      ...overrides,
    } as DriverPlugin['manifest'],
    backup: { createSnapshot: noop, validateSnapshot: noop, upload: noop, cleanup: noop },
    ...extra,
  };
}

function caught(fn: () => unknown): PermanentError {
  try {
    fn();
  } catch (error) {
    if (error instanceof PermanentError) return error;
    throw error;
  }
  throw new Error('expected a PermanentError');
}

describe('DriverRegistry.register', () => {
  it('registers a valid plugin and lists it with its source', () => {
    // Prepare
    const registry = new DriverRegistry();

    // Act
    registry.register(fakePlugin(), '/plugins/fake/index.js');

    // Assess
    expect(registry.list()).toEqual([
      { name: 'fake', version: '1.2.3', apiVersion: DRIVER_API_VERSION, capabilities: ['backup'], source: '/plugins/fake/index.js' },
    ]);
    expect(registry.get('fake').manifest.name).toBe('fake');
  });

  it.each([
    ['an upper-case name', { name: 'Fake' }, 'manifest.name'],
    ['a name with an underscore', { name: 'my_db' }, 'manifest.name'],
    ['a non-semver version', { version: '1.2' }, 'manifest.version'],
    ['a fractional apiVersion', { apiVersion: 1.5 }, 'manifest.apiVersion'],
    ['an unknown capability', { capabilities: ['teleport'] }, 'manifest.capabilities'],
    ['a config schema without safeParse', { configSchema: { parse: () => 1 } }, 'manifest.configSchema'],
    ['no restore target schema', { restoreTargetSchema: undefined }, 'manifest.restoreTargetSchema'],
  ])('rejects %s with INVALID_MANIFEST naming the field', (_label, overrides, field) => {
    // Prepare
    const registry = new DriverRegistry();

    // Act
    const error = caught(() => registry.register(fakePlugin(overrides), 'test'));

    // Assess
    expect(error.code).toBe('INVALID_MANIFEST');
    expect(error.message).toContain(field);
    expect(registry.list()).toEqual([]);
  });

  it('rejects a plugin that declares backup but exports no backup driver', () => {
    // Prepare
    const registry = new DriverRegistry();
    const plugin = { ...fakePlugin(), backup: undefined };

    // Act
    const error = caught(() => registry.register(plugin));

    // Assess
    expect(error.code).toBe('INVALID_MANIFEST');
    expect(error.message).toContain("'backup' capability");
  });

  it('rejects another driver API version, naming the plugin, its version and ours', () => {
    // Prepare
    const registry = new DriverRegistry();

    // Act
    const error = caught(() => registry.register(fakePlugin({ apiVersion: 99 }), '/plugins/fake/index.js'));

    // Assess
    expect(error.code).toBe('INCOMPATIBLE_API');
    expect(error.message).toContain("'fake'");
    expect(error.message).toContain('version 99');
    expect(error.message).toContain(`supports version ${DRIVER_API_VERSION}`);
  });

  it('rejects a second driver with the same name, naming both sources', () => {
    // Prepare
    const registry = new DriverRegistry();
    registry.register(fakePlugin(), 'built-in');

    // Act
    const error = caught(() => registry.register(fakePlugin({ version: '9.9.9' }), '/opt/dbbackup/plugins/fake/index.js'));

    // Assess
    expect(error.code).toBe('DUPLICATE_DRIVER');
    expect(error.message).toContain('built-in');
    expect(error.message).toContain('/opt/dbbackup/plugins/fake/index.js');
    expect(registry.get('fake').manifest.version).toBe('1.2.3');
  });
});

describe('DriverRegistry lookups', () => {
  it('names the known engines when an engine is unknown', () => {
    // Prepare
    const registry = new DriverRegistry();
    registry.register(fakePlugin());
    registry.register(fakePlugin({ name: 'another-db' }));

    // Act
    const error = caught(() => registry.get('mongo'));

    // Assess
    expect(error.code).toBe('UNKNOWN_ENGINE');
    expect(error.message).toContain("'mongo'");
    expect(error.message).toContain('another-db, fake');
  });

  it('parses a valid config and target through the plugin schemas', () => {
    // Prepare
    const registry = new DriverRegistry();
    registry.register(fakePlugin());

    // Act
    const config = registry.parseConfig('fake', { host: 'db1', port: 5432 });
    const target = registry.parseRestoreTarget('fake', { dataDir: '/var/lib/db' });

    // Assess
    expect(config).toEqual({ host: 'db1', port: 5432 });
    expect(target).toEqual({ dataDir: '/var/lib/db' });
  });

  it('rejects an invalid config with INVALID_CONFIG naming the engine and the schema message', () => {
    // Prepare
    const registry = new DriverRegistry();
    registry.register(fakePlugin());

    // Act
    const error = caught(() => registry.parseConfig('fake', { host: 'db1', port: 'five' }));

    // Assess
    expect(error.code).toBe('INVALID_CONFIG');
    expect(error.engine).toBe('fake');
    expect(error.message).toContain("engine 'fake'");
    expect(error.message).toMatch(/port|number/);
  });

  it('rejects an invalid restore target with INVALID_TARGET', () => {
    // Prepare
    const registry = new DriverRegistry();
    registry.register(fakePlugin());

    // Act
    const error = caught(() => registry.parseRestoreTarget('fake', {}));

    // Assess
    expect(error.code).toBe('INVALID_TARGET');
    expect(error.message).toContain("engine 'fake'");
  });

  it('gives the backup driver but refuses restore to an engine without the capability', () => {
    // Prepare
    const registry = new DriverRegistry();
    const plugin = fakePlugin();
    registry.register(plugin);

    // Act
    const backup = registry.backupDriver('fake');
    const error = caught(() => registry.restoreDriver('fake'));

    // Assess
    expect(backup).toBe(plugin.backup);
    expect(error.code).toBe('UNSUPPORTED_CAPABILITY');
    expect(error.message).toContain("'fake' does not support restore");
  });
});

describe('DriverRegistry records', () => {
  const records = { consistency: z.object({ revision: z.number().int() }), facts: z.object({ keys: z.number().int() }) };

  it('checks a record against the driver\'s record schemas, naming the field', () => {
    // Prepare
    const registry = new DriverRegistry();
    registry.register(fakePlugin({ capabilities: ['backup', 'consistency-point'], recordSchemas: records }));

    // Act
    const ok = () => registry.checkRecord('fake', { consistency: { revision: 7 }, facts: { keys: 3 } }, 'manifest m.json', 'INVALID_MANIFEST');
    const badFact = caught(() => registry.checkRecord('fake', { consistency: { revision: 7 }, facts: { keys: 'three' } }, 'manifest m.json', 'INVALID_MANIFEST'));
    const noPoint = caught(() => registry.checkRecord('fake', { consistency: {}, facts: { keys: 3 } }, 'the snapshot of fake/x node default', 'INVALID_SNAPSHOT_RECORD'));

    // Assess
    expect(ok).not.toThrow();
    expect(badFact).toMatchObject({ code: 'INVALID_MANIFEST', engine: 'fake' });
    expect(badFact.message).toMatch(/^manifest m\.json does not hold what the fake driver records: .*facts\.keys/);
    expect(noPoint).toMatchObject({ code: 'INVALID_SNAPSHOT_RECORD' });
    expect(noPoint.message).toContain('no consistency point');
  });

  it('refuses a plugin whose multi-node capability and listNodes disagree', () => {
    const noop = async () => { throw new Error('not called'); };
    const lists = { createSnapshot: noop, validateSnapshot: noop, upload: noop, cleanup: noop, listNodes: noop };

    const undeclared = caught(() => new DriverRegistry().register(fakePlugin({}, { backup: lists })));
    const unlisted = caught(() => new DriverRegistry().register(fakePlugin({ capabilities: ['backup', 'multi-node'] })));

    for (const error of [undeclared, unlisted]) expect(error.message).toMatch(/multi-node.*listNodes/);
  });

  it('accepts the incremental capability on a driver that backs up and restores, and refuses it on one that only backs up', () => {
    const noop = async () => { throw new Error('not called'); };
    const restore = { prepareTarget: noop, restore: noop, validateRestore: noop };

    const accepted = new DriverRegistry().register(fakePlugin({ capabilities: ['backup', 'restore', 'incremental'] }, { restore }));
    const backupOnly = caught(() => new DriverRegistry().register(fakePlugin({ capabilities: ['backup', 'incremental'] })));

    expect(accepted.manifest.capabilities).toContain('incremental');
    expect(backupOnly).toMatchObject({ code: 'INVALID_MANIFEST' });
    expect(backupOnly.message).toMatch(/'incremental' capability without both 'backup' and 'restore'/);
  });
});
