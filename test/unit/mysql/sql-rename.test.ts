/**
 * Database renames inside schema statements: CREATE DATABASE / USE names and qualified references
 * are rewritten; strings, comments, unrelated databases and column qualifiers are not.
 */
import { createdDatabase, objectsCreatedBy, renameDatabases } from '../../../drivers/mysql/logical/sql-rename';

const renames = { shop: 'shop_copy', 'we`ird': 'plain' };

describe('renameDatabases', () => {
  it('renames the database a CREATE DATABASE statement creates, keeping its options', () => {
    // Prepare
    const sql = 'CREATE DATABASE `shop` /*!40100 DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci */';

    // Act
    const renamed = renameDatabases(sql, renames);

    // Assess
    expect(renamed).toBe('CREATE DATABASE `shop_copy` /*!40100 DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci */');
  });

  it('renames IF NOT EXISTS forms, USE and ALTER DATABASE, quoted or bare', () => {
    // Act
    const results = [
      renameDatabases('CREATE SCHEMA IF NOT EXISTS shop', renames),
      renameDatabases('CREATE DATABASE /*!32312 IF NOT EXISTS*/ `shop`', renames),
      renameDatabases('USE `shop`', renames),
      renameDatabases('ALTER DATABASE shop CHARACTER SET utf8mb4', renames),
      renameDatabases('CREATE DATABASE `we``ird`', renames),
    ];

    // Assess
    expect(results).toEqual([
      'CREATE SCHEMA IF NOT EXISTS `shop_copy`',
      'CREATE DATABASE /*!32312 IF NOT EXISTS*/ `shop_copy`',
      'USE `shop_copy`',
      'ALTER DATABASE `shop_copy` CHARACTER SET utf8mb4',
      'CREATE DATABASE `plain`',
    ]);
  });

  it('renames qualified references to renamed databases, not to others, not column qualifiers', () => {
    // Prepare
    const sql = 'CREATE VIEW `shop`.`v` AS select `c`.`id` AS `id` from (`shop`.`customers` `c` join other.t on shop . orders.id = c.id) where x.shop.y = 1';

    // Act
    const renamed = renameDatabases(sql, renames);

    // Assess
    expect(renamed).toBe('CREATE VIEW `shop_copy`.`v` AS select `c`.`id` AS `id` from (`shop_copy`.`customers` `c` join other.t on `shop_copy` . orders.id = c.id) where x.shop.y = 1');
  });

  it('leaves string literals, comments, variables and numbers alone', () => {
    // Prepare
    const sql = "INSERT INTO log VALUES ('shop.orders', \"shop.x\", 'it''s shop.y', 'back\\\\' ) -- shop.z\n/* shop.w */ # shop.v\n; SELECT @@session.sql_mode, 1.5";

    // Act
    const renamed = renameDatabases(sql, { ...renames, session: 'nope', 1: 'two' });

    // Assess
    expect(renamed).toBe(sql);
  });

  it('returns the statement unchanged when nothing is renamed', () => {
    // Prepare
    const sql = 'CREATE DATABASE `shop`';

    // Act / Assess
    expect(renameDatabases(sql, {})).toBe(sql);
  });
});

describe('createdDatabase', () => {
  it('names the database of CREATE DATABASE/SCHEMA statements and nothing else', () => {
    // Act
    const names = [
      createdDatabase('  -- header\nCREATE DATABASE `shop` /*!40100 DEFAULT CHARACTER SET utf8mb4 */'),
      createdDatabase('create schema if not exists `a``b`'),
      createdDatabase('CREATE TABLE shop (id INT)'),
      createdDatabase('SET NAMES utf8mb4'),
    ];

    // Assess
    expect(names).toEqual(['shop', 'a`b', undefined, undefined]);
  });
});

describe('renameDatabases, knowing what each renamed database defines', () => {
  const defined = new Map([['shop', objectsCreatedBy([
    'CREATE TABLE `shop` (`id` int, `total` int)',
    'CREATE TABLE `Audit` (`n` int)',
    'CREATE SEQUENCE `ticket` start with 1',
    'CREATE DEFINER=`root`@`%` PROCEDURE `p_total`() SELECT 1',
    'CREATE DEFINER=`root`@`%` FUNCTION `With_Tax`(x INT) RETURNS int RETURN x',
  ])], ['zz', objectsCreatedBy(['CREATE TABLE `base` (`id` int)'])]]);

  it('names what the statements create, in lower case', () => {
    expect([...defined.get('shop')!].sort()).toEqual(['audit', 'p_total', 'shop', 'ticket', 'with_tax']);
  });

  it('leaves a table\'s or alias\'s column alone when the renamed database of that name has no such object, and renames its objects, three-part names and grants', () => {
    // Act
    const results = [
      renameDatabases('CREATE PROCEDURE p_total() SELECT shop.id, shop.total FROM shop', { shop: 'shop_r' }, defined),
      renameDatabases('CREATE TRIGGER t AFTER INSERT ON shop FOR EACH ROW INSERT INTO shop.audit (n) SELECT COUNT(*) FROM shop WHERE shop.total > 0', { shop: 'shop_r' }, defined),
      renameDatabases('CREATE VIEW v AS SELECT zz.id FROM zz.base zz', { zz: 'zz_r' }, defined),
      renameDatabases('CREATE TRIGGER t AFTER INSERT ON `shop`.`shop` FOR EACH ROW INSERT INTO shop.audit (n) SELECT COUNT(*) FROM shop.shop WHERE shop.total > 0', { shop: 'shop_r' }, defined),
      renameDatabases('CREATE VIEW w AS SELECT shop.shop.total, shop.With_Tax(1), NEXTVAL(shop.ticket) FROM shop.shop', { shop: 'shop_r' }, defined),
      renameDatabases('GRANT SELECT ON shop.* TO `u`@`%`', { shop: 'shop_r' }, defined),
    ];

    // Assess
    expect(results).toEqual([
      'CREATE PROCEDURE p_total() SELECT shop.id, shop.total FROM shop',
      'CREATE TRIGGER t AFTER INSERT ON shop FOR EACH ROW INSERT INTO `shop_r`.audit (n) SELECT COUNT(*) FROM shop WHERE shop.total > 0',
      'CREATE VIEW v AS SELECT zz.id FROM `zz_r`.base zz',
      'CREATE TRIGGER t AFTER INSERT ON `shop_r`.`shop` FOR EACH ROW INSERT INTO `shop_r`.audit (n) SELECT COUNT(*) FROM `shop_r`.shop WHERE shop.total > 0',
      'CREATE VIEW w AS SELECT `shop_r`.shop.total, `shop_r`.With_Tax(1), NEXTVAL(`shop_r`.ticket) FROM `shop_r`.shop',
      'GRANT SELECT ON `shop_r`.* TO `u`@`%`',
    ]);
  });

  it('renames what a statement only ever qualifies, known to the backup or not: a table a routine creates itself, a grant on an object gone', () => {
    // Act
    const results = [
      renameDatabases('CREATE PROCEDURE archive() BEGIN CREATE TABLE IF NOT EXISTS shop.archive (id INT); INSERT INTO shop.archive SELECT * FROM shop.orders; END', { shop: 'shop_r' }, defined),
      renameDatabases('GRANT SELECT ON shop.dropped_table TO `u`@`%`', { shop: 'shop_r' }, defined),
      renameDatabases('GRANT EXECUTE ON PROCEDURE shop.gone TO `u`@`%`', { shop: 'shop_r' }, defined),
    ];

    // Assess
    expect(results).toEqual([
      'CREATE PROCEDURE archive() BEGIN CREATE TABLE IF NOT EXISTS `shop_r`.archive (id INT); INSERT INTO `shop_r`.archive SELECT * FROM `shop_r`.orders; END',
      'GRANT SELECT ON `shop_r`.dropped_table TO `u`@`%`',
      'GRANT EXECUTE ON PROCEDURE `shop_r`.gone TO `u`@`%`',
    ]);
  });
});

describe('renameDatabases of grants on a whole database', () => {
  it('renames a database a grant names with its wildcards escaped, escaping the new name the same way; a name with no escape, or another database\'s, as before', () => {
    // Act
    const results = [
      renameDatabases('GRANT SELECT, INSERT ON `a\\_b`.* TO `u`@`%`', { a_b: 'a_c%d' }),
      renameDatabases('REVOKE SELECT ON `a\\_b`.* FROM `u`@`%`', { a_b: 'x' }),
      renameDatabases('GRANT SELECT ON `a_b`.* TO `u`@`%`', { a_b: 'a_c' }),
      renameDatabases('GRANT SELECT ON `a\\_bc`.* TO `u`@`%`', { a_b: 'a_c' }),
      renameDatabases('GRANT SELECT ON `a\\_b`.`t` TO `u`@`%`', { a_b: 'a_c' }),
    ];

    // Assess
    expect(results).toEqual([
      'GRANT SELECT, INSERT ON `a\\_c\\%d`.* TO `u`@`%`',
      'REVOKE SELECT ON `x`.* FROM `u`@`%`',
      'GRANT SELECT ON `a_c`.* TO `u`@`%`',
      'GRANT SELECT ON `a\\_bc`.* TO `u`@`%`',
      'GRANT SELECT ON `a\\_b`.`t` TO `u`@`%`', // a table-level grant names its database as it is
    ]);
  });
});

describe('renameDatabases under NO_BACKSLASH_ESCAPES', () => {
  it('ends a string at its quote even after a backslash, so the reference after it is renamed', () => {
    // Prepare
    const sql = "CREATE FUNCTION path_of() RETURNS VARCHAR(100) READS SQL DATA RETURN (SELECT CONCAT('C:\\', name) FROM nb.cfg WHERE id = 1)";

    // Act
    const renamed = renameDatabases(sql, { nb: 'nb_copy' }, undefined, { noBackslashEscapes: true });
    const readWithEscapes = renameDatabases(sql, { nb: 'nb_copy' });

    // Assess
    expect(renamed).toBe("CREATE FUNCTION path_of() RETURNS VARCHAR(100) READS SQL DATA RETURN (SELECT CONCAT('C:\\', name) FROM `nb_copy`.cfg WHERE id = 1)");
    expect(readWithEscapes).toBe(sql); // read with escapes, the string runs on past the reference
  });
});

describe('renameDatabases under ANSI_QUOTES', () => {
  it('reads a double-quoted name as a name: a qualified one follows the rename, a string of the same words does not', () => {
    // Prepare
    const sql = 'CREATE PROCEDURE "log_it"() INSERT INTO "shop"."audit" ("note") SELECT \'shop.audit\' FROM "shop".orders WHERE "shop"."orders"."id" = 1';
    const quoted = 'CREATE PROCEDURE p() SELECT "shop"."audit" FROM dual';

    // Act
    const renamed = renameDatabases(sql, { shop: 'shop_r' }, undefined, { ansiQuotes: true });
    const readAsStrings = renameDatabases(quoted, { shop: 'shop_r' });

    // Assess
    expect(renamed).toBe('CREATE PROCEDURE "log_it"() INSERT INTO `shop_r`."audit" ("note") SELECT \'shop.audit\' FROM `shop_r`.orders WHERE `shop_r`."orders"."id" = 1');
    expect(readAsStrings).toBe(quoted); // without ANSI_QUOTES, "shop"."audit" is two strings
  });

  it('unquotes a doubled double quote inside a name', () => {
    // Act
    const renamed = renameDatabases('SELECT * FROM "we""ird".t', { 'we"ird': 'plain' }, undefined, { ansiQuotes: true });

    // Assess
    expect(renamed).toBe('SELECT * FROM `plain`.t');
  });
});
