/** The events a logical restore creates held, so that none runs before the restore is proven (or while binlogs replay), and one-time events kept as the source has them. */
import { heldEventStatement, holdEvents, keepUnpreservedEvents, type HeldEvent } from '../../../drivers/mysql/logical/held-events';

const enabled = "CREATE DEFINER=`root`@`127.0.0.1` EVENT `tick` ON SCHEDULE EVERY 1 SECOND STARTS '2026-12-05 22:59:50' ON COMPLETION NOT PRESERVE ENABLE COMMENT 'ON COMPLETION PRESERVE ENABLE' DO insert into t (note) values ('ON COMPLETION PRESERVE ENABLE')";

describe('heldEventStatement', () => {
  it('creates an enabled event DISABLE ON SLAVE, its comment and body as they were', () => {
    // Act
    const held = heldEventStatement(enabled, 'clock_copy', 'DISABLE ON SLAVE');

    // Assess
    expect(held).toEqual({
      statement: "CREATE DEFINER=`root`@`127.0.0.1` EVENT `tick` ON SCHEDULE EVERY 1 SECOND STARTS '2026-12-05 22:59:50' ON COMPLETION NOT PRESERVE DISABLE ON SLAVE COMMENT 'ON COMPLETION PRESERVE ENABLE' DO insert into t (note) values ('ON COMPLETION PRESERVE ENABLE')",
      event: { database: 'clock_copy', name: 'tick' },
    });
  });

  it('leaves disabled events, events a replica keeps, and every other statement as they are', () => {
    // Act
    const held = [
      "CREATE DEFINER=`root`@`127.0.0.1` EVENT `e3` ON SCHEDULE EVERY 1 HOUR STARTS '2026-12-05 22:59:50' ON COMPLETION NOT PRESERVE DISABLE DO select 1",
      "CREATE DEFINER=`root`@`127.0.0.1` EVENT `e2` ON SCHEDULE AT '2026-12-06 22:59:50' ON COMPLETION PRESERVE DISABLE ON SLAVE DO insert into t (at) values (now(6))",
      "CREATE DEFINER=`root`@`127.0.0.1` PROCEDURE `p`() SELECT 'ON COMPLETION PRESERVE ENABLE'",
      'SET time_zone = \'+00:00\'',
    ].map((statement) => heldEventStatement(statement, 'clock', 'DISABLE ON SLAVE'));

    // Assess
    expect(held).toEqual([undefined, undefined, undefined, undefined]);
  });
});

describe('holdEvents', () => {
  it('holds the enabled events of a post-schema, naming each', () => {
    // Prepare
    const found: HeldEvent[] = [];
    const procedure = "CREATE DEFINER=`root`@`127.0.0.1` PROCEDURE `p`() SELECT 1";

    // Act
    const statements = holdEvents([procedure, enabled], 'clock', 'DISABLE ON REPLICA', found);

    // Assess
    expect(statements[0]).toBe(procedure);
    expect(statements[1]).toContain('ON COMPLETION NOT PRESERVE DISABLE ON REPLICA COMMENT');
    expect(found).toEqual([{ database: 'clock', name: 'tick' }]);
  });
});

describe('keepUnpreservedEvents', () => {
  const oneTime = "CREATE DEFINER=`app`@`%` EVENT `past` ON SCHEDULE AT '2020-01-01 00:00:00' ON COMPLETION NOT PRESERVE DISABLE COMMENT 'ON COMPLETION NOT PRESERVE' DO SELECT 1";

  it('creates a one-time or recurring event that is not preserved preserved, then alters it back under its definer', () => {
    const recurring = "CREATE DEFINER=`app`@`%` EVENT `daily` ON SCHEDULE EVERY 1 DAY STARTS '2020-01-01 00:00:00' ENDS '2020-01-02 00:00:00' ON COMPLETION NOT PRESERVE ENABLE DO SELECT 1";
    expect(keepUnpreservedEvents([oneTime, recurring])).toEqual([
      "CREATE DEFINER=`app`@`%` EVENT `past` ON SCHEDULE AT '2020-01-01 00:00:00' ON COMPLETION PRESERVE DISABLE COMMENT 'ON COMPLETION NOT PRESERVE' DO SELECT 1",
      'ALTER DEFINER=`app`@`%` EVENT `past` ON COMPLETION NOT PRESERVE',
      "CREATE DEFINER=`app`@`%` EVENT `daily` ON SCHEDULE EVERY 1 DAY STARTS '2020-01-01 00:00:00' ENDS '2020-01-02 00:00:00' ON COMPLETION PRESERVE ENABLE DO SELECT 1",
      'ALTER DEFINER=`app`@`%` EVENT `daily` ON COMPLETION NOT PRESERVE',
    ]);
  });

  it('reads only the header: a preserved event whose comment says the words is left as it is, and so is every other statement', () => {
    const statements = [
      "CREATE DEFINER=`app`@`%` EVENT `kept` ON SCHEDULE AT '2020-01-01 00:00:00' ON COMPLETION PRESERVE ENABLE COMMENT 'was ON COMPLETION NOT PRESERVE' DO SELECT 1",
      "CREATE DEFINER=`app`@`%` EVENT `daily` ON SCHEDULE EVERY 1 DAY STARTS '2020-01-01 00:00:00' ON COMPLETION PRESERVE ENABLE COMMENT 'ON SCHEDULE AT x ON COMPLETION NOT PRESERVE' DO SELECT 1",
      "CREATE VIEW `v` AS SELECT 'ON SCHEDULE AT ON COMPLETION NOT PRESERVE' AS s",
      "SET SESSION time_zone = 'SYSTEM'",
    ];
    expect(keepUnpreservedEvents(statements)).toEqual(statements);
  });
});
