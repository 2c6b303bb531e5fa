/** The host's own configuration file: how an agent started by SSM, with an empty environment, learns the host's settings. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseHostConfig, withHostConfig } from '../../../core/config/host-config';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dbbackup-host-config-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('host configuration', () => {
  it('reads NAME=value lines, skipping comments and blanks, with export and quotes allowed', () => {
    const text = '# restores\nDBBACKUP_RESTORE_ROOTS=/srv/restores\n\nexport DBBACKUP_SPOOL_DIR="/var/lib/dbbackup/spool"\nAWS_REGION=\'eu-west-1\'\n';

    expect(parseHostConfig(text, 'f')).toEqual({ DBBACKUP_RESTORE_ROOTS: '/srv/restores', DBBACKUP_SPOOL_DIR: '/var/lib/dbbackup/spool', AWS_REGION: 'eu-west-1' });
  });

  it('refuses a line that is not NAME=value, naming the file and line', () => {
    expect(() => parseHostConfig('A=1\nrestore roots /srv\n', '/etc/dbbackup/dbbackup.env'))
      .toThrow(expect.objectContaining({ code: 'INVALID_CONFIG', message: "/etc/dbbackup/dbbackup.env:2: expected NAME=value, got 'restore roots /srv'" }));
  });

  it('fills what the environment leaves unset; the environment wins; no file is no configuration', async () => {
    // Prepare
    const file = path.join(dir, 'dbbackup.env');
    await writeFile(file, 'DBBACKUP_RESTORE_ROOTS=/srv/restores\nDBBACKUP_LOG_LEVEL=debug\nDBBACKUP_SPOOL_DIR=/var/spool/x\n');

    // Act
    const merged = withHostConfig({ DBBACKUP_HOST_CONFIG: file, DBBACKUP_LOG_LEVEL: 'error', DBBACKUP_SPOOL_DIR: '' });
    const missing = withHostConfig({ DBBACKUP_HOST_CONFIG: path.join(dir, 'absent.env'), X: '1' });

    // Assess
    expect(merged).toMatchObject({ DBBACKUP_RESTORE_ROOTS: '/srv/restores', DBBACKUP_LOG_LEVEL: 'error', DBBACKUP_SPOOL_DIR: '/var/spool/x' });
    expect(missing).toEqual({ DBBACKUP_HOST_CONFIG: path.join(dir, 'absent.env'), X: '1' });
  });
});
