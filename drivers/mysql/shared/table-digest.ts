/**
 * A per-table digest that does not depend on row order, computed the same way from the dump and
 * from a restored database: the sum, modulo 2^128, of a 128-bit hash of every row's raw bytes.
 * A sum (not an XOR) keeps duplicate rows (tables without a primary key) from cancelling out, and
 * order independence lets chunks be read and loaded in parallel.
 *
 * The row hash is MurmurHash3 x86_128 over the row as the text protocol sends it: every column
 * length-prefixed (MySQL's length-encoded strings), NULL as its own marker, each column read as an
 * expression whose text is exact for the stored value (column-codec.ts: a FLOAT's 6 digits would
 * hide a change) — so the dump hashes
 * the packets it receives without taking them apart ({@link DIGEST_ALGORITHM}). It detects corruption and lost or changed rows; it is not meant to resist a forger —
 * artifact integrity is sha256's job. It runs about ten times faster than a sha256 per row, which
 * keeps digesting off the dump's critical path.
 */
import os from 'node:os';
import { PermanentError } from '../../../core/errors';
import type { RawRow } from './row-format';
import { packRow, type RowPacket } from './row-packet';
import { kernel, type DigestState } from './row-kernel';
import { batchKernel, batchKernelModule } from './batch-kernel/batch-kernel';
import { PACKET_HEADER_BYTES, packetsOf, type FramedBatch } from './framed-batch';
import { BATCH } from './row-packet';

/** Recorded in every backup's facts, so a digest is only ever compared with one made the same way. */
export const DIGEST_ALGORITHM = 'sum128(murmur3-x86-128(row packet of exact values))';

const { murmurWords, newDigest, digestPacket, digestProjection, accumulate } = kernel;

/** A projection of rows as the kernel digests it (row-kernel.ts `projectionOf`). */
export type RowProjection = ReturnType<typeof kernel.projectionOf>;

/** MurmurHash3 x86_128 of `data[0..length)` into `out` (4 unsigned 32-bit words). */
export function murmur3x86x128(data: Buffer, length: number, seed: number, out: Uint32Array): void {
  const bytes = new Uint8Array((length + 15) & ~15);
  bytes.set(data.subarray(0, length));
  murmurWords(new Int32Array(bytes.buffer), length, seed, out);
}

/** What digesting a full batch ({@link BATCH}) lays out: its packets with their headers, and a 4-byte length each. */
const FULL_BATCH_LAYOUT = BATCH.bytes + BATCH.rows * (PACKET_HEADER_BYTES + 4);

/** This thread's batch kernel, made on first use; it keeps the memory of a full batch between batches. */
let batches: ReturnType<typeof batchKernel> | undefined;
const batchesHere = () => (batches ??= batchKernel(batchKernelModule(), 2 * FULL_BATCH_LAYOUT));

if (os.endianness() !== 'LE') {
  // The word view below reads little-endian words, as MurmurHash3 specifies.
  throw new Error('TableDigest needs a little-endian CPU');
}

export class TableDigest {
  private readonly state: DigestState = newDigest();
  private scratch: Uint8Array = new Uint8Array(256);

  /** The digest {@link hex} wrote for `rows` rows, to merge with others (the digests of disjoint parts of one table). */
  static fromHex(hex: string, rows: number): TableDigest {
    if (!/^[0-9a-f]{32}$/.test(hex)) throw new PermanentError(`not a table digest: '${hex}' (32 lower-case hex characters)`, { code: 'INVALID_MANIFEST' });
    const sum = new Uint32Array(4);
    for (let limb = 3; limb >= 0; limb -= 1) sum[limb] = Number.parseInt(hex.slice((3 - limb) * 8, (4 - limb) * 8), 16);
    const digest = new TableDigest();
    digest.mergeSum(sum, rows);
    return digest;
  }

  /** Rows added so far. */
  get rows(): number {
    return this.state.rows;
  }

  /** Adds one row, given as the server's row packet (row-packet.ts). Allocates nothing. */
  addPacket(packet: RowPacket): void {
    digestPacket(this.state, packet, 0, packet.length);
  }

  /** Adds the rows of a batch (framed-batch.ts): as {@link addPacket} of each, in WebAssembly when it fits there. */
  addBatch(batch: FramedBatch): void {
    const sum = batchesHere().digest(batch.packets, batch.lengths, batch.count);
    if (sum) this.mergeSum(sum, batch.count);
    else for (const packet of packetsOf(batch)) this.addPacket(packet);
  }

  /**
   * Adds one row, given as the server's row packet, projected: its columns `projection` keeps, then
   * the hex sha256 of the one it hashes — what {@link addPacket} of the packet of `SELECT <kept>,
   * SHA2(<hashed>, 256)` adds (row-kernel.ts `digestProjection`, as the dump's encoder threads do).
   */
  addProjected(packet: RowPacket, projection: RowProjection): void {
    this.scratch = digestProjection(this.state, packet, 0, packet.length, projection, this.scratch);
  }

  /** Adds one row given as its columns (a decoded dump line): the same as {@link addPacket} of its packet. */
  add(row: RawRow): void {
    this.addPacket(packRow(row));
  }

  /** Adds another digest's rows (for merging per-chunk digests). */
  merge(other: TableDigest): void {
    this.mergeSum(other.state.sum, other.state.rows);
  }

  /** Adds a digest known by its sum and row count (e.g. computed in an encoder worker). */
  mergeSum(sum: Uint32Array, rows: number): void {
    accumulate(this.state, sum);
    this.state.rows += rows;
  }

  /** 32 hex characters. */
  hex(): string {
    let out = '';
    for (let limb = 3; limb >= 0; limb -= 1) out += this.state.sum[limb].toString(16).padStart(8, '0');
    return out;
  }
}
