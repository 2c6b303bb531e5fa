/** The named objects a post-schema defines, as restore validation expects them. */
import { definedObject, definerOf, definersOf, objectsDefinedBy } from '../../../drivers/mysql/shared/schema-objects';

describe('definedObject', () => {
  it('recognises views, triggers, routines and events with their definer and options', () => {
    // Act
    const objects = [
      definedObject('CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`127.0.0.1` SQL SECURITY DEFINER VIEW `shop`.`customer_totals` AS select 1'),
      definedObject("CREATE DEFINER=`root`@`127.0.0.1` TRIGGER orders_audit AFTER INSERT ON orders FOR EACH ROW INSERT INTO audit_log (message) VALUES ('x')"),
      definedObject("CREATE DEFINER='app'@'%' PROCEDURE `mark_paid`(IN order_id BIGINT) UPDATE orders SET status = 'paid'"),
      definedObject('CREATE DEFINER=CURRENT_USER FUNCTION with_tax(amount DECIMAL(12,2)) RETURNS DECIMAL(12,2) DETERMINISTIC RETURN amount * 1.2'),
      definedObject('/*!50106 CREATE*/ /*!50117 DEFINER=`root`@`localhost`*/ /*!50106 EVENT `nightly` ON SCHEDULE EVERY 1 DAY DO SELECT 1 */'),
      definedObject('CREATE OR REPLACE VIEW v2 AS SELECT 1'),
      definedObject('CREATE DEFINER="root"@"localhost" FUNCTION "f_ora"() RETURN NUMBER AS BEGIN RETURN 1; END'),
      definedObject('CREATE DEFINER=``@`localhost` VIEW `anon` AS SELECT 1'),
      definedObject('CREATE DEFINER=`root`@`%` PACKAGE "pkg" AS FUNCTION f RETURN INT; END'),
    ];

    // Assess
    expect(objects).toEqual([
      { kind: 'view', name: 'customer_totals' },
      { kind: 'trigger', name: 'orders_audit' },
      { kind: 'procedure', name: 'mark_paid' },
      { kind: 'function', name: 'with_tax' },
      { kind: 'event', name: 'nightly' },
      { kind: 'view', name: 'v2' },
      { kind: 'function', name: 'f_ora' },
      { kind: 'view', name: 'anon' },
      undefined,
    ]);
  });

  it('ignores tables, session statements and loadable functions', () => {
    // Act
    const objects = [
      definedObject('CREATE TABLE t (id INT)'),
      definedObject("SET sql_mode = 'STRICT_TRANS_TABLES'"),
      definedObject("CREATE FUNCTION metaphon RETURNS STRING SONAME 'udf_example.so'"),
    ];

    // Assess
    expect(objects).toEqual([undefined, undefined, undefined]);
  });
});

describe('objectsDefinedBy', () => {
  it('groups names by kind, sorted, without duplicates', () => {
    // Act
    const objects = objectsDefinedBy(['CREATE VIEW b AS SELECT 1', 'SET NAMES utf8mb4', 'CREATE VIEW a AS SELECT 1', 'CREATE OR REPLACE VIEW a AS SELECT 2']);

    // Assess
    expect(objects).toEqual({ view: ['a', 'b'], trigger: [], procedure: [], function: [], event: [] });
  });
});

describe('definerOf', () => {
  it('reads the account each kind of statement names as its definer, however quoted', () => {
    // Act
    const definers = [
      definerOf('CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`127.0.0.1` SQL SECURITY DEFINER VIEW `shop`.`customer_totals` AS select 1'),
      definerOf("CREATE DEFINER='app'@'%' PROCEDURE `mark_paid`(IN order_id BIGINT) UPDATE orders SET status = 'paid'"),
      definerOf("CREATE DEFINER=`o``brien`@`10.0.%` TRIGGER t AFTER INSERT ON orders FOR EACH ROW SET @x = 1"),
      definerOf("CREATE DEFINER='it''s'@'h\\'x' FUNCTION f() RETURNS INT RETURN 1"),
      definerOf('/*!50106 CREATE*/ /*!50117 DEFINER=`ops`@`localhost`*/ /*!50106 EVENT `nightly` ON SCHEDULE EVERY 1 DAY DO SELECT 1 */'),
      definerOf('CREATE DEFINER=`auditor` VIEW v AS SELECT 1'),
      definerOf('CREATE DEFINER="o\'brien"@"10.0.%" FUNCTION "f_ora"() RETURN NUMBER AS BEGIN RETURN 1; END'),
      definerOf('CREATE DEFINER=`pkg_owner`@`%` PACKAGE BODY "pkg" AS FUNCTION f RETURN INT AS BEGIN RETURN 1; END; END'),
    ];

    // Assess
    expect(definers).toEqual([
      { user: 'root', host: '127.0.0.1' },
      { user: 'app', host: '%' },
      { user: 'o`brien', host: '10.0.%' },
      { user: "it's", host: "h'x" },
      { user: 'ops', host: 'localhost' },
      { user: 'auditor' },
      { user: "o'brien", host: '10.0.%' },
      { user: 'pkg_owner', host: '%' },
    ]);
  });

  it('names none for the restoring user itself, for no definer and for statements that define nothing', () => {
    // Act
    const definers = [
      definerOf('CREATE DEFINER=CURRENT_USER FUNCTION with_tax(amount DECIMAL(12,2)) RETURNS DECIMAL(12,2) DETERMINISTIC RETURN amount * 1.2'),
      definerOf('CREATE DEFINER=CURRENT_USER() VIEW v AS SELECT 1'),
      definerOf('CREATE DEFINER=CURRENT_ROLE VIEW v AS SELECT 1'),
      definerOf('CREATE OR REPLACE VIEW v2 AS SELECT 1'),
      definerOf("CREATE TABLE `DEFINER=x@y` (id INT)"),
      definerOf('SET character_set_client = utf8mb4'),
      definerOf('CREATE DEFINER=``@`localhost` VIEW v AS SELECT 1'),
    ];

    // Assess
    expect(definers).toEqual([undefined, undefined, undefined, undefined, undefined, undefined, undefined]);
  });
});

describe('definersOf', () => {
  it('names each definer once, in the order first named, a host compared regardless of case', () => {
    // Arrange
    const statements = [
      'CREATE DEFINER=`app`@`%` VIEW v AS SELECT 1',
      'CREATE DEFINER=`ops`@`LocalHost` PROCEDURE p() SELECT 1',
      'CREATE DEFINER=`app`@`%` TRIGGER t AFTER INSERT ON orders FOR EACH ROW SET @x = 1',
      'CREATE DEFINER=`ops`@`localhost` FUNCTION f() RETURNS INT RETURN 1',
      'CREATE DEFINER=`auditor` VIEW w AS SELECT 1',
      'CREATE DEFINER=CURRENT_USER VIEW u AS SELECT 1',
    ];

    // Act
    const definers = definersOf(statements);

    // Assess
    expect(definers).toEqual([{ user: 'app', host: '%' }, { user: 'ops', host: 'LocalHost' }, { user: 'auditor' }]);
  });
});
