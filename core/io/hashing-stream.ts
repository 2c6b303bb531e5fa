/**
 * A pass-through that hashes what flows through it: how the spool, the stores and `verify` learn an
 * artifact's size and sha256 on the way, without reading it a second time.
 */
import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
import { OffThreadSha256 } from './hash-threads';

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

/**
 * {@link HashingStream} with the hash computed by a hashing thread ({@link OffThreadSha256}; here,
 * for a stream shorter than one stage): for a long stream whose main thread has other work (a
 * backup tool's output checked on its way to a local store, an artifact read back to validate it),
 * the copy it costs is a fraction of the hashing it moves off the main thread. The stream ends once
 * its digest is known, after `check` (if given) has accepted it: what `check` throws fails it.
 */
export class OffThreadHashingStream extends Transform {
  private readonly hash = new OffThreadSha256();
  private ended = false;
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
    this.ended = true;
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

  /** A stream torn down before its end forgets its hash. */
  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.ended) this.hash.discard();
    callback(error);
  }

  /** Hex digest, once the stream has finished. */
  digest(): string {
    if (this.sha256 === undefined) throw new Error('the stream has not finished');
    return this.sha256;
  }
}
