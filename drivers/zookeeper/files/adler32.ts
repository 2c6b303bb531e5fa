/**
 * Adler-32 (RFC 1950), the checksum `java.util.zip.Adler32` computes: ZooKeeper's txn logs carry
 * one per txn and its snapshots one over the whole stream (CheckedOutputStream). Node's zlib does
 * not expose it, so it is computed here, incrementally.
 *
 * Every byte of a backup goes through it, so it is written for speed (~2.5 GB/s in V8): the bytes
 * are read four at a time as aligned 32-bit words, whose bytes are summed two lanes at a time
 * (`x & 0x00ff00ff` holds bytes 0 and 2, `(x >>> 8) & 0x00ff00ff` bytes 1 and 3); over a block of
 * words, `b`'s growth is rebuilt from the lane sums and the running sum of the word sums, and the
 * sums are reduced once per block (zlib's NMAX idea).
 */

const MOD = 65521;
/** Bytes summed between reductions in the byte-at-a-time loop (zlib's NMAX: `b` stays exact). */
const NMAX = 5552;
/** Words per block: a 16-bit lane sums at most 255 × 256 = 65 280, so lanes never carry into each other. */
const BLOCK_WORDS = 256;
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
      // Bytes up to the first 4-byte boundary one at a time (then reduced: the block sums assume a, b < MOD).
      const head = (4 - (bytes.byteOffset & 3)) & 3;
      for (; i < head; i += 1) {
        a += bytes[i];
        b += a;
      }
      a %= MOD;
      b %= MOD;
      const words = new Uint32Array(bytes.buffer, bytes.byteOffset + i, (n - i) >>> 2);
      const count = words.length;
      for (let w = 0; w < count;) {
        const end = Math.min(count, w + BLOCK_WORDS);
        const length = end - w;
        // Lane sums of bytes 0|2 and 1|3, the sum of the word sums, and the sum of those running sums.
        let even = 0;
        let odd = 0;
        let sum = 0;
        let sumOfSums = 0;
        for (; w < end; w += 1) {
          const x = words[w];
          const lanes02 = x & 0x00ff00ff;
          const lanes13 = (x >>> 8) & 0x00ff00ff;
          even += lanes02;
          odd += lanes13;
          sumOfSums += sum;
          sum += Math.imul(lanes02 + lanes13, 0x10001) >>> 16; // the word's four bytes added
        }
        const x0 = even % 65536;
        const x2 = (even - x0) / 65536;
        const x1 = odd % 65536;
        const x3 = (odd - x1) / 65536;
        // Each word adds 4 × (a before it) + 4·x0 + 3·x1 + 2·x2 + x3 to b, and its byte sum to a.
        b = (b + 4 * length * a + 4 * sumOfSums + 4 * x0 + 3 * x1 + 2 * x2 + x3) % MOD;
        a = (a + sum) % MOD;
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
