/**
 * The check a logical restore makes before it writes anything: what the post-schema needs that
 * the target could refuse only once every row is loaded. A stand-in connection answers as a
 * MariaDB 10.11 target would (the integration suite runs the same against a real one).
 */
import type { Connection } from 'mysql2/promise';
import { assertTargetAllows } from '../../../drivers/mysql/logical/target-privileges';
import { parseServerVersion } from '../../../drivers/mysql/shared/version';

const mariadb = parseServerVersion('10.11.18-MariaDB-0+deb12u1-log', 'Debian 12');

/** What the stand-in target says. */
interface Target {
  account?: string;
  /** USER_PRIVILEGES of the account (USAGE is added); null: none listed (--skip-grant-tables). */
  global?: string[] | null;
  publicGrants?: string[];
  role?: string | null;
  binlog?: boolean;
  trusted?: boolean;
}

function standIn(target: Target): { connection: Connection; asked: string[] } {
  const asked: string[] = [];
  const answer = (sql: string, values: unknown[] = []): unknown[] => {
    if (sql.includes('CURRENT_USER()')) return [{ account: target.account ?? 'restorer@%' }];
    if (sql.includes('CURRENT_ROLE()')) return [{ role: target.role ?? null }];
    if (sql.includes('@@log_bin')) return [{ on_: target.binlog === false ? 0 : 1, trusted: target.trusted ? 1 : 0 }];
    if (sql.includes('FOR PUBLIC')) return (target.publicGrants ?? []).map((grant) => ({ 'Grants for PUBLIC': grant }));
    if (sql.includes('@@lower_case_table_names')) return [{ folding: 0 }];
    if (sql.includes('USER_PRIVILEGES')) {
      expect(values).toEqual([`'${(target.account ?? 'restorer@%').replace('@', "'@'")}'`]);
      return target.global === null ? [] : ['USAGE', ...(target.global ?? [])].map((p) => ({ p }));
    }
    throw new Error(`unexpected statement ${sql}`);
  };
  const connection = {
    query: (sql: string, values?: unknown[]) => {
      asked.push(sql);
      try {
        return Promise.resolve([answer(sql, values), []]);
      } catch (error) {
        return Promise.reject(error);
      }
    },
  } as unknown as Connection;
  return { connection, asked };
}

const logger = { debug: jest.fn(), info: jest.fn(), warn: jest.fn(), error: jest.fn() };
const view = (definer: string) => `CREATE ALGORITHM=UNDEFINED DEFINER=${definer} SQL SECURITY DEFINER VIEW \`v\` AS select 1 AS \`1\``;
const deterministic = 'CREATE DEFINER=`restorer`@`%` FUNCTION `f`() RETURNS int(11)\n    DETERMINISTIC\nRETURN 1';
const undeclared = 'CREATE DEFINER=`restorer`@`%` FUNCTION `g`() RETURNS int(11)\nRETURN (SELECT COUNT(*) FROM t)';
const check = (target: Target, statements: string[], replay = false) => assertTargetAllows(standIn(target).connection, mariadb, { statements, replay }, 'restoring b1', logger);

describe('assertTargetAllows', () => {
  beforeEach(() => logger.warn.mockClear());

  it('asks nothing more of objects the restoring user defines, its host written in another case', async () => {
    // Prepare
    const { connection, asked } = standIn({ account: 'restorer@app.example' });

    // Act
    await assertTargetAllows(connection, mariadb, { statements: [view('`restorer`@`APP.example`'), 'CREATE DEFINER=CURRENT_USER PROCEDURE p() SELECT 1'], replay: false }, 'restoring b1', logger);

    // Assess
    expect(asked).toEqual(['SELECT CURRENT_USER() AS account']);
  });

  it('takes SET USER or SUPER for other definers, from the account or from PUBLIC', async () => {
    // Act
    const verdicts = await Promise.allSettled([
      check({ global: [] }, [view('`root`@`localhost`')]),
      check({ global: ['SET USER'] }, [view('`root`@`localhost`')]),
      check({ global: ['SUPER'] }, [view('`root`@`localhost`')]),
      check({ global: [], publicGrants: ['GRANT SET USER ON *.* TO PUBLIC'] }, [view('`root`@`localhost`')]),
      check({ global: [], publicGrants: ['GRANT SHOW VIEW ON `shop`.* TO PUBLIC'] }, [view('`root`@`localhost`')]),
      check({ global: [], publicGrants: ['GRANT ALL PRIVILEGES ON *.* TO PUBLIC'] }, [view('`root`@`localhost`')]),
    ]);

    // Assess
    expect(verdicts.map((v) => v.status)).toEqual(['rejected', 'fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(verdicts[0]).toMatchObject({ reason: { code: 'MYSQL_PRIVILEGES', message: expect.stringMatching(/^restoring b1: the target would refuse restorer@% part of the restore once every row is loaded — its objects keep their definers, other accounts \(root@localhost\): that needs SET USER or SUPER on \*\.\* \(GRANT SET USER ON \*\.\* TO the restore user\)\. Nothing was changed on the target$/) } });
  });

  it('under a binary log, takes SUPER for functions and triggers, and refuses a function that declares none of DETERMINISTIC, NO SQL, READS SQL DATA to anyone', async () => {
    // Act
    const verdicts = await Promise.allSettled([
      check({ global: ['SET USER'] }, [deterministic]),
      check({ global: ['SUPER'] }, [deterministic]),
      check({ global: ['SUPER'] }, [undeclared]),
      check({ global: [], trusted: true }, [undeclared, deterministic]),
      check({ global: [], binlog: false }, [undeclared, deterministic]),
      check({ global: [] }, ["CREATE DEFINER=`restorer`@`%` FUNCTION `h`() RETURNS int(11)\n    NO SQL\n    NOT DETERMINISTIC\nRETURN 1"]),
      check({ global: ['SUPER'] }, ["CREATE DEFINER=`restorer`@`%` FUNCTION `s`() RETURNS varchar(20)\n    COMMENT 'reads sql data'\nRETURN 'no sql'"]),
    ]);

    // Assess: a body or a comment saying "no sql" declares nothing
    expect(verdicts.map((v) => v.status)).toEqual(['rejected', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'rejected', 'rejected']);
    expect(verdicts[6]).toMatchObject({ reason: { message: expect.stringContaining('function s declares none of') } });
    expect(verdicts[0]).toMatchObject({ reason: { message: expect.stringContaining("it creates functions and the target's binary log is on: that needs SUPER on *.* (or log_bin_trust_function_creators = 1 on the target)") } });
    expect(verdicts[2]).toMatchObject({ reason: { message: expect.stringContaining('function g declares none of DETERMINISTIC, NO SQL, READS SQL DATA, which the target refuses to every user while its binary log is on: set log_bin_trust_function_creators = 1 on the target') } });
    expect((verdicts[2] as PromiseRejectedResult).reason.message).not.toContain('needs SUPER');
    expect((verdicts[5] as PromiseRejectedResult).reason.message).not.toContain('function h declares none');
  });

  it('asks BINLOG REPLAY or SUPER of a restore a point-in-time replay follows', async () => {
    // Act
    const verdicts = await Promise.allSettled([
      check({ global: [] }, [], true),
      check({ global: ['BINLOG REPLAY'] }, [], true),
      check({ global: ['SUPER'] }, [], true),
      check({ global: [] }, [], false),
    ]);

    // Assess
    expect(verdicts.map((v) => v.status)).toEqual(['rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
    expect(verdicts[0]).toMatchObject({ reason: { message: expect.stringContaining("the point-in-time replay applies the binary logs' row events: that needs BINLOG REPLAY or SUPER on *.* (GRANT BINLOG REPLAY ON *.* TO the restore user)") } });
  });

  it('leaves privileges to the server where it cannot read them (a role active, an account the server lists none for), not what no privilege changes', async () => {
    // Act
    await check({ role: 'restore_role' }, [view('`root`@`localhost`')], true);
    await check({ global: null, account: '@' }, [view('`root`@`localhost`')]);
    const unsafe = check({ role: 'restore_role' }, [undeclared]);

    // Assess
    expect(logger.warn.mock.calls.map(([message]) => message)).toEqual([
      'mysql restore: a role is active, the privileges the restore needs are not checked up front',
      'mysql restore: the server lists no privilege for this account (started with --skip-grant-tables?), the privileges the restore needs are not checked up front',
    ]);
    await expect(unsafe).rejects.toMatchObject({ code: 'MYSQL_PRIVILEGES', message: expect.stringContaining('function g declares none of') });
    await expect(unsafe).rejects.not.toThrow(/needs SUPER/);
  });
});
