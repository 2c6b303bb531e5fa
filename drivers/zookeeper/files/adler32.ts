/**
 * Adler-32 (RFC 1950), the checksum `java.util.zip.Adler32` computes: ZooKeeper's txn logs carry
 * one per txn and its snapshots one over the whole stream (CheckedOutputStream). Node's zlib does
 * not expose it, so it is computed here, incrementally.
 */

const MOD = 65521;
/** Bytes summed between reductions (zlib's NMAX: `b` stays below 2^32). */
const NMAX = 5552;

/** An Adler-32 that takes bytes in pieces. */
export class Adler32 {
  private a = 1;
  private b = 0;

  update(bytes: Uint8Array): this {
    let { a, b } = this;
    for (let start = 0; start < bytes.length; start += NMAX) {
      const end = Math.min(bytes.length, start + NMAX);
      for (let i = start; i < end; i += 1) {
        a += bytes[i];
        b += a;
      }
      a %= MOD;
      b %= MOD;
    }
    this.a = a;
    this.b = b;
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
