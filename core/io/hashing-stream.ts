/**
 * A pass-through that hashes what flows through it: how the spool, the stores and `verify` learn an
 * artifact's size and sha256 on the way, without reading it a second time.
 */
import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';

/** A pass-through stream that counts bytes and hashes them (sha256). */
export class HashingStream extends Transform {
  private readonly hash = createHash('sha256');
  bytes = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null, data?: Buffer) => void): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    callback(null, chunk);
  }

  /** Hex digest; call once, after the stream has finished. */
  digest(): string {
    return this.hash.digest('hex');
  }
}
