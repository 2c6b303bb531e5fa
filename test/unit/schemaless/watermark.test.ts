/** The watermark's arithmetic (drivers/schemaless/watermark.ts): gaps found, filled and carried. */
import { allEnded, GapFinder, gapRanges, nextWatermark, shardWatermarkSchema, withoutIds } from '../../../drivers/schemaless/watermark';

describe('GapFinder', () => {
  it('finds the ranges missing above its floor, and keeps the floor as the maximum when nothing is seen', () => {
    const finder = new GapFinder(10n);
    for (const id of [11n, 14n, 15n, 20n]) finder.see(id);
    expect(finder.gaps()).toEqual([[12n, 13n], [16n, 19n]]);
    expect(finder.max).toBe(20n);
    expect(new GapFinder(7n).max).toBe(7n);
    expect(new GapFinder(7n).empty).toBe(true);
    expect(() => finder.see(20n)).toThrow('out of order');
  });
});

describe('withoutIds', () => {
  it('takes found ids out of ranges, splitting them, in any order of the ids', () => {
    expect(withoutIds([[5n, 9n], [20n, 20n], [30n, 31n]], [31n, 7n, 20n, 5n, 100n])).toEqual([[6n, 6n], [8n, 9n], [30n, 30n]]);
    expect(withoutIds([[1n, 3n]], [])).toEqual([[1n, 3n]]);
    expect(withoutIds([[1n, 3n]], [1n, 2n, 3n])).toEqual([]);
  });
});

describe('nextWatermark', () => {
  it('carries the unfilled gaps until the transactions that could fill them have ended, then drops them', () => {
    const fresh = new GapFinder(100n);
    fresh.see(101n);
    fresh.see(103n);
    const carried = [[40n, 41n]] as const;
    const kept = nextWatermark({ carried, carriedFinal: false, fresh, openTransactions: ['77'] });
    const dropped = nextWatermark({ carried, carriedFinal: true, fresh, openTransactions: [] });
    expect(kept).toEqual({ maxAddedId: '103', gaps: [['40', '41'], ['102', '102']], openTransactions: ['77'] });
    expect(dropped.gaps).toEqual([['102', '102']]);
    expect(shardWatermarkSchema.parse(kept)).toEqual(kept);
    expect(gapRanges(kept)).toEqual([[40n, 41n], [102n, 102n]]);
  });

  it('asks whether every recorded transaction has ended', () => {
    expect(allEnded(['1', '2'], new Set(['3']))).toBe(true);
    expect(allEnded(['1', '2'], new Set(['2']))).toBe(false);
    expect(allEnded([], new Set(['2']))).toBe(true);
  });
});
