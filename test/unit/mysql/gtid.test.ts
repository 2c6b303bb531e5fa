/** MariaDB GTID positions: parsing, merging per domain, and coverage. */
import { PermanentError } from '../../../core/errors';
import { formatGtidPosition, mergeGtidPositions, parseGtid, parseGtidPosition, positionCovers } from '../../../drivers/mysql/shared/gtid';

describe('GTID positions', () => {
  it('parses one GTID per domain, keeping the highest sequence', () => {
    // Act
    const position = parseGtidPosition('0-1-70, 1-2-5,0-3-12');

    // Assess
    expect(formatGtidPosition(position)).toBe('0-1-70,1-2-5');
    expect(parseGtidPosition('').size).toBe(0);
    expect(parseGtidPosition(undefined).size).toBe(0);
  });

  it('refuses text that is not a GTID', () => {
    // Act
    const parse = () => parseGtid('3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5');

    // Assess
    expect(parse).toThrow(PermanentError);
    expect(parse).toThrow(/not a MariaDB GTID/);
  });

  it('merges positions per domain, the later sequence winning', () => {
    // Act
    const merged = mergeGtidPositions('0-1-70,2-1-3', '0-1-75', undefined, '1-9-1');

    // Assess
    expect(merged).toBe('0-1-75,1-9-1,2-1-3');
  });

  it('says whether a position has reached a GTID of its domain', () => {
    // Assess
    expect(positionCovers('0-1-75,1-2-5', '0-1-75')).toBe(true);
    expect(positionCovers('0-1-75', '0-1-74')).toBe(true);
    expect(positionCovers('0-1-75', '0-1-76')).toBe(false);
    expect(positionCovers('0-1-75', '1-1-1')).toBe(false);
    expect(positionCovers('', '0-1-1')).toBe(false);
  });
});
