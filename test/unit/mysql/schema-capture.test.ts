/**
 * The privilege check before a logical backup asks version.ts what each server version needs, so
 * its verdict and its advice follow the documentation: on MySQL 8.0.19 other definers' routines
 * need the global SELECT privilege (SHOW_ROUTINE does not exist before 8.0.20, mysql.proc not at
 * all in 8.0); from 8.0.20 SHOW_ROUTINE is enough; MariaDB 11.3+ also accepts SHOW CREATE ROUTINE
 * on the database. A stand-in connection answers information_schema as such a server would.
 */
import type { Connection } from 'mysql2/promise';
import { assertSchemaReadable } from '../../../drivers/mysql/logical/schema-capture';
import { parseServerVersion } from '../../../drivers/mysql/shared/version';

const mysql = (version: string) => parseServerVersion(version, 'MySQL Community Server - GPL');
const mariadb = (version: string) => parseServerVersion(version, 'mariadb.org binary distribution');

/** What the stand-in server says about the user. */
interface Grants {
  role?: string | null;
  global?: string[];
  /** Held on every database. */
  database?: string[];
  /** Whether `mysql.proc` exists and may be read. */
  proc?: boolean;
}

/** A connection answering the check's queries from `grants`; `asked` lists the statements run. */
function standIn(grants: Grants): { connection: Connection; asked: string[] } {
  const asked: string[] = [];
  const answer = (sql: string): unknown[] => {
    if (sql.includes('CURRENT_ROLE()')) return [{ role: grants.role ?? null }];
    if (sql.includes('CURRENT_USER()')) return [{ account: 'backup@%' }];
    if (sql.includes('@@lower_case_table_names')) return [{ folding: 0 }];
    if (sql.includes('FOR PUBLIC')) return [];
    if (sql.includes('USER_PRIVILEGES')) return ['USAGE', ...(grants.global ?? [])].map((p) => ({ p }));
    if (sql.includes('SCHEMA_PRIVILEGES')) return (grants.database ?? []).map((p) => ({ p }));
    if (sql.includes('mysql.proc')) {
      if (grants.proc) return [];
      throw Object.assign(new Error("SELECT command denied to user 'backup'@'%' for table 'proc'"), { errno: 1142 });
    }
    throw new Error(`unexpected statement ${sql}`);
  };
  const connection = {
    query: (sql: string) => {
      asked.push(sql);
      try {
        return Promise.resolve([answer(sql), []]);
      } catch (error) {
        return Promise.reject(error);
      }
    },
  } as unknown as Connection;
  return { connection, asked };
}

const logger = { warn: jest.fn() };
const objectPrivileges = ['SELECT', 'SHOW VIEW', 'TRIGGER', 'EVENT'];

describe('assertSchemaReadable', () => {
  it('asks MySQL 8.0.19 for the global SELECT privilege, not for a SHOW_ROUTINE it does not have', async () => {
    // Prepare
    const { connection } = standIn({ role: 'NONE', database: objectPrivileges });

    // Act
    const checking = assertSchemaReadable(connection, mysql('8.0.19'), ['shop'], logger);

    // Assess
    await expect(checking).rejects.toMatchObject({
      name: 'PermanentError', code: 'MYSQL_PRIVILEGES', message: expect.stringMatching(/^missing privileges SELECT on \*\.\*: /),
    });
  });

  it.each(['8.0.20', '8.4.3'])('accepts SHOW_ROUTINE on MySQL %s and asks for it when missing', async (version) => {
    // Prepare
    const granted = standIn({ role: 'NONE', global: ['SHOW_ROUTINE'], database: objectPrivileges });
    const lacking = standIn({ role: 'NONE', database: objectPrivileges });

    // Act
    const [accepted, refused] = await Promise.allSettled([
      assertSchemaReadable(granted.connection, mysql(version), ['shop'], logger),
      assertSchemaReadable(lacking.connection, mysql(version), ['shop'], logger),
    ]);

    // Assess
    expect(accepted).toEqual({ status: 'fulfilled', value: undefined });
    expect(refused).toMatchObject({ status: 'rejected', reason: { code: 'MYSQL_PRIVILEGES', message: expect.stringMatching(/^missing privileges SHOW_ROUTINE on \*\.\*: /) } });
    expect(granted.asked.some((sql) => sql.includes('mysql.proc'))).toBe(false);
  });

  it('reads mysql.proc on MySQL 5.7, which has no roles to ask about', async () => {
    // Prepare
    const { connection, asked } = standIn({ database: objectPrivileges, proc: true });

    // Act
    const checking = assertSchemaReadable(connection, mysql('5.7.44'), ['shop'], logger);

    // Assess
    await expect(checking).resolves.toBeUndefined();
    expect(asked.some((sql) => sql.includes('CURRENT_ROLE()'))).toBe(false);
    expect(asked.some((sql) => sql.includes('mysql.proc'))).toBe(true);
  });

  it.each([
    ['11.4.2-MariaDB', 'accepted', undefined],
    ['10.11.19-MariaDB', 'refused', 'missing privileges SELECT on mysql.proc: '],
  ])('on MariaDB %s, SHOW CREATE ROUTINE on every database without mysql.proc is %s', async (version, _verdict, refusal) => {
    // Prepare
    const { connection } = standIn({ database: [...objectPrivileges, 'SHOW CREATE ROUTINE'] });

    // Act
    const checking = assertSchemaReadable(connection, mariadb(version), ['shop', 'crm'], logger);

    // Assess
    if (refusal === undefined) await expect(checking).resolves.toBeUndefined();
    else await expect(checking).rejects.toMatchObject({ code: 'MYSQL_PRIVILEGES', message: expect.stringContaining(refusal) });
  });

  it('names every object privilege missing per database, and skips the check when a role is active', async () => {
    // Prepare
    const bare = standIn({ database: ['SELECT'] });
    const withRole = standIn({ role: '`backup_role`@`%`' });

    // Act
    const [refused, skipped] = await Promise.allSettled([
      assertSchemaReadable(bare.connection, mariadb('10.11.19-MariaDB'), ['shop'], logger),
      assertSchemaReadable(withRole.connection, mariadb('10.11.19-MariaDB'), ['shop'], logger),
    ]);

    // Assess
    expect(refused).toMatchObject({ status: 'rejected', reason: { message: expect.stringMatching(/^missing privileges SHOW VIEW, TRIGGER, EVENT on shop; SELECT on mysql\.proc: /) } });
    expect(skipped).toEqual({ status: 'fulfilled', value: undefined });
    expect(withRole.asked).toEqual(['SELECT CURRENT_ROLE() AS role']);
  });
});
