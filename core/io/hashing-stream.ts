/**
 * A pass-through that hashes what flows through it: how the spool, the stores and `verify` learn an
 * artifact's size and sha256 on the way, without reading it a second time.
 */
import { Transform } from 'node:stream';
import { OffThreadSha256 } from './hash-threads';

/**
 * A pass-through that counts the bytes flowing through it and hashes them (sha256) with
 * {@link OffThreadSha256}: a long stream is hashed by a hashing thread, beside the main thread's
 * other work (a backup tool's output checked on its way to a store, an artifact read back to
 * validate it), for a copy that costs a fraction of the hashing; a stream shorter than one stage
 * is hashed here. The stream ends once its digest is known, after `check` (if given) has accepted
 * it: what `check` throws fails it.
 */
export class HashingStream extends Transform {
  private readonly hash = new OffThreadSha256();
  private sha256?: string;
  bytes = 0;

  constructor(private readonly check: (hashed: { size: number; sha256: string }) => void = () => undefined) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null, data?: Buffer) => void): void {
    this.bytes += chunk.length;
    this.hash.update(chunk).then(() => callback(null, chunk), callback);
  }

  override _flush(callback: (error?: Error | null) => void): void {
    this.hash.digest().then((sha256) => {
      this.sha256 = sha256;
      try {
        this.check({ size: this.bytes, sha256 });
      } catch (error) {
        callback(error as Error);
        return;
      }
      callback();
    }, callback);
  }

  /** A stream torn down before its end forgets its hash (one digested already is forgotten by the thread). */
  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.hash.discard();
    callback(error);
  }

  /** Hex digest, once the stream has finished. */
  digest(): string {
    if (this.sha256 === undefined) throw new Error('the stream has not finished');
    return this.sha256;
  }
}
