/** The named time zones a post-schema sets, as schema-capture.ts writes them. */
import { namedTimeZones } from '../../../drivers/mysql/logical/target-time-zones';

describe('namedTimeZones', () => {
  it('names each zone a session statement sets once, unescaped, and leaves out offsets and SYSTEM, which every server knows', () => {
    expect(namedTimeZones([
      "SET SESSION time_zone = 'Europe/Berlin'",
      'CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO SELECT 1',
      "SET SESSION time_zone = 'Europe/Berlin'",
      "SET SESSION time_zone = '+05:30'",
      "SET SESSION time_zone = '-8:00'",
      "SET SESSION time_zone = 'SYSTEM'",
      "SET SESSION time_zone = 'Odd\\'Zone'",
      "SET SESSION sql_mode = 'ANSI'",
    ])).toEqual(['Europe/Berlin', "Odd'Zone"]);
  });
});
