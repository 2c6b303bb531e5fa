/** The host's spool directory made one folder at a time: a path that cannot be made fails at once, naming DBBACKUP_SPOOL_DIR. */
import { stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { makeSpoolRoot } from '../../../core/runs/spool-root';
import { tempDir } from '../../harness/test-run';

let dir: string;
beforeEach(async () => {
  dir = await tempDir('spool-root');
});

describe('makeSpoolRoot', () => {
  it('makes the spool and its missing parents, private to this user', async () => {
    // Act
    await makeSpoolRoot(path.join(dir, 'a', 'b', 'spool'));

    // Assess
    expect((await stat(path.join(dir, 'a', 'b', 'spool'))).mode & 0o777).toBe(0o700);
  });

  it('fails at once under /proc, where Node\'s recursive mkdir loops for ever', async () => {
    // Act
    const made = await makeSpoolRoot('/proc/no-such-spool').then(() => 'made', (error: unknown) => error);

    // Assess
    expect(made).toMatchObject({ code: 'SPOOL_UNUSABLE', message: 'the spool directory /proc/no-such-spool (DBBACKUP_SPOOL_DIR) cannot be made (ENOENT): /proc/no-such-spool' });
  });

  it('says so when the spool itself is a file', async () => {
    // Prepare
    await writeFile(path.join(dir, 'spool'), '');

    // Act
    const made = await makeSpoolRoot(path.join(dir, 'spool')).then(() => 'made', (error: unknown) => error);

    // Assess
    expect(made).toMatchObject({ code: 'SPOOL_UNUSABLE', message: `the spool directory ${path.join(dir, 'spool')} (DBBACKUP_SPOOL_DIR) is a file, not a folder` });
  });

  it('says so when a folder of the path is a file', async () => {
    // Prepare
    await writeFile(path.join(dir, 'file'), '');

    // Act
    const made = await makeSpoolRoot(path.join(dir, 'file', 'spool')).then(() => 'made', (error: unknown) => error);

    // Assess
    expect(made).toMatchObject({ code: 'SPOOL_UNUSABLE', message: `the spool directory ${path.join(dir, 'file', 'spool')} (DBBACKUP_SPOOL_DIR) is under a file, not a folder: ${path.join(dir, 'file', 'spool')}` });
  });
});
