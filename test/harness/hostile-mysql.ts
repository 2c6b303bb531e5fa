/**
 * A hostile MySQL data set for exactness tests: every identifier position with non-ASCII names and
 * quoting characters, and every column type MariaDB 10.11 has with its edge values — the values a
 * text dump loses (FLOAT's 6 digits), the ones a strict load refuses (invalid and zero dates, the
 * ENUM error value), and the ones whose text and stored forms differ (UUID, INET4/6, BIT, GEOMETRY
 * with SRIDs, ENUM/SET members that look like numbers or are empty).
 */
import type { Connection } from 'mysql2/promise';
import { quoteId } from '../../drivers/mysql/shared/connection';

/**
 * A database name with non-ASCII characters (identifiers hold the Basic Multilingual Plane only)
 * and every quoting and special character identifiers allow.
 */
export const HOSTILE_DATABASE = 'uni ☃ ünï `q` \'s\' "d" %_.$/';

/**
 * {@link HOSTILE_DATABASE} without its backtick: mariabackup 10.11 cannot lock a non-InnoDB table
 * whose name holds one (it does not quote it), so physical backups are tested with this name.
 */
export const HOSTILE_PHYSICAL_DATABASE = HOSTILE_DATABASE.replace(/ `q`/, '');

/** A table name as long as the server takes in `é` (its file name, `@00e9` each, must fit 255 bytes); percent-encoded it is 258 characters. */
export const LONG_TABLE = 'é'.repeat(43);

/** The tables {@link seedHostile} creates, as the server names them. */
export const HOSTILE_TABLES = ['tü ☃', 'typés', 'parté', 'nö_kéy', 'chéck', LONG_TABLE];


/**
 * Creates {@link HOSTILE_DATABASE} with tables, an index, partitions, a view, a procedure, a
 * function, a trigger, an event and a sequence, all named with non-ASCII characters, and the
 * `typés` table holding edge values of every type, `chéck` holding rows its CHECK constraints (and
 * the JSON column's implicit one) refuse and a 64-member SET's top member, a table with a long name, and an account `ünï ☃ \`q\`` granted on it. Rows are inserted the way a permissive
 * application would (non-strict mode with ALLOW_INVALID_DATES), so the source holds values a
 * strict session refuses.
 */
export async function seedHostile(connection: Connection, database = HOSTILE_DATABASE): Promise<void> {
  const db = quoteId(database);
  await connection.query(`
    SET SESSION sql_mode = 'ALLOW_INVALID_DATES,NO_ENGINE_SUBSTITUTION';
    CREATE DATABASE ${db} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
    USE ${db};
    CREATE TABLE \`tü ☃\` (\`cö\` INT PRIMARY KEY, \`wért ☃\` VARCHAR(20) NOT NULL COMMENT 'kömment ☃', KEY \`idx ☃ ü\` (\`wért ☃\`)) ENGINE=InnoDB;
    CREATE TABLE \`parté\` (\`ïd\` INT NOT NULL, \`v\` VARCHAR(10)) ENGINE=InnoDB
      PARTITION BY RANGE (\`ïd\`) (PARTITION \`p☃1\` VALUES LESS THAN (10), PARTITION \`pü2\` VALUES LESS THAN MAXVALUE);
    CREATE TABLE \`nö_kéy\` (\`ä\` TEXT NULL, \`ö\` BLOB NULL) ENGINE=MyISAM;
    CREATE TABLE \`typés\` (
      id INT PRIMARY KEY,
      f FLOAT NULL, fu FLOAT UNSIGNED NULL, f73 FLOAT(7,3) NULL, d DOUBLE NULL, d205 DOUBLE(20,5) NULL,
      dec65 DECIMAL(65,30) NULL, dec0 DECIMAL(10,0) UNSIGNED ZEROFILL NULL,
      ti TINYINT NULL, tiu TINYINT UNSIGNED NULL, bi BIGINT NULL, biu BIGINT UNSIGNED NULL, mi MEDIUMINT ZEROFILL NULL,
      b1 BIT(1) NULL, b13 BIT(13) NULL, b64 BIT(64) NULL,
      y YEAR NULL, tm TIME NULL, tm6 TIME(6) NULL, dd DATE NULL, dt DATETIME NULL, dt6 DATETIME(6) NULL, ts TIMESTAMP(6) NULL DEFAULT NULL,
      e ENUM('', 'a', 'b ', '1', '0', 'ü ☃') NULL, s SET('', 'x', 'ü', '1') NULL,
      ch CHAR(5) NULL, vc VARCHAR(20) NULL, bn BINARY(4) NULL, vb VARBINARY(8) NULL,
      l1 VARCHAR(10) CHARACTER SET latin1 NULL, u16 VARCHAR(10) CHARACTER SET utf16 NULL,
      u32 TEXT CHARACTER SET utf32 NULL, sj VARCHAR(10) CHARACTER SET sjis NULL, ucs VARCHAR(5) CHARACTER SET ucs2 NULL,
      g GEOMETRY NULL, pt POINT NULL, poly POLYGON NULL,
      j JSON NULL, u UUID NULL, i4 INET4 NULL, i6 INET6 NULL,
      bl LONGBLOB NULL, tx LONGTEXT NULL
    ) ENGINE=InnoDB;
    CREATE SEQUENCE \`seqü ☃\` START WITH 7 INCREMENT BY 3;
    CREATE VIEW \`vü ☃\` AS SELECT \`cö\`, \`wért ☃\` FROM \`tü ☃\` WHERE \`wért ☃\` <> 'ß';
    CREATE TRIGGER \`trïg ☃\` BEFORE INSERT ON \`tü ☃\` FOR EACH ROW SET NEW.\`wért ☃\` = CONCAT(NEW.\`wért ☃\`, '');
    CREATE PROCEDURE \`prö ☃\`(IN \`ärg\` INT) SELECT \`ärg\` + 1 AS \`ërgebnis\`;
    CREATE FUNCTION \`fün ☃\`(\`x\` INT) RETURNS VARCHAR(10) DETERMINISTIC RETURN CONCAT('☃', \`x\`);
    CREATE EVENT \`evënt ☃\` ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM \`tü ☃\` WHERE \`cö\` < 0;
    INSERT INTO \`tü ☃\` VALUES (1, 'ä'), (2, 'ß'), (3, '☃ snow'), (4, 'tab\\there');
    CREATE TABLE \`${LONG_TABLE}\` (id INT PRIMARY KEY, v VARCHAR(10)) ENGINE=InnoDB;
    INSERT INTO \`${LONG_TABLE}\` VALUES (1, 'lang'), (2, 'länger');
    CREATE TABLE \`chéck\` (id INT PRIMARY KEY, n INT CHECK (n > 0), j JSON, s64 SET('m01', 'm02', 'm03', 'm04', 'm05', 'm06', 'm07', 'm08', 'm09', 'm10', 'm11', 'm12', 'm13', 'm14', 'm15', 'm16', 'm17', 'm18', 'm19', 'm20', 'm21', 'm22', 'm23', 'm24', 'm25', 'm26', 'm27', 'm28', 'm29', 'm30', 'm31', 'm32', 'm33', 'm34', 'm35', 'm36', 'm37', 'm38', 'm39', 'm40', 'm41', 'm42', 'm43', 'm44', 'm45', 'm46', 'm47', 'm48', 'm49', 'm50', 'm51', 'm52', 'm53', 'm54', 'm55', 'm56', 'm57', 'm58', 'm59', 'm60', 'm61', 'm62', 'm63', 'm64')) ENGINE=InnoDB;
    SET SESSION check_constraint_checks = 0;
    INSERT INTO \`chéck\` VALUES (1, -5, 'not json', 'm64'), (2, 7, '{"ok": true}', 'm01,m63,m64'), (3, NULL, NULL, '');
    SET SESSION check_constraint_checks = 1;
    INSERT INTO \`parté\` VALUES (1, 'eins'), (5, 'fünf'), (10, 'zehn'), (1000, 'tausend');
    INSERT INTO \`nö_kéy\` VALUES ('ä', x'00ff5c0a09'), ('ä', x'00ff5c0a09'), (NULL, NULL), ('\\\\N', '');
  `);
  // Every row goes in under the permissive session above: '2024-02-30', zero dates and the ENUM
  // error value (index 0, from 'no such member') are stored as a lax application stores them.
  await connection.query(`
    INSERT INTO \`typés\` (id) VALUES (1);
    INSERT INTO \`typés\` VALUES (2,
      1.2345678806304932, 16777216, 1.234, 0.1e0 + 0.2e0, 123456789012345.12345,
      '12345678901234567890123456789012345.123456789012345678901234567891', 42,
      -128, 255, -9223372036854775808, 18446744073709551615, 7,
      b'1', b'1010101010101', x'FFFFFFFFFFFFFFFF',
      1901, '-838:59:59', '-00:00:00.000001', '2024-02-29', '1000-01-01 00:00:00', '9999-12-31 23:59:59.999999', '1970-01-01 00:00:01.000001',
      '', '',
      'a  ', 'a  ', 'a', x'00005c0a0900ff7f',
      _latin1 x'e9', _utf16 x'd83dde00', _utf32 x'0001d11e', _sjis x'835c', _ucs2 x'00fc',
      ST_GeomFromText('POINT(1 2)', 4326), ST_GeomFromText('POINT(-0.5 1e300)', 3857),
      ST_GeomFromText('POLYGON((0 0, 10 0, 10 10, 0 10, 0 0), (1 1, 2 1, 2 2, 1 1))', 4326),
      '{"a": 1.0e-7, "ü": "☃", "big": 12345678901234567890, "t": "\\\\t"}',
      '6ccd780c-baba-1026-9564-5b8c656024db', '0.0.0.0', '::ffff:1.2.3.4',
      x'00', 'ü ☃');
    INSERT INTO \`typés\` VALUES (3,
      3.4028234663852886e38, 1.401298464324817e-45, -9999.999, 1.7976931348623157e308, -0.00001,
      '-99999999999999999999999999999999999.999999999999999999999999999999', 9999999999,
      127, 0, 9223372036854775807, 0, 8388607,
      b'0', b'0', x'0000000000000000',
      0, '838:59:59', '-838:59:58.999999', '2024-02-30', '0000-00-00 00:00:00', '2024-02-30 12:00:00.5', '2038-01-19 03:14:07.999999',
      'no such member', 'x,ü,1',
      '', '', x'00000000', '',
      '', '', '', '', '',
      ST_GeomFromText('GEOMETRYCOLLECTION(POINT(0 0), LINESTRING(0 0, 1 1))', 0), ST_GeomFromText('POINT(0 0)'),
      NULL, '[]', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '255.255.255.255', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
      '', '');
    INSERT INTO \`typés\` (id, f, d, fu, dd, dt, e, s, y, tm6, u, i4, i6) VALUES
      (4, -0e0, 4.9406564584124654e-324, 1.1754942106924411e-38, '0000-00-00', '2024-00-15 00:00:00', '1', '1', 2155, '00:00:00.5', '00000000-0000-0000-0000-000000000000', '127.0.0.1', '::'),
      (5, 1e-40, 2.2250738585072014e-308, 0.1, '2024-00-00', '2024-11-31 23:59:59', '0', 'ü', 1970, '-00:00:01.25', '0192f4a8-7b1e-7cc3-9a3f-1234567890ab', '10.0.0.1', '2001:db8::1'),
      (6, 16777217, -2.2250738585072014e-308, 3.4028234663852886e38, '9999-12-31', '0000-01-01 00:00:00', 'ü ☃', '', 2000, '12:34:56.789', NULL, NULL, NULL);
  `);
  // An account named like the database, granted on it (captured with includeUsers).
  await connection.query(`CREATE USER IF NOT EXISTS 'ünï ☃ \`q\`'@'%' IDENTIFIED BY 'pw'; GRANT SELECT, INSERT ON ${db}.* TO 'ünï ☃ \`q\`'@'%'`);
  const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  await connection.query(`UPDATE ${db}.\`typés\` SET bl = ?, vb = ? WHERE id = 6`, [allBytes, Buffer.from([0x5c, 0x4e, 0x09, 0x0a, 0x0d, 0x00, 0x1a, 0x5c])]);
  await connection.query("SET SESSION sql_mode = DEFAULT");
}
