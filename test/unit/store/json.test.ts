import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { readJson, writeJson } from '../../../core/store/json';
import { LocalDirectoryStore } from '../../../core/store/local-directory-store';
import { makeTempDir, rejectionOf, removeDir } from '../../fixtures/store/files';

describe('readJson / writeJson', () => {
  let root: string;
  let store: LocalDirectoryStore;

  beforeEach(async () => {
    root = await makeTempDir('json');
    store = new LocalDirectoryStore(root);
  });

  afterEach(async () => {
    await removeDir(root);
  });

  it('round-trips a value', async () => {
    // Prepare
    const manifest = { id: 'b-1', artifacts: [{ key: 'data/x', size: 3 }], nested: { ok: true } };

    // Act
    await writeJson(store, 'backups/b-1/manifest.json', manifest);
    const read = await readJson(store, 'backups/b-1/manifest.json');

    // Assess
    expect(read).toEqual(manifest);
  });

  it('returns undefined for a missing key', async () => {
    // Act
    const read = await readJson(store, 'backups/none/manifest.json');

    // Assess
    expect(read).toBeUndefined();
  });

  it('throws INVALID_JSON naming the key for malformed content', async () => {
    // Prepare
    await writeFile(path.join(root, 'broken.json'), '{"id": "b-1", ');

    // Act
    const error = await rejectionOf(readJson(store, 'broken.json'));

    // Assess
    expect(error.name).toBe('PermanentError');
    expect(error.code).toBe('INVALID_JSON');
    expect(error.message).toContain('broken.json');
  });
});
