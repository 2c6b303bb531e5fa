/** A replay window's pure parts: the database qualifiers a logged statement names, and the GTID settings a logical replay drops. */
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GtidSettingsFilter } from '../../../drivers/mysql/point-in-time/gtid-settings-filter';
import { mayChangeTables, qualifiers } from '../../../drivers/mysql/point-in-time/statement-names';

describe('qualifiers', () => {
  it.each([
    ['TRUNCATE shop.t', ['shop']],
    ['ALTER TABLE `my db`.`t` ADD c INT', ['my db']],
    ['ALTER TABLE `we``ird`.t ADD c INT', ['we`ird']],
    ['RENAME TABLE shop.a TO archive.a, shop.b TO archive.b', ['shop', 'archive']],
    ['CREATE TABLE t (c INT REFERENCES other.p (id), d DECIMAL(5,2) DEFAULT 1.5, e DOUBLE DEFAULT 2e3)', ['other']],
    ["CREATE TABLE t (c VARCHAR(10) DEFAULT 'shop.t', d INT COMMENT \"x.y\") /* other.t */ -- crm.t\n", []],
    ['CREATE TABLE t (c INT) # shop.t', []],
    ['/*!50100 ALTER TABLE crm.t */', ['crm']],
    ['CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.c = shop.f(1)', ['NEW', 'shop']],
    ['UPDATE shop.t.c', ['shop']],
    ['INSERT INTO t VALUES (\'it\\\'s shop.t\', 1)', []],
    ['CREATE TABLE t (c INT)', []],
  ])('%s', (statement, expected) => {
    expect(qualifiers(statement)).toEqual(expected);
  });

  it('tells statements that may change a table from those that cannot', () => {
    expect(['TRUNCATE shop.t', 'ALTER TABLE t ADD c INT', '/*!40000 ALTER TABLE t DISABLE KEYS */', 'DROP TABLE x', 'insert into t values (1)'].map(mayChangeTables)).toEqual([true, true, true, true, true]);
    expect(['BEGIN', 'COMMIT', "GRANT SELECT ON shop.t TO 'u'@'%'", 'ANALYZE TABLE shop.t', 'XA START \'x\'', ''].map(mayChangeTables)).toEqual([false, false, false, false, false, false]);
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
    'COMMIT/*!*/;',
    '',
  ].join('\n');
  const expected = output.split('\n').filter((line) => !/gtid_domain_id|server_id=|@@session\.gtid_seq_no=4/.test(line)).join('\n');

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
