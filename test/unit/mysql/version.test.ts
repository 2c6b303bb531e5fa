import { PermanentError } from '../../../core/errors';
import {
  assertSupportedVersion, binlogStatusPlan, commitBlockPlan, definerPrivileges, describeVersion, heldEventStatus, replayPrivileges, isSupportedVersion, parseServerVersion,
  publicGrantsQuery, requiredPrivileges, routineReadPlan, routinesReadable, schemaReadPlan, snapshotBinlogPlan, type ServerVersion,
} from '../../../drivers/mysql/shared/version';

const mariadb = (version: string) => parseServerVersion(version, 'Debian 12');
const mysql = (version: string) => parseServerVersion(version, 'MySQL Community Server - GPL');

describe('parseServerVersion', () => {
  it.each([
    ['10.11.19-MariaDB-0+deb12u1-log', 'Debian 12', { flavor: 'mariadb', major: 10, minor: 11, patch: 19 }],
    ['5.5.5-10.3.39-MariaDB', 'mariadb.org binary distribution', { flavor: 'mariadb', major: 10, minor: 3, patch: 39 }],
    ['11.4.2-MariaDB', '', { flavor: 'mariadb', major: 11, minor: 4, patch: 2 }],
    ['10.6.12', 'MariaDB Server', { flavor: 'mariadb', major: 10, minor: 6, patch: 12 }],
    ['8.0.36', 'MySQL Community Server - GPL', { flavor: 'mysql', major: 8, minor: 0, patch: 36 }],
    ['8.4.0-log', 'MySQL Community Server - GPL', { flavor: 'mysql', major: 8, minor: 4, patch: 0 }],
    ['5.7.44-48', 'Percona Server (GPL), Release 48', { flavor: 'mysql', major: 5, minor: 7, patch: 44 }],
    ['8.0.mysql_aurora.3.05.2', 'Source distribution', { flavor: 'mysql', major: 8, minor: 0, patch: 0 }],
  ])('reads %s (%s)', (version, comment, expected) => {
    // Act
    const parsed = parseServerVersion(version, comment);

    // Assess
    expect(parsed).toMatchObject({ ...expected, text: version, comment });
  });

  it('refuses a version string without numbers', () => {
    // Act
    const parse = () => parseServerVersion('unknown', '');

    // Assess
    expect(parse).toThrow(PermanentError);
    expect(parse).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_VERSION' }));
  });
});

describe('supported versions', () => {
  it.each(['5.7.44', '8.0.36', '8.4.3'])('supports MySQL %s', (version) => {
    expect(isSupportedVersion(mysql(version))).toBe(true);
  });

  it.each(['10.3.39-MariaDB', '10.4.34-MariaDB', '10.5.27-MariaDB', '10.6.20-MariaDB', '10.11.19-MariaDB-0+deb12u1-log', '11.0.6-MariaDB', '11.4.4-MariaDB', '11.8.1-MariaDB'])(
    'supports MariaDB %s', (version) => {
      expect(isSupportedVersion(mariadb(version))).toBe(true);
    },
  );

  it.each([
    ['MySQL 5.6.51', mysql('5.6.51')],
    ['MySQL 8.1.0 (innovation)', mysql('8.1.0')],
    ['MySQL 8.3.0 (innovation)', mysql('8.3.0')],
    ['MySQL 9.1.0', mysql('9.1.0')],
    ['MariaDB 10.2.44', mariadb('10.2.44-MariaDB')],
    ['MariaDB 5.5.68', mariadb('5.5.68-MariaDB')],
    ['MariaDB 12.0.1', mariadb('12.0.1-MariaDB')],
  ])('refuses %s with UNSUPPORTED_VERSION naming it', (label, version) => {
    // Act
    const check = () => assertSupportedVersion(version);

    // Assess
    expect(isSupportedVersion(version)).toBe(false);
    expect(check).toThrow(PermanentError);
    expect(check).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_VERSION', message: expect.stringContaining(label.replace(/ \(.*\)$/, '')) }));
  });

  it('describes versions for messages', () => {
    expect(describeVersion(mariadb('10.11.19-MariaDB-log'))).toBe('MariaDB 10.11.19');
    expect(describeVersion(mysql('8.0.36'))).toBe('MySQL 8.0.36');
  });
});

describe('commitBlockPlan', () => {
  it.each(['10.4.0-MariaDB', '10.11.19-MariaDB', '11.4.2-MariaDB'])('blocks commits with BACKUP STAGE on MariaDB %s when every table is transactional', (version) => {
    // Act
    const plan = commitBlockPlan(mariadb(version), { nonTransactional: false });

    // Assess
    expect(plan).toEqual({
      kind: 'backup-stage', prepare: [], acquire: ['BACKUP STAGE START', 'BACKUP STAGE BLOCK_COMMIT'], release: ['BACKUP STAGE END'], privilege: 'RELOAD',
    });
  });

  it.each([
    ['MariaDB 10.3 (no BACKUP STAGE)', mariadb('10.3.39-MariaDB'), false],
    ['MariaDB 10.11 with MyISAM in scope', mariadb('10.11.19-MariaDB'), true],
    ['MySQL 5.7', mysql('5.7.44'), false],
    ['MySQL 8.0', mysql('8.0.36'), false],
    ['MySQL 8.4', mysql('8.4.3'), false],
    ['MySQL 8.0 with MyISAM in scope', mysql('8.0.36'), true],
  ])('uses FLUSH TABLES WITH READ LOCK on %s', (_label, version, nonTransactional) => {
    // Act
    const plan = commitBlockPlan(version, { nonTransactional });

    // Assess
    expect(plan).toEqual({
      kind: 'flush-tables-with-read-lock', prepare: ['FLUSH LOCAL TABLES'], acquire: ['FLUSH TABLES WITH READ LOCK'], release: ['UNLOCK TABLES'], privilege: 'RELOAD',
    });
  });
});

describe('binlogStatusPlan', () => {
  it.each([
    ['10.3.39-MariaDB', 'SHOW MASTER STATUS', 'REPLICATION CLIENT'],
    ['10.5.1-MariaDB', 'SHOW MASTER STATUS', 'REPLICATION CLIENT'],
    ['10.5.2-MariaDB', 'SHOW BINLOG STATUS', 'BINLOG MONITOR'],
    ['10.11.19-MariaDB', 'SHOW BINLOG STATUS', 'BINLOG MONITOR'],
    ['11.4.2-MariaDB', 'SHOW BINLOG STATUS', 'BINLOG MONITOR'],
  ])('MariaDB %s: %s and @@gtid_binlog_pos', (version, status, privilege) => {
    // Act
    const plan = binlogStatusPlan(mariadb(version));

    // Assess
    expect(plan).toEqual({ status, gtidQuery: 'SELECT @@GLOBAL.gtid_binlog_pos', privilege });
  });

  it.each([
    ['5.7.44', 'SHOW MASTER STATUS'],
    ['8.0.36', 'SHOW MASTER STATUS'],
    ['8.4.3', 'SHOW BINARY LOG STATUS'],
  ])('MySQL %s: %s with Executed_Gtid_Set', (version, status) => {
    // Act
    const plan = binlogStatusPlan(mysql(version));

    // Assess
    expect(plan).toEqual({ status, gtidColumn: 'Executed_Gtid_Set', privilege: 'REPLICATION CLIENT' });
  });
});

describe('snapshotBinlogPlan', () => {
  it('reads MariaDB binlog_snapshot_* and BINLOG_GTID_POS', () => {
    // Act
    const plan = snapshotBinlogPlan(mariadb('10.11.19-MariaDB'));

    // Assess
    expect(plan).toEqual({ status: "SHOW SESSION STATUS LIKE 'binlog_snapshot_%'", gtidQuery: 'SELECT BINLOG_GTID_POS(?, ?)' });
  });

  it.each(['5.7.44', '8.0.36', '8.4.3'])('has no equivalent on MySQL %s', (version) => {
    expect(snapshotBinlogPlan(mysql(version))).toBeUndefined();
  });
});

/**
 * The privilege rules of the schema capture, pinned per version. Other definers' routines (MySQL
 * and MariaDB documentation): SELECT on mysql.proc on MySQL 5.7 and MariaDB; MariaDB 11.3 added
 * SHOW CREATE ROUTINE (global or per database); MySQL 8.0 has no mysql.proc (data dictionary), so
 * before 8.0.20 only the global SELECT privilege shows them, and 8.0.20 added SHOW_ROUTINE (global).
 */
describe('routine and schema privileges', () => {
  const versions: Array<[string, ServerVersion]> = [
    ['MySQL 5.7', mysql('5.7.44')],
    ['MySQL 8.0.19', mysql('8.0.19')],
    ['MySQL 8.0.20', mysql('8.0.20')],
    ['MySQL 8.4', mysql('8.4.3')],
    ['MariaDB 10.6', mariadb('10.6.20-MariaDB')],
    ['MariaDB 10.11', mariadb('10.11.19-MariaDB')],
    ['MariaDB 11.4', mariadb('11.4.2-MariaDB')],
  ];
  const byLabel = new Map(versions);

  it.each([
    ['MySQL 5.7', { procTable: true, global: [], grant: 'SELECT on mysql.proc' }],
    ['MySQL 8.0.19', { procTable: false, global: ['SELECT'], grant: 'SELECT on *.*' }],
    ['MySQL 8.0.20', { procTable: false, global: ['SELECT', 'SHOW_ROUTINE'], grant: 'SHOW_ROUTINE on *.*' }],
    ['MySQL 8.4', { procTable: false, global: ['SELECT', 'SHOW_ROUTINE'], grant: 'SHOW_ROUTINE on *.*' }],
    ['MariaDB 10.6', { procTable: true, global: [], grant: 'SELECT on mysql.proc' }],
    ['MariaDB 10.11', { procTable: true, global: [], grant: 'SELECT on mysql.proc' }],
    ['MariaDB 11.4', { procTable: true, global: ['SHOW CREATE ROUTINE'], perDatabase: 'SHOW CREATE ROUTINE', grant: 'SHOW CREATE ROUTINE' }],
  ])('%s: other definers\' routines are read as planned', (label, plan) => {
    // Act
    const planned = routineReadPlan(byLabel.get(label)!);

    // Assess
    expect(planned).toEqual(plan);
  });

  /** What a user holds; `mysql.proc` answers as the server would (absent on MySQL 8). */
  const grants = {
    'global SELECT': { global: ['SELECT'], database: [], proc: true },
    'SHOW_ROUTINE on *.*': { global: ['SHOW_ROUTINE'], database: [], proc: false },
    'SHOW CREATE ROUTINE on the database': { global: [], database: ['SHOW CREATE ROUTINE'], proc: false },
    'SELECT on mysql.proc': { global: [], database: [], proc: true },
    'only database privileges': { global: [], database: ['SELECT', 'SHOW VIEW', 'TRIGGER', 'EVENT'], proc: false },
  };
  it.each([
    ['MySQL 5.7', ['global SELECT', 'SELECT on mysql.proc']],
    ['MySQL 8.0.19', ['global SELECT']],
    ['MySQL 8.0.20', ['global SELECT', 'SHOW_ROUTINE on *.*']],
    ['MySQL 8.4', ['global SELECT', 'SHOW_ROUTINE on *.*']],
    ['MariaDB 10.6', ['global SELECT', 'SELECT on mysql.proc']],
    ['MariaDB 10.11', ['global SELECT', 'SELECT on mysql.proc']],
    ['MariaDB 11.4', ['global SELECT', 'SHOW CREATE ROUTINE on the database', 'SELECT on mysql.proc']],
  ])('%s: every routine is readable with exactly %j', async (label, enough) => {
    // Prepare
    const plan = routineReadPlan(byLabel.get(label)!);
    const isMysql8 = label.startsWith('MySQL 8');

    // Act
    const readable = Object.fromEntries(await Promise.all(Object.entries(grants).map(async ([name, held]) => {
      const procTable = jest.fn(() => Promise.resolve(held.proc && !isMysql8));
      const ok = await routinesReadable(plan, { global: new Set(held.global), databases: [new Set(held.database)], procTable });
      return [name, ok] as const;
    })));

    // Assess
    expect(Object.keys(readable).filter((name) => readable[name])).toEqual(enough);
  });

  it('never probes mysql.proc on MySQL 8 (the table is gone)', async () => {
    // Prepare
    const procTable = jest.fn(() => Promise.resolve(true));

    // Act
    const readable = await routinesReadable(routineReadPlan(mysql('8.0.19')), { global: new Set(), databases: [], procTable });

    // Assess
    expect(readable).toBe(false);
    expect(procTable).not.toHaveBeenCalled();
  });

  it.each(versions)('%s: accounts need SELECT on mysql.*, roles come from the server\'s own model', (label, version) => {
    // Act
    const plan = schemaReadPlan(version);

    // Assess
    expect(plan.objects).toEqual({ tables: 'SELECT', views: 'SHOW VIEW', triggers: 'TRIGGER', events: 'EVENT' });
    expect(plan.accounts.privilege).toBe('SELECT on mysql.*');
    expect(plan.accounts.list).toMatch(version.flavor === 'mariadb' ? /is_role AS isRole/ : /'N' AS isRole/);
    expect(plan.currentRole).toBe(label === 'MySQL 5.7' ? undefined : 'SELECT CURRENT_ROLE() AS role');
  });
});

describe('requiredPrivileges', () => {
  it.each([
    ['MariaDB 10.3', mariadb('10.3.39-MariaDB'), ['REPLICATION CLIENT', 'SELECT on mysql.proc']],
    ['MariaDB 10.11', mariadb('10.11.19-MariaDB'), ['BINLOG MONITOR', 'SELECT on mysql.proc']],
    ['MariaDB 11.4', mariadb('11.4.2-MariaDB'), ['BINLOG MONITOR', 'SHOW CREATE ROUTINE']],
    ['MySQL 5.7', mysql('5.7.44'), ['REPLICATION CLIENT', 'SELECT on mysql.proc']],
    ['MySQL 8.0.19', mysql('8.0.19'), ['REPLICATION CLIENT', 'SELECT on *.*']],
    ['MySQL 8.0.36', mysql('8.0.36'), ['REPLICATION CLIENT', 'SHOW_ROUTINE on *.*']],
    ['MySQL 8.4', mysql('8.4.3'), ['REPLICATION CLIENT', 'SHOW_ROUTINE on *.*']],
  ])('lists what %s needs', (_label, version, specific) => {
    // Act
    const privileges = requiredPrivileges(version);
    const withUsers = requiredPrivileges(version, { includeUsers: true });

    // Assess
    expect(privileges).toEqual(['SELECT', 'SHOW VIEW', 'TRIGGER', 'EVENT', 'RELOAD', ...specific]);
    expect(withUsers).toEqual([...privileges, 'SELECT on mysql.*']);
  });
});

describe('what a restore asks of the target server', () => {
  it.each([
    ['MariaDB 10.4', mariadb('10.4.34-MariaDB'), ['SUPER'], ['SUPER'], undefined, 'DISABLE ON SLAVE'],
    ['MariaDB 10.5.2', mariadb('10.5.2-MariaDB'), ['SET USER', 'SUPER'], ['BINLOG REPLAY', 'SUPER'], undefined, 'DISABLE ON SLAVE'],
    ['MariaDB 10.11', mariadb('10.11.19-MariaDB'), ['SET USER', 'SUPER'], ['BINLOG REPLAY', 'SUPER'], 'SHOW GRANTS FOR PUBLIC', 'DISABLE ON SLAVE'],
    ['MySQL 5.7', mysql('5.7.44'), ['SUPER'], ['SUPER'], undefined, 'DISABLE ON SLAVE'],
    ['MySQL 8.0.21', mysql('8.0.21'), ['SET_USER_ID', 'SUPER'], ['BINLOG_ADMIN', 'SUPER', 'REPLICATION_APPLIER'], undefined, 'DISABLE ON SLAVE'],
    ['MySQL 8.0.36', mysql('8.0.36'), ['SET_USER_ID', 'SUPER'], ['BINLOG_ADMIN', 'SUPER', 'REPLICATION_APPLIER'], undefined, 'DISABLE ON REPLICA'],
    ['MySQL 8.4', mysql('8.4.3'), ['SET_ANY_DEFINER', 'SET_USER_ID', 'SUPER'], ['BINLOG_ADMIN', 'SUPER', 'REPLICATION_APPLIER'], undefined, 'DISABLE ON REPLICA'],
  ])('on %s: who may keep other definers, replay binary logs; where PUBLIC\'s grants are, how an event is held', (_label, version, definers, replay, publicGrants, held) => {
    // Act / Assess
    expect(definerPrivileges(version)).toEqual(definers);
    expect(replayPrivileges(version)).toEqual(replay);
    expect(publicGrantsQuery(version)).toBe(publicGrants);
    expect(heldEventStatus(version)).toBe(held);
  });
});
