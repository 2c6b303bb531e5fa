/**
 * The CRC32 checksum S3 keeps of an object uploaded in parts of `partSize` bytes, computed from
 * the bytes as they pass — beside their sha256 — so that the checksum S3 reports can be compared
 * with the bytes that were hashed, not only with what the SDK sent.
 *
 * As S3 writes it (base64 of the 4 big-endian bytes): an object sent whole (at most one part) has
 * the CRC32 of its bytes; one sent in N parts (every part `partSize` bytes but the last) the CRC32
 * of its parts' CRC32s one after the other, then `-N` (a COMPOSITE checksum).
 */
import { Transform, type TransformCallback } from 'node:stream';
import zlib from 'node:zlib';

/** zlib's CRC32 (Node.js ≥ 20.15); absent, nothing is computed. */
const crc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

const base64Of = (crc: number): string => {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(crc >>> 0);
  return bytes.toString('base64');
};

/** S3's CRC32 of one part (or of an object sent whole): base64 of its 4 big-endian bytes; undefined where zlib has no CRC32. */
export function partChecksum(data: Uint8Array): string | undefined {
  return crc32 ? base64Of(crc32(data)) : undefined;
}

/**
 * S3's checksum of an object from its parts' CRC32s (base64, in part order): the one part's own
 * for an object sent whole (one PutObject), else the COMPOSITE one, `-N` after it (a multipart
 * upload, even of one part). Undefined where zlib has no CRC32.
 */
export function objectChecksum(parts: readonly string[], sentWhole: boolean): string | undefined {
  if (!crc32) return undefined;
  if (sentWhole) return parts[0] ?? base64Of(0);
  const raw = Buffer.concat(parts.map((part) => Buffer.from(part, 'base64')));
  return `${base64Of(crc32(raw))}-${parts.length}`;
}

/** A pass-through stream computing {@link PartChecksums.checksum} of what passes. */
export class PartChecksums extends Transform {
  private readonly parts: number[] = [];
  private current = 0;
  private inPart = 0;

  constructor(private readonly partSize: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (crc32) {
      let at = 0;
      while (at < chunk.length) {
        if (this.inPart === this.partSize) this.endPart();
        const take = Math.min(chunk.length - at, this.partSize - this.inPart);
        this.current = crc32(chunk.subarray(at, at + take), this.current);
        this.inPart += take;
        at += take;
      }
    }
    callback(null, chunk);
  }

  /** S3's CRC32 of what passed, as sent in parts of `partSize`; undefined where zlib has no CRC32. */
  checksum(): string | undefined {
    return objectChecksum([...this.parts, this.current].map(base64Of), this.parts.length === 0); // one part at most: sent whole
  }

  private endPart(): void {
    this.parts.push(this.current);
    this.current = 0;
    this.inPart = 0;
  }
}
