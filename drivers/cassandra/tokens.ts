/** Tokens of the Murmur3 partitioner (-2^63 .. 2^63-1), as Cassandra writes them: decimal strings. */

const MIN_TOKEN = -(2n ** 63n);
const RING_SIZE = 2n ** 64n;

/**
 * `count` tokens spread evenly over the ring, one per node, first at the ring's start (what ccm
 * gives a cluster without vnodes): node i owns the range that ends at its token.
 * @example evenTokens(3) // ['-9223372036854775808', '-3074457345618258603', '3074457345618258602']
 */
export function evenTokens(count: number): string[] {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`a ring needs at least one token, not ${count}`);
  return Array.from({ length: count }, (_, i) => String(MIN_TOKEN + (BigInt(i) * RING_SIZE) / BigInt(count)));
}

/** Orders Murmur3 tokens (decimal strings) as numbers. */
export function compareTokens(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
