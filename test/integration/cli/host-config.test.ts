/**
 * The CLI (and so the host agent) reads the host's own configuration file: there the host names
 * the restore roots inside which `--force` may replace data.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { useEtcdCli } from '../../harness/cli';
import { freeMemberUrls, trackMember } from '../../harness/etcd';
import { memberPidFile } from '../../../drivers/etcd/member';

const { dbbackup, etcd, work } = useEtcdCli('cli-host-config');

describe('the host configuration file', () => {
  it('names the restore roots --force may replace data in; without it a forced restore is refused', async () => {
    // Prepare: a non-empty data dir under <work>/restores, and a host file that allows that root
    const backup = JSON.parse((await dbbackup(['--json', 'backup', 'etcd', '--instance', 'host-config', '--config', JSON.stringify({ endpoints: [etcd().clientUrl] })])).stdout);
    const dataDir = path.join(work(), 'restores', 'etcd', 'data');
    await mkdir(dataDir, { recursive: true });
    await writeFile(path.join(dataDir, 'old'), 'old data');
    trackMember(memberPidFile(dataDir));
    const hostFile = path.join(work(), 'dbbackup.env');
    await writeFile(hostFile, `# this host's restores\nDBBACKUP_RESTORE_ROOTS=${path.join(work(), 'restores')}\n`);
    const target = JSON.stringify({ dataDir, ...(await freeMemberUrls()) });

    // Act
    const refused = await dbbackup(['restore', backup.backupId, '--target', target, '--force'], { DBBACKUP_RESTORE_ROOTS: '', DBBACKUP_HOST_CONFIG: path.join(work(), 'absent.env') });
    const allowed = await dbbackup(['restore', backup.backupId, '--target', target, '--force'], { DBBACKUP_RESTORE_ROOTS: '', DBBACKUP_HOST_CONFIG: hostFile });

    // Assess
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/force would replace .*, which is not inside a restore root, and this host allows none; .*DBBACKUP_RESTORE_ROOTS.*\[RESTORE_ROOT_REFUSED\]/);
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toMatch(/validated/);
  });
});
