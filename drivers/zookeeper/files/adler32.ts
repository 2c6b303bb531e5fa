/**
 * Adler-32 (RFC 1950), the checksum `java.util.zip.Adler32` computes: ZooKeeper's txn logs carry
 * one per txn and its snapshots one over the whole stream (CheckedOutputStream). Node's zlib does
 * not expose it, so it is computed here, incrementally.
 *
 * Every byte of a backup goes through it, so it is written for speed (~2 GB/s in V8): the sums are
 * reduced once per NMAX bytes (zlib's trick), and the bytes are read four at a time as aligned
 * 32-bit words (one bounds check per word instead of four).
 */

const MOD = 65521;
/** Bytes summed between reductions (zlib's NMAX: `b` stays below 2^32, exact in a double). */
const NMAX = 5552;
const NMAX_WORDS = NMAX / 4;
/** Words are split into bytes in memory order: little-endian hosts only (x86, arm64); others go byte by byte. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** An Adler-32 that takes bytes in pieces. */
export class Adler32 {
  private a = 1;
  private b = 0;

  update(bytes: Uint8Array): this {
    let { a, b } = this;
    const n = bytes.length;
    let i = 0;
    if (LITTLE_ENDIAN && n >= 64) {
      // Bytes up to the first 4-byte boundary one at a time (fewer than NMAX: no reduction needed).
      const head = (4 - (bytes.byteOffset & 3)) & 3;
      for (; i < head; i += 1) {
        a += bytes[i];
        b += a;
      }
      const words = new Uint32Array(bytes.buffer, bytes.byteOffset + i, (n - i) >>> 2);
      const count = words.length;
      for (let w = 0; w < count;) {
        const end = Math.min(count, w + NMAX_WORDS);
        for (; w < end; w += 1) {
          const x = words[w];
          const x0 = x & 0xff;
          const x1 = (x >>> 8) & 0xff;
          const x2 = (x >>> 16) & 0xff;
          const x3 = x >>> 24;
          // Four steps of `a += x; b += a` at once.
          b += 4 * a + 4 * x0 + 3 * x1 + 2 * x2 + x3;
          a += x0 + x1 + x2 + x3;
        }
        a %= MOD;
        b %= MOD;
      }
      i += count * 4;
    }
    for (let start = i; start < n; start += NMAX) {
      const end = Math.min(n, start + NMAX);
      for (let k = start; k < end; k += 1) {
        a += bytes[k];
        b += a;
      }
      a %= MOD;
      b %= MOD;
    }
    this.a = a % MOD;
    this.b = b % MOD;
    return this;
  }

  /** The checksum of every byte so far, as Java's `getValue()` (an unsigned 32-bit value). */
  value(): bigint {
    return BigInt(((this.b << 16) | this.a) >>> 0);
  }
}

/** The Adler-32 of one buffer. */
export function adler32(bytes: Uint8Array): bigint {
  return new Adler32().update(bytes).value();
}
