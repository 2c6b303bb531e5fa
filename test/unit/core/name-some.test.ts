/** The lists messages name: a few, then how many more. */
import { nameSome } from '../../../core/name-some';

describe('nameSome', () => {
  it('names every item of a short list, and says none for an empty one', () => {
    // Act / Assess
    expect(nameSome(['a', 'b', 'c'])).toBe('a, b, c');
    expect(nameSome(['a', 'b'], { separator: '; ' })).toBe('a; b');
    expect(nameSome([])).toBe('none');
  });

  it('names the first few of a long list, then how many more', () => {
    // Prepare
    const tables = Array.from({ length: 1_000 }, (_, i) => `t${i}`);

    // Act / Assess
    expect(nameSome(tables)).toBe('t0, t1, t2, t3, t4, t5, t6, t7, t8, t9, and 990 more');
    expect(nameSome(tables, { most: 2, separator: '; ' })).toBe('t0; t1; and 998 more');
  });

  it('counts items the caller stopped collecting', () => {
    // Act / Assess
    expect(nameSome(['first problem', 'second problem'], { separator: '; ', total: 7 })).toBe('first problem; second problem; and 5 more');
  });
});
