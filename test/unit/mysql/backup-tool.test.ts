/**
 * The physical backup tools: which tool for which server, their argv, the credentials file, and
 * what their stderr says (lock time, binlog position, failures, as MYSQL_TOOLS reads them), for
 * both mariabackup and xtrabackup, without either installed. How any finished tool becomes an
 * error is test/unit/host/run-tool.test.ts.
 */
import {
  backupArgv, checkToolVersion, chooseBackupTool, extractArgv, LockTimer, parseBinlogInfo,
  parseBinlogPositionLine, parseKeyValues, prepareArgv, type BackupTool,
} from '../../../drivers/mysql/physical/backup-tool';
import { clientOptionFile, quoteOptionValue } from '../../../drivers/mysql/shared/client-option-file';
import { MYSQL_TOOLS } from '../../../drivers/mysql/shared/tool-errors';
import { PermanentError, TransientError } from '../../../core/errors';
import { redactSecrets, StderrLog } from '../../../core/host/stderr-log';
import { toolExitError, toolFailure } from '../../../core/host/tool-errors';

const mariabackup: BackupTool = { kind: 'mariabackup', command: 'mariabackup', extractCommand: 'mbstream' };
const xtrabackup: BackupTool = { kind: 'xtrabackup', command: 'xtrabackup', extractCommand: 'xbstream' };
const all = () => true;

describe('chooseBackupTool', () => {
  it('picks mariabackup + mbstream for MariaDB and xtrabackup + xbstream for MySQL', () => {
    // Act
    const maria = chooseBackupTool({ flavor: 'mariadb', version: '10.11.19-MariaDB-0+deb12u1-log' }, undefined, all);
    const maria11 = chooseBackupTool({ flavor: 'mariadb', version: '11.4.2-MariaDB' }, undefined, (c) => c !== 'mariabackup');
    const mysql80 = chooseBackupTool({ flavor: 'mysql', version: '8.0.36' }, undefined, all);
    const mysql84 = chooseBackupTool({ flavor: 'mysql', version: '8.4.0' }, 'xtrabackup', all);

    // Assess
    expect(maria).toEqual(mariabackup);
    expect(maria11).toEqual({ kind: 'mariabackup', command: 'mariadb-backup', extractCommand: 'mbstream' });
    expect(mysql80).toEqual(xtrabackup);
    expect(mysql84).toEqual(xtrabackup);
  });

  it.each([
    [{ flavor: 'mariadb' as const, version: '10.11.6-MariaDB' }, 'xtrabackup' as const, /xtrabackup cannot back up MariaDB/],
    [{ flavor: 'mysql' as const, version: '8.0.36' }, 'mariabackup' as const, /mariabackup cannot back up MySQL/],
    [{ flavor: 'mysql' as const, version: '5.6.51' }, undefined, /MySQL 5\.6\.51 is not supported/],
    [{ flavor: 'mysql' as const, version: '9.1.0' }, undefined, /MySQL 9\.1\.0 is not supported/],
    [{ flavor: 'mariadb' as const, version: '10.2.44-MariaDB' }, undefined, /10\.3 or later/],
  ])('refuses %j with tool %s', (server, configured, message) => {
    // Act
    const choose = () => chooseBackupTool(server, configured, all);

    // Assess
    expect(choose).toThrow(PermanentError);
    expect(choose).toThrow(message);
  });

  it('fails with MISSING_TOOL naming the package when the tool or its extractor is absent', () => {
    // Act
    const noBackup = () => chooseBackupTool({ flavor: 'mariadb', version: '10.11.6-MariaDB' }, undefined, () => false);
    const noExtractor = () => chooseBackupTool({ flavor: 'mariadb', version: '10.11.6-MariaDB' }, undefined, (c) => c !== 'mbstream');
    const noXtra = () => chooseBackupTool({ flavor: 'mysql', version: '8.0.36' }, undefined, () => false);

    // Assess
    expect(noBackup).toThrow(/mariabackup \(or mariadb-backup\) is not installed .*mariadb-backup/);
    expect(noExtractor).toThrow(/mbstream is not installed/);
    expect(noXtra).toThrow(/xtrabackup is not installed .*percona-xtrabackup-80/);
    try {
      noBackup();
    } catch (error) {
      expect((error as PermanentError).code).toBe('MISSING_TOOL');
    }
  });
});

describe('checkToolVersion', () => {
  it('accepts a tool of the server\'s major.minor release and refuses another', () => {
    // Prepare
    const output = 'mariabackup based on MariaDB server 10.11.19-MariaDB debian-linux-gnu (x86_64)';

    // Act
    const same = checkToolVersion(mariabackup, output, '10.11.6-MariaDB-log');
    const other = () => checkToolVersion(mariabackup, output, '10.6.18-MariaDB');

    // Assess
    expect(same).toBe('10.11.19');
    expect(other).toThrow(/mariabackup 10\.11\.19 cannot back up server 10\.6\.18-MariaDB/);
  });

  it('accepts xtrabackup 2.4 for MySQL 5.7 and 8.0 for 8.0', () => {
    // Act
    const v57 = checkToolVersion(xtrabackup, 'xtrabackup version 2.4.29 based on MySQL server 5.7.44 Linux (x86_64)', '5.7.44-log');
    const v80 = checkToolVersion(xtrabackup, 'xtrabackup version 8.0.35-30 based on MySQL server 8.0.35 Linux (x86_64)', '8.0.36');
    const wrong = () => checkToolVersion(xtrabackup, 'xtrabackup version 8.0.35-30 based on MySQL server 8.0.35 Linux (x86_64)', '8.4.0');

    // Assess
    expect(v57).toBe('5.7.44');
    expect(v80).toBe('8.0.35');
    expect(wrong).toThrow(/matching the server's 8\.4/);
  });
});

describe('client option file', () => {
  it('quotes values with the escapes option files understand', () => {
    // Act
    const quoted = quoteOptionValue('p"w\\#\'; x\ty\n');

    // Assess
    expect(quoted).toBe('"p\\"w\\\\#\'; x\\ty\\n"');
  });

  it('writes TCP settings with protocol=tcp, or the socket alone', () => {
    // Act
    const tcp = clientOptionFile({ host: 'db.internal', port: 3307, user: 'backup', password: 's3cret#1' });
    const socket = clientOptionFile({ host: '127.0.0.1', port: 3306, socketPath: '/run/mysqld/mysqld.sock', user: 'root' });

    // Assess
    expect(tcp).toBe('[client]\nuser="backup"\npassword="s3cret#1"\nhost="db.internal"\nport=3307\nprotocol=tcp\n');
    expect(socket).toBe('[client]\nuser="root"\npassword=\nsocket="/run/mysqld/mysqld.sock"\nprotocol=socket\n');
  });
});

describe('argv builders', () => {
  it('streams a backup with the option file first and no credentials in argv', () => {
    // Act
    const argv = backupArgv(mariabackup, { optionFile: '/tmp/x/client.cnf', targetDir: '/spool/.w/tool', datadir: '/var/lib/mysql/', parallel: 4 });

    // Assess
    expect(argv).toEqual([
      '--defaults-file=/tmp/x/client.cnf', '--backup', '--stream=xbstream', '--target-dir=/spool/.w/tool', '--datadir=/var/lib/mysql/', '--parallel=4',
    ]);
    expect(argv.join(' ')).not.toMatch(/password|--user/);
  });

  it('prepares without reading the host\'s option files and extracts into a directory', () => {
    // Act
    const prepare = prepareArgv(xtrabackup, '/data.restore-staging');
    const extract = extractArgv(mariabackup, '/data.restore-staging', 2);

    // Assess
    expect(prepare).toEqual(['--no-defaults', '--prepare', '--target-dir=/data.restore-staging']);
    expect(extract).toEqual(['-x', '--directory=/data.restore-staging', '--parallel=2']);
  });
});

describe('backup metadata', () => {
  it('parses MariaDB\'s one-line and MySQL\'s multi-line xtrabackup_binlog_info', () => {
    // Act
    const maria = parseBinlogInfo('binlog.000002\t1234\t0-1-56,1-2-7\n');
    const mysql = parseBinlogInfo('mysql-bin.000003\t157\t3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5,\n5D2B1F1A-71CA-11E1-9E33-C80AA9429562:1-3\n');
    const off = parseBinlogInfo('');
    const noGtid = parseBinlogInfo('binlog.000001 4');

    // Assess
    expect(maria).toEqual({ binlogFile: 'binlog.000002', binlogPosition: 1234, gtid: '0-1-56,1-2-7' });
    expect(mysql).toEqual({ binlogFile: 'mysql-bin.000003', binlogPosition: 157, gtid: '3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5,5D2B1F1A-71CA-11E1-9E33-C80AA9429562:1-3' });
    expect(off).toBeUndefined();
    expect(noGtid).toEqual({ binlogFile: 'binlog.000001', binlogPosition: 4 });
    expect(() => parseBinlogInfo('garbage')).toThrow(/malformed/);
  });

  it('reads the binlog position mariabackup prints and key = value files', () => {
    // Act
    const line = parseBinlogPositionLine("[00] 2026-11-21 12:10:07 MySQL binlog position: filename 'binlog.000001', position '1642603', GTID of the last change '0-1-70'");
    const values = parseKeyValues('backup_type = full-backuped\nfrom_lsn = 0\nlast_lsn = 2940106\n');

    // Assess
    expect(line).toEqual({ binlogFile: 'binlog.000001', binlogPosition: 1642603, gtid: '0-1-70' });
    expect(parseBinlogPositionLine('[00] Streaming ibdata1')).toBeUndefined();
    expect(values).toEqual({ backup_type: 'full-backuped', from_lsn: '0', last_lsn: '2940106' });
  });
});

describe('LockTimer', () => {
  it('measures BACKUP STAGE BLOCK_COMMIT to END as the write lock and BLOCK_DDL to END as the DDL lock', () => {
    // Prepare
    const timer = new LockTimer();

    // Act
    timer.line('[00] 2026-11-21 12:10:06 Acquired locks for BACKUP STAGE START', 1000);
    timer.line('[00] 2026-11-21 12:10:06 Acquired locks for BACKUP STAGE BLOCK_DDL', 1200);
    timer.line('[00] 2026-11-21 12:10:07 Acquired locks for BACKUP STAGE BLOCK_COMMIT', 1900);
    timer.line('[00] 2026-11-21 12:10:07 Executing BACKUP STAGE END', 1950);
    timer.line('[00] 2026-11-21 12:10:07 All tables unlocked', 1960);

    // Assess
    expect(timer.result()).toEqual({ writeMs: 50, ddlMs: 750, pointAt: 1900, kind: 'backup-stage' });
  });

  it('measures FLUSH TABLES WITH READ LOCK to the unlock for xtrabackup, and nothing when the tool said nothing', () => {
    // Prepare
    const ftwrl = new LockTimer();
    const silent = new LockTimer();

    // Act
    ftwrl.line('xtrabackup: Executing FLUSH TABLES WITH READ LOCK...', 500);
    ftwrl.line('All tables unlocked', 620);
    silent.line('Streaming ./ibdata1', 10);

    // Assess
    expect(ftwrl.result()).toEqual({ writeMs: 120, ddlMs: 120, pointAt: 500, kind: 'flush-tables-with-read-lock' });
    expect(silent.result()).toEqual({ writeMs: undefined, ddlMs: undefined, pointAt: undefined, kind: 'none' });
  });
});

describe('stderr and failures', () => {
  const privilegeStderr = [
    '[00] 2026-11-21 12:10:32 Connecting to MariaDB server host: 127.0.0.1, user: weak, password: set, port: 3306, socket: not set',
    '[00] 2026-11-21 12:10:32 Error: missing required privilege RELOAD on *.*',
    '[00] 2026-11-21 12:10:32 Error: missing required privilege PROCESS on *.*',
    "[00] 2026-11-21 12:10:32   1.GRANT SELECT ON *.* TO `weak`@`%` IDENTIFIED BY PASSWORD '*D821809F681A40A6E379B50D0463EFAE20BDD122'",
  ].join('\n');

  it('keeps error lines first, lines split across chunks whole, and password hashes out', () => {
    // Prepare
    const seen: string[] = [];
    const log = new StderrLog((line) => seen.push(line), 2);

    // Act
    log.write(privilegeStderr.slice(0, 100));
    log.write(`${privilegeStderr.slice(100)}\n[00] tail line`);
    log.end();

    // Assess
    expect(seen).toHaveLength(5);
    expect(log.text().split('\n')[0]).toMatch(/missing required privilege RELOAD/);
    expect(log.text()).toMatch(/tail line/);
    expect(log.text()).not.toMatch(/D821809F/);
    expect(redactSecrets("IDENTIFIED VIA ed25519 USING 'abc\\'def' x")).toBe("IDENTIFIED VIA ed25519 USING '<redacted>' x");
  });

  it.each([
    [privilegeStderr, PermanentError, 'MYSQL_PRIVILEGES', /lacks RELOAD, PROCESS/],
    ["Failed to connect to MariaDB server: Access denied for user 'root'@'127.0.0.1' (using password: YES).", PermanentError, 'AUTH_FAILED', /authentication failed \(MYSQL_AUTH\)/],
    ["ERROR: Got error reading packet from server: Access denied; you need (at least one of) the REPLICATION SLAVE privilege(s) for this operation", PermanentError, 'MYSQL_PRIVILEGES', /REPLICATION SLAVE/],
    ["Failed to connect to MariaDB server: Can't connect to server on '127.0.0.1' (111).", TransientError, 'MYSQL_UNAVAILABLE', /cannot reach/],
    ['xb_stream_read_chunk(): invalid checksum at offset 0xd71f0d: expected 0xd70a0789, read 0x33ac8998.', PermanentError, 'SNAPSHOT_CORRUPT', /corrupt or truncated/],
    ['ERROR: Got error reading packet from server: Could not find first log file name in binary log index file', PermanentError, 'BINLOG_NOT_FOUND', /purged/],
    ["[00] FATAL ERROR: 2026-12-02 06:35:15 failed to execute query BACKUP LOCK `a `q``.`t`: Incorrect table name 'a '", PermanentError, 'MYSQL_UNSUPPORTED_NAME', /cannot lock the non-InnoDB table `a `q``\.`t`.*backtick.*logical mode/],
    ['something else entirely', PermanentError, 'MYSQL_TOOL_FAILED', /see its output/],
  ])('maps %s', (stderr, kind, code, message) => {
    // Act
    const error = toolFailure(MYSQL_TOOLS, 'mariabackup --backup', { code: 1 }, stderr);

    // Assess
    expect(error).toBeInstanceOf(kind);
    expect(error.code).toBe(code);
    expect(error.message).toMatch(/^mariabackup --backup exited with code 1: /);
    expect(error.message).toMatch(message);
  });

  it('uses the caller\'s code for unknown failures and names a killing signal', () => {
    // Act
    const error = toolFailure(MYSQL_TOOLS, 'mariadb client', { code: null, signal: 'SIGKILL' }, '', 'PITR_REPLAY_FAILED');

    // Assess
    expect(error.code).toBe('PITR_REPLAY_FAILED');
    expect(error.message).toMatch(/was killed by SIGKILL.*\(no output\)/s);
  });
});

describe('toolExitError with MYSQL_TOOLS', () => {
  it('classifies a failed tool by its stderr with secrets redacted, and a clean exit as success', () => {
    // Act
    const failed = toolExitError(MYSQL_TOOLS, 'mariabackup', 'mariabackup --backup', {
      code: 1, signal: null, stderr: "Error: missing required privilege RELOAD on *.*\nGRANT USAGE ON *.* TO `weak`@`%` IDENTIFIED BY PASSWORD '*D821809F'",
    });
    const fine = toolExitError(MYSQL_TOOLS, 'mariabackup', 'mariabackup --backup', { code: 0, signal: null, stderr: 'completed OK!' });

    // Assess
    expect(failed).toMatchObject({ name: 'PermanentError', code: 'MYSQL_PRIVILEGES', message: expect.stringMatching(/^mariabackup --backup exited with code 1: the backup user lacks RELOAD/) });
    expect(failed!.message).not.toMatch(/D821809F/);
    expect(fine).toBeUndefined();
  });
});
