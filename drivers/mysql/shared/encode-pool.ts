/**
 * Encoder worker threads: the dump's CPU work per row (escape into a dump line, hash into the table
 * digest, compress) runs here, off the thread that reads rows from the server, so a dump uses every
 * core instead of one. The workers run the same {@link rowKernel} code as the main thread (sent as
 * source text, so this works unchanged under tsx, jest and in a bundled Lambda).
 *
 * A batch is `count` row packets copied back to back into one transferable buffer; the result is
 * one compressed frame of their lines (chunk-codec.ts: a chunk file is several frames one after the
 * other, read as one stream) and the batch's digest sum and row count.
 */
import os from 'node:os';
import { PermanentError } from '../../../core/errors';
import { Worker } from 'node:worker_threads';
import { assertZstdLoads, codecSource } from './chunk-codec';
import { rowKernel } from './row-kernel';
import type { RowPacket } from './row-packet';

export interface EncodedBatch {
  /** One compressed frame holding the batch's dump lines. */
  frame: Buffer;
  /** The batch's digest sum (4 little-endian 32-bit limbs) and rows, for TableDigest.mergeSum. */
  sum: Uint32Array;
  rows: number;
  /** With a {@link Projection}: the digest sum and rows of the batch's rows projected. */
  projected?: { sum: Uint32Array; rows: number };
}

/**
 * A second digest of each row, of its columns at `keep` (indexes, in order) and the lowercase hex
 * sha256 of its column at `hashed`: what `SELECT <keep>, SHA2(<hashed>, 256)` would digest
 * (row-kernel.ts `digestProjection`) — a summary of a table the dump gets without a second read.
 */
export interface Projection {
  keep: readonly number[];
  hashed: number;
}

// \`__name\`: the helper esbuild (tsx, the Lambda bundle) wraps functions with to keep their names.
/** The threads' code, built on first use (it names the zstd addon by its resolved path). */
const workerSource = (): string => `
const __name = (fn) => fn;
const { parentPort } = require('node:worker_threads');
${codecSource()}
const { hash } = require('node:crypto');
const kernel = (${rowKernel.toString()})((bytes) => hash('sha256', bytes, 'hex'));
parentPort.on('message', (job) => {
  try {
    const { lines, digest, projected } = kernel.encodeBatch(new Uint8Array(job.bytes), new Uint32Array(job.lengths), job.count, job.projection);
    const frame = compressLines(lines);
    const back = inflateFrame(frame);
    if (job.spoil) back[back.length - 2] ^= 1; // tests: a frame that does not read back
    const wrong = kernel.firstMismatch(back, new Uint8Array(job.bytes), new Uint32Array(job.lengths), job.count);
    if (wrong !== -1) return parentPort.postMessage({ id: job.id, mismatch: wrong, count: job.count });
    const out = new Uint8Array(frame.length);
    out.set(frame);
    const projectedSum = projected ? { sum: projected.sum, rows: projected.rows } : undefined;
    parentPort.postMessage({ id: job.id, frame: out.buffer, sum: digest.sum, rows: digest.rows, projected: projectedSum }, [out.buffer]);
  } catch (error) {
    parentPort.postMessage({ id: job.id, error: String(error && error.stack || error) });
  }
});
`;

/** What a thread answers for a batch: its encoding, or why there is none. */
interface WorkerAnswer {
  id: number;
  error?: string;
  /** The first row of the batch (of `count`) whose lines did not read back as its packet. */
  mismatch?: number;
  count?: number;
  frame: ArrayBuffer;
  sum: Uint32Array;
  rows: number;
  projected?: EncodedBatch['projected'];
}

/**
 * A batch whose compressed lines do not read back as the rows the server sent: the encoder or the
 * codec is wrong, so writing it again would not help.
 */
function readBackMismatch(row: number, count: number): PermanentError {
  return new PermanentError(`row ${row + 1} of a batch of ${count} does not read back from its compressed lines as the server sent it: nothing of it was written`,
    { code: 'MYSQL_READ_BACK_MISMATCH', engine: 'mysql' });
}

interface Pending {
  resolve(batch: EncodedBatch): void;
  reject(error: Error): void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
}

/** A fixed set of encoder threads, used round robin. An idle thread never keeps the process alive. */
export class EncodePool {
  private readonly slots: Slot[] = [];
  private next = 0;
  private ids = 0;
  private pendingBytes = 0;
  private peakBytes = 0;
  private largestBytes = 0;

  /**
   * `options.spoilFrames` (tests only): every batch's frame is spoiled before it is read back.
   * @throws PermanentError `ZSTD_UNAVAILABLE` when the chunk codec cannot load here (before any thread starts).
   */
  constructor(readonly size: number = defaultPoolSize(), private readonly options: { spoilFrames?: boolean } = {}) {
    assertZstdLoads();
    for (let i = 0; i < size; i += 1) this.slots.push(this.spawn());
  }

  private spawn(): Slot {
    const worker = new Worker(workerSource(), { eval: true });
    const slot: Slot = { worker, pending: new Map() };
    worker.on('message', (message: WorkerAnswer) => {
      const job = slot.pending.get(message.id);
      if (!job) return;
      slot.pending.delete(message.id);
      if (slot.pending.size === 0) worker.unref();
      if (message.mismatch !== undefined) job.reject(readBackMismatch(message.mismatch, message.count!));
      else if (message.error !== undefined) job.reject(new Error(`encoder thread failed: ${message.error}`));
      else job.resolve({ frame: Buffer.from(message.frame), sum: message.sum, rows: message.rows, ...(message.projected ? { projected: message.projected } : {}) });
    });
    const failAll = (error: Error) => {
      for (const job of slot.pending.values()) job.reject(error);
      slot.pending.clear();
      const index = this.slots.indexOf(slot);
      if (index >= 0) this.slots[index] = this.spawn(); // replace a dead thread
    };
    worker.on('error', (error) => failAll(new Error(`encoder thread crashed: ${error.message}`)));
    worker.on('exit', (code) => { if (slot.pending.size > 0) failAll(new Error(`encoder thread exited (${code})`)); });
    worker.unref(); // idle threads never keep the process alive (after the listeners: attaching one refs it)
    return slot;
  }

  /** Encodes, digests (and with `projection`, digests projected) and compresses `packets` on the next thread. Rejects if the thread fails. */
  encode(packets: RowPacket[], projection?: Projection): Promise<EncodedBatch> {
    let total = 0;
    for (const packet of packets) total += packet.length;
    const bytes = new Uint8Array(new ArrayBuffer(total));
    const lengths = new Uint32Array(packets.length);
    let at = 0;
    for (let i = 0; i < packets.length; i += 1) {
      const packet = packets[i];
      packet.copy(bytes, at);
      lengths[i] = packet.length;
      at += packet.length;
    }
    const slot = this.slots[this.next];
    this.next = (this.next + 1) % this.slots.length;
    const id = (this.ids += 1);
    const encoded = new Promise<EncodedBatch>((resolve, reject) => {
      if (slot.pending.size === 0) slot.worker.ref(); // busy: the process waits for the answer
      slot.pending.set(id, { resolve, reject });
      slot.worker.postMessage({ id, bytes: bytes.buffer, lengths: lengths.buffer, count: packets.length, projection, spoil: this.options.spoilFrames === true }, [bytes.buffer, lengths.buffer]);
    });
    return this.counted(encoded, total);
  }

  /**
   * The most packet bytes ever handed to the threads and not yet encoded, at once: what the batches
   * in flight cost in memory (their lines and frames come on top, one batch per thread).
   */
  get peakInFlightBytes(): number {
    return this.peakBytes;
  }

  /** The packet bytes of the largest batch ever handed to the threads. */
  get largestBatchBytes(): number {
    return this.largestBytes;
  }

  /** Counts `bytes` as in flight until `encoded` settles. */
  private async counted(encoded: Promise<EncodedBatch>, bytes: number): Promise<EncodedBatch> {
    this.largestBytes = Math.max(this.largestBytes, bytes);
    this.pendingBytes += bytes;
    this.peakBytes = Math.max(this.peakBytes, this.pendingBytes);
    try {
      return await encoded;
    } finally {
      this.pendingBytes -= bytes;
    }
  }

  /** Stops the threads (pending batches fail). */
  async close(): Promise<void> {
    await Promise.all(this.slots.splice(0).map((slot) => slot.worker.terminate()));
  }
}

/** One thread per core, at most 8 (the reading thread needs a share too). */
export function defaultPoolSize(): number {
  return Math.max(1, Math.min(8, os.availableParallelism()));
}

let shared: EncodePool | undefined;

/** The process's pool, created on first use and kept (its threads are unref'd). */
export function sharedEncodePool(): EncodePool {
  shared ??= new EncodePool();
  return shared;
}
