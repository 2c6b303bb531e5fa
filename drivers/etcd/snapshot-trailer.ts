/**
 * etcd's Maintenance snapshot stream ends with a 32-byte trailer: the sha256 of every byte before it.
 * `etcdctl snapshot save` keeps the trailer in the file, and `snapshot restore` checks it (unless
 * `--skip-hash-check`). This module checks it while the bytes stream past, so a truncated or
 * corrupted snapshot is refused before anything relies on it, with memory independent of size.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Transform, Writable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PermanentError } from '../../core/errors';

/** Length of etcd's snapshot trailer (a sha256). */
export const TRAILER_LENGTH = 32;

/** What a successful trailer check found. */
export interface TrailerCheckResult {
  /** Total bytes, trailer included. */
  bytes: number;
  /** The trailer (hex), equal to the sha256 of the bytes before it. */
  trailerSha256: string;
}

/**
 * A pass-through Transform that verifies etcd's sha256 trailer. Every byte is passed on unchanged
 * and immediately; the last 32 bytes seen are held back from the hash only. At the end of the
 * stream it fails with PermanentError `SNAPSHOT_CORRUPT` when the input is too short to hold a
 * trailer or the trailer does not match.
 */
export class SnapshotTrailerCheck extends Transform {
  private readonly hash: Hash = createHash('sha256');
  /** The last (up to) 32 bytes seen, not yet hashed. */
  private tail: Buffer = Buffer.alloc(0);
  private bytes = 0;
  /** Set once the stream has ended with a valid trailer. */
  result?: TrailerCheckResult;

  /** @param label names the snapshot in error messages (a path or "snapshot stream"). */
  constructor(private readonly label = 'snapshot stream') {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (chunk.length >= TRAILER_LENGTH) {
      // Everything held back so far, and all but the last 32 bytes of this chunk, are payload.
      this.hash.update(this.tail);
      this.hash.update(chunk.subarray(0, chunk.length - TRAILER_LENGTH));
      this.tail = Buffer.from(chunk.subarray(chunk.length - TRAILER_LENGTH));
    } else {
      const combined = Buffer.concat([this.tail, chunk]);
      const release = Math.max(0, combined.length - TRAILER_LENGTH);
      this.hash.update(combined.subarray(0, release));
      this.tail = combined.subarray(release);
    }
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.bytes <= TRAILER_LENGTH) {
      callback(new PermanentError(
        `etcd snapshot ${this.label} is too short (${this.bytes} bytes) to hold data and its ${TRAILER_LENGTH}-byte sha256 trailer`,
        { code: 'SNAPSHOT_CORRUPT', engine: 'etcd' },
      ));
      return;
    }
    const expected = this.tail.toString('hex');
    const actual = this.hash.digest('hex');
    if (expected !== actual) {
      callback(new PermanentError(
        `etcd snapshot ${this.label} is corrupt: its sha256 trailer is ${expected} but the ${this.bytes - TRAILER_LENGTH} bytes before it hash to ${actual}`,
        { code: 'SNAPSHOT_CORRUPT', engine: 'etcd' },
      ));
      return;
    }
    this.result = { bytes: this.bytes, trailerSha256: expected };
    callback();
  }
}

/**
 * Checks the sha256 trailer of a snapshot file by streaming it once.
 * @throws PermanentError `SNAPSHOT_CORRUPT` on a mismatch or a file too short to hold a trailer;
 *   the underlying I/O error when the file cannot be read.
 */
export async function verifySnapshotFile(filePath: string): Promise<TrailerCheckResult> {
  const check = new SnapshotTrailerCheck(filePath);
  const sink = new Writable({ write: (_chunk, _encoding, callback) => callback() });
  await pipeline(createReadStream(filePath), check, sink);
  if (!check.result) throw new Error(`trailer check of ${filePath} ended without a result`);
  return check.result;
}
