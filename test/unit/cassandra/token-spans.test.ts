/** Token spans of drivers/cassandra/table-digest.ts: the ring split at node tokens, and deterministic samples of it. */
import { sampleSpans, spansEndingAt } from '../../../drivers/cassandra/table-digest';

const MIN = -(2n ** 63n);
const MAX = 2n ** 63n - 1n;

describe('spansEndingAt', () => {
  it('sorts the tokens as numbers and wraps the first span round from the last token', () => {
    // Act
    const spans = spansEndingAt(['10', '-9223372036854775808', '-5', '10']);

    // Assess
    expect(spans).toEqual([
      { start: '10', end: '-9223372036854775808' },
      { start: '-9223372036854775808', end: '-5' },
      { start: '-5', end: '10' },
    ]);
  });

  it('gives one node the whole ring as a span from its token to itself', () => {
    expect(spansEndingAt(['42'])).toEqual([{ start: '42', end: '42' }]);
  });

  it('refuses no tokens and tokens off the Murmur3 ring', () => {
    expect(() => spansEndingAt([])).toThrow(RangeError);
    expect(() => spansEndingAt([String(MAX + 1n)])).toThrow(expect.objectContaining({ name: 'PermanentError', code: 'CASSANDRA_BAD_TOKEN' }));
    expect(() => spansEndingAt(['1.5'])).toThrow(expect.objectContaining({ code: 'CASSANDRA_BAD_TOKEN' }));
  });
});

describe('sampleSpans', () => {
  it('gives the same spans for the same inputs and others for another seed', () => {
    // Act
    const first = sampleSpans(1024, 16, 'shop.items');
    const again = sampleSpans(1024, 16, 'shop.items');
    const other = sampleSpans(1024, 16, 'shop.events');

    // Assess
    expect(again).toEqual(first);
    expect(other).not.toEqual(first);
    expect(first[0]).toEqual(sampleSpans(1024, 16, 'shop.items')[0]);
  });

  it('takes distinct equal parts of the ring, in ring order, inside its bounds', () => {
    // Act
    const spans = sampleSpans(1000, 37, 'seed');

    // Assess
    expect(spans).toHaveLength(37);
    const width = 2n ** 64n / 1000n;
    let previousEnd = MIN - 1n;
    for (const span of spans) {
      const start = BigInt(span.start);
      const end = BigInt(span.end);
      expect(start).toBeGreaterThanOrEqual(previousEnd);
      expect(start).toBeGreaterThanOrEqual(MIN);
      expect(end).toBeLessThanOrEqual(MAX);
      expect(end - start === width || end - start === width + 1n || (end === MAX && end - start === width - 1n)).toBe(true);
      previousEnd = end;
    }
  });

  it('covers the whole ring, end to end, when it takes every part', () => {
    // Act
    const spans = sampleSpans(7, 99, 'all');

    // Assess
    expect(spans).toHaveLength(7);
    expect(spans[0].start).toBe(String(MIN));
    expect(spans[6].end).toBe(String(MAX));
    for (let i = 1; i < spans.length; i++) expect(spans[i].start).toBe(spans[i - 1].end);
  });

  it('refuses a ring of no parts and a negative take', () => {
    expect(() => sampleSpans(0, 1, 'x')).toThrow(RangeError);
    expect(() => sampleSpans(4, -1, 'x')).toThrow(RangeError);
    expect(sampleSpans(4, 0, 'x')).toEqual([]);
  });
});
