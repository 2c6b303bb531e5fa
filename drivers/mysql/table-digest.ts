/**
 * A per-table digest that does not depend on row order, computed the same way from the dump and
 * from a restored database: the sum, modulo 2^256, of sha256 of every row's raw bytes. A sum (not
 * an XOR) keeps duplicate rows (tables without a primary key) from cancelling out, and order
 * independence lets chunks be read and loaded in parallel.
 */
import { createHash } from 'node:crypto';
import type { RawRow } from './row-format';

const LIMBS = 8; // 8 x 32-bit = 256 bits, little-endian limbs

export class TableDigest {
  private readonly sum = new Uint32Array(LIMBS);
  rows = 0;

  /** Adds one row. */
  add(row: RawRow): void {
    const hash = createHash('sha256');
    const header = Buffer.allocUnsafe(4);
    for (const value of row) {
      if (value === null) {
        hash.update(NULL_MARKER);
        continue;
      }
      header.writeUInt32BE(value.length, 0);
      hash.update(header);
      hash.update(value);
    }
    const digest = hash.digest();
    let carry = 0;
    for (let limb = 0; limb < LIMBS; limb += 1) {
      // digest is big-endian: limb 0 is its last 4 bytes
      const value = digest.readUInt32BE((LIMBS - 1 - limb) * 4);
      const total = this.sum[limb] + value + carry;
      this.sum[limb] = total >>> 0;
      carry = total > 0xffffffff ? 1 : 0;
    }
    this.rows += 1;
  }

  /** Adds another digest's rows (for merging per-chunk digests). */
  merge(other: TableDigest): void {
    let carry = 0;
    for (let limb = 0; limb < LIMBS; limb += 1) {
      const total = this.sum[limb] + other.sum[limb] + carry;
      this.sum[limb] = total >>> 0;
      carry = total > 0xffffffff ? 1 : 0;
    }
    this.rows += other.rows;
  }

  /** 64 hex characters. */
  hex(): string {
    let out = '';
    for (let limb = LIMBS - 1; limb >= 0; limb -= 1) out += this.sum[limb].toString(16).padStart(8, '0');
    return out;
  }
}

/** Distinguishes NULL from every byte string (a length prefix of 0xffffffff never occurs). */
const NULL_MARKER = Buffer.from([0xff, 0xff, 0xff, 0xff]);
