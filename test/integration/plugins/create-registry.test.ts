import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createRegistry } from '../../../core/driver/create-registry';
import { builtinPlugins } from '../../../drivers';

const FIXTURES = path.resolve(__dirname, '../../fixtures/plugins');

async function sha256Of(file: string): Promise<string> {
  return createHash('sha256').update(await readFile(file)).digest('hex');
}

describe('createRegistry', () => {
  it('holds the built-ins, etcd among them, with no plugin paths', async () => {
    // Act
    const registry = await createRegistry(builtinPlugins());

    // Assess
    expect(builtinPlugins().map((p) => p.manifest.name)).toContain('etcd');
    expect(registry.list().map((d) => [d.name, d.source])).toContainEqual(['etcd', 'built-in']);
  });

  it('adds pinned external plugins after the built-ins', async () => {
    // Prepare
    const pins = { dirtree: await sha256Of(path.join(FIXTURES, 'good/dirtree/index.js')) };

    // Act
    const registry = await createRegistry(builtinPlugins(), { pluginPaths: [path.join(FIXTURES, 'good')], pins });

    // Assess
    expect(registry.has('etcd')).toBe(true);
    expect(registry.has('dirtree')).toBe(true);
  });

  it('refuses an external plugin that takes the name of the built-in etcd driver', async () => {
    // Prepare
    const entry = path.join(FIXTURES, 'duplicate/etcd-copy/index.js');

    // Act
    const created = createRegistry(builtinPlugins(), { pluginPaths: [path.join(FIXTURES, 'duplicate')], pins: { 'etcd-copy': await sha256Of(entry) } });

    // Assess
    await expect(created).rejects.toMatchObject({
      name: 'PermanentError',
      code: 'DUPLICATE_DRIVER',
      message: `driver 'etcd' is registered twice: by built-in and by ${entry}`,
    });
  });
});
