/** A replay window's pure parts: the databases a logged statement writes to, and the GTID settings a logical replay drops. */
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GtidSettingsFilter } from '../../../drivers/mysql/point-in-time/gtid-settings-filter';
import { withoutPasswords } from '../../../drivers/mysql/point-in-time/window-checks';
import { quotedAliases, statementReach } from '../../../drivers/mysql/point-in-time/statement-names';
import { statementMode, statementModeNamed, type StatementMode } from '../../../drivers/mysql/shared/statement-mode';

describe('statementReach', () => {
  const writtenDatabases = (statement: string, mode?: StatementMode) => statementReach(statement, mode).written;

  it.each([
    ['TRUNCATE shop.t', ['shop']],
    ['ALTER TABLE `my db`.`t` ADD c INT', ['my db']],
    ['ALTER TABLE `we``ird`.t ADD c INT', ['we`ird']],
    ['RENAME TABLE shop.a TO archive.a, shop.b TO archive.b', ['shop', 'archive']],
    ['DROP DATABASE shop', ['shop']],
    ['CREATE SCHEMA IF NOT EXISTS `shop`', ['shop']],
    ['/* app: migrate */ ALTER TABLE shop.t ADD c INT', ['shop']],
    ['SET STATEMENT max_statement_time=100 FOR ALTER TABLE shop.t ADD c INT', ['shop']],
    ["LOAD DATA LOCAL INFILE '/tmp/SQL_LOAD_MB-1-1' INTO TABLE `crm`.`c` FIELDS TERMINATED BY '\\t' (@`x`) SET `i`= 1", ['crm']],
    ['/*!50100 ALTER TABLE crm.t */', ['crm']],
    ['UPDATE shop.t.c', ['shop']],
    ['CREATE TABLE t (c INT, d DECIMAL(5,2) DEFAULT 1.5, e DOUBLE DEFAULT 2e3)', []],
    ["CREATE TABLE t (c VARCHAR(10) DEFAULT 'shop.t', d INT COMMENT \"x.y\") /* other.t */ -- crm.t\n", []],
    ['CREATE TABLE t (c INT) # shop.t', []],
    ["INSERT INTO t VALUES ('it\\'s shop.t', 1)", []],
    // Names read, not written: a query, a parent table, values, conditions, bodies.
    ['CREATE VIEW crm.v AS SELECT id FROM shop.t', ['crm']],
    ['CREATE TABLE x.t LIKE shop.t', ['x']],
    ['INSERT INTO crm.c SELECT * FROM shop.t', ['crm']],
    ['UPDATE shop SET shop.x = 1', []],
    ['UPDATE t JOIN u ON t.id=u.id SET t.v=u.v', []],
    ["UPDATE t AS a JOIN other.o AS b ON a.id=b.id SET b.v='x'", ['other']],
    ['ALTER TABLE t RENAME AS other.t', ['other']],
    ["ALTER TABLE t COMMENT 'x', RENAME TO other.t", ['other']],
    ["ALTER TABLE t ALTER COLUMN v SET DEFAULT 'x', RENAME TO other.t", ['other']],
    ['ALTER TABLE t CHARACTER SET utf8mb4, RENAME TO other.t', ['other']],
    ['CREATE INDEX i USING BTREE ON other.o (v)', ['other']],
    ['DROP TABLE 1e.x', ['1e']],
    ['CREATE OR REPLACE DATABASE shop', ['shop']],
    ['ALTER DATABASE CHARACTER SET utf8mb4', []],
    ['ALTER SCHEMA `crm` CHARACTER SET utf8mb4', ['crm']],
    ['CREATE DEFINER=`root`@`localhost` TRIGGER shop.tr BEFORE INSERT ON t FOR EACH ROW INSERT INTO other.log VALUES (1)', ['shop']],
    ['SELECT SETVAL(shop.s, 10)', ['shop']],
    ['DELETE FROM crm.c WHERE shop.f(crm.c.id) > information_schema.x', ['crm']],
    ['ALTER TABLE crm.t ADD FOREIGN KEY (p) REFERENCES shop.p (id)', ['crm']],
    ['CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.c = shop.f(1)', []],
    ['CREATE PROCEDURE crm.p() BEGIN INSERT INTO shop.t VALUES (1); END', ['crm']],
    // Statements that change no table.
    ['BEGIN', []],
    ['ANALYZE TABLE shop.t', []],
    ["XA START 'x'", []],
    ['', []],
  ])('%s', (statement, expected) => {
    expect(writtenDatabases(statement)).toEqual(expected);
  });

  it('says what else a statement reaches: accounts, stored code, the names in a definition\'s body', () => {
    const reach = (sql: string) => { const r = statementReach(sql); return [r.accounts, r.runsRoutine, r.named]; };
    expect(reach("GRANT ALL ON *.* TO 'evil'@'%' WITH GRANT OPTION")).toEqual([true, false, []]);
    expect(reach("CREATE USER 'evil'@'%' IDENTIFIED BY 'x'")).toEqual([true, false, []]);
    expect(reach("DROP USER 'app'@'%'")).toEqual([true, false, []]);
    expect(reach("SET PASSWORD FOR 'app'@'%' = PASSWORD('x')")).toEqual([true, false, []]);
    expect(reach('CREATE ROLE r')).toEqual([true, false, []]);
    expect(reach('CREATE TABLE user (id INT)')).toEqual([false, false, []]);
    expect(reach('SELECT f(1)')).toEqual([false, true, []]);
    expect(reach('CALL shop.p()')).toEqual([false, true, ['shop']]);
    expect(reach('SELECT SETVAL(shop.s, 10)')).toEqual([false, false, ['shop']]);
    expect(reach('CREATE VIEW v AS SELECT * FROM shop.t')).toEqual([false, false, ['shop']]);
    expect(reach('CREATE TRIGGER tr AFTER INSERT ON t FOR EACH ROW INSERT INTO shop.log VALUES (NEW.id)')).toEqual([false, false, ['shop', 'NEW']]); // NEW: the row, named like a database
  });

  it('takes the quoted aliases of a definition as the server prints it, not bare names', () => {
    const view = 'CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`localhost` SQL SECURITY DEFINER VIEW `customer_totals` AS select `c`.`id` AS `id`,sum(`o`.`total`) AS `total` from (`customers` `c` join `orders` AS `o` on(`o`.`customer_id` = `c`.`id`)) group by `c`.`id`';
    expect([...quotedAliases(view)]).toEqual(expect.arrayContaining(['c', 'o']));
    expect(quotedAliases('CREATE VIEW v AS SELECT x FROM other.o').has('other')).toBe(false);
    expect(quotedAliases('CREATE VIEW `v` AS SELECT `x` FROM `other`.`o`').has('other')).toBe(false);
  });

  it('reads the session\'s sql_mode: "…" names a table under ANSI_QUOTES, a backslash escapes nothing under NO_BACKSLASH_ESCAPES', () => {
    expect(statementMode(4)).toEqual({ ansiQuotes: true, noBackslashEscapes: false });
    expect(statementMode(1048576)).toEqual({ ansiQuotes: false, noBackslashEscapes: true });
    expect(writtenDatabases('ALTER TABLE "shop"."t" ADD c INT', statementMode(4))).toEqual(['shop']);
    expect(writtenDatabases('ALTER TABLE "shop"."t" ADD c INT')).toEqual([]);
    expect(writtenDatabases("LOAD DATA LOCAL INFILE 'C:\\' INTO TABLE crm.c", statementMode(1048576))).toEqual(['crm']);
    expect(writtenDatabases("LOAD DATA LOCAL INFILE 'C:\\' INTO TABLE crm.c")).toEqual([]); // the quote escaped: all one literal
  });

  it('reads an sql_mode written as names: ANSI_QUOTES alone or in a combination mode, NO_BACKSLASH_ESCAPES', () => {
    expect(statementModeNamed('ANSI_QUOTES,NO_BACKSLASH_ESCAPES')).toEqual({ ansiQuotes: true, noBackslashEscapes: true });
    expect(statementModeNamed('PIPES_AS_CONCAT,ORACLE')).toEqual({ ansiQuotes: true, noBackslashEscapes: false });
    expect(statementModeNamed('ansi')).toEqual({ ansiQuotes: true, noBackslashEscapes: false });
    expect(statementModeNamed('STRICT_TRANS_TABLES,NO_ANSI_QUOTES_HERE,TRADITIONAL')).toEqual({ ansiQuotes: false, noBackslashEscapes: false });
    expect(statementModeNamed('')).toEqual({ ansiQuotes: false, noBackslashEscapes: false });
  });
});

describe('withoutPasswords', () => {
  it.each([
    ["CREATE USER 'evil'@'%' IDENTIFIED BY 'evilpw'", "CREATE USER 'evil'@'%' IDENTIFIED BY '***'"],
    ["ALTER USER 'a'@'%' IDENTIFIED BY 'new''pw'", "ALTER USER 'a'@'%' IDENTIFIED BY '***'"],
    ["SET PASSWORD FOR 'app'@'%' = PASSWORD('x\\'y')", "SET PASSWORD FOR 'app'@'%' = PASSWORD('***')"],
    ["CREATE USER u IDENTIFIED VIA ed25519 USING 'hash'", "CREATE USER u IDENTIFIED VIA ed25519 USING '***'"],
    ["GRANT ALL ON *.* TO 'u'@'%' IDENTIFIED BY PASSWORD '*ABC'", "GRANT ALL ON *.* TO 'u'@'%' IDENTIFIED BY PASSWORD '***'"],
    ["TRUNCATE shop.t", 'TRUNCATE shop.t'],
  ])('%s', (statement, masked) => {
    expect(withoutPasswords(statement)).toBe(masked);
  });
});

describe('GtidSettingsFilter', () => {
  const output = [
    '# at 753',
    '#261205 17:24:11 server id 1  end_log_pos 795 CRC32 0xc8667d9f \tGTID 0-1-4 trans',
    '/*M!100101 SET @@session.skip_parallel_replication=0*//*!*/;',
    '/*M!100001 SET @@session.gtid_domain_id=0*//*!*/;',
    '/*M!100001 SET @@session.server_id=1*//*!*/;',
    '/*M!100001 SET @@session.gtid_seq_no=4*//*!*/;',
    'START TRANSACTION',
    '/*!*/;',
    "INSERT INTO t VALUES ('/*M!100001 SET @@session.gtid_seq_no=9*//*!*/;')",
    "INSERT INTO t VALUES (3, 'line1",
    '/*M!100001 SET @@session.server_id=5*//*!*/;', // inside the literal: kept
    "line3')",
    'COMMIT/*!*/;',
    '',
  ].join('\n');
  const expected = output.split('\n').filter((line) => !/gtid_domain_id|server_id=1|@@session\.gtid_seq_no=4/.test(line)).join('\n');

  async function filtered(chunkSize: number): Promise<string> {
    const bytes = Buffer.from(output, 'latin1');
    const chunks: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += chunkSize) chunks.push(bytes.subarray(i, i + chunkSize));
    const out: Buffer[] = [];
    await pipeline(Readable.from(chunks), new GtidSettingsFilter(), new Writable({ write(chunk: Buffer, _e, done) { out.push(chunk); done(); } }));
    return Buffer.concat(out).toString('latin1');
  }

  it.each([1, 7, 64, 100_000])('drops the GTID settings lines, and only those, across chunk borders (chunks of %i bytes)', async (size) => {
    expect(await filtered(size)).toBe(expected);
  });
});
