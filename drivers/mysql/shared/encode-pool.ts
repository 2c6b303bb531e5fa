/**
 * Encoder worker threads: the dump's CPU work per row (escape into a dump line, hash into the table
 * digest, compress) runs here, off the thread that reads rows from the server, so a dump uses every
 * core instead of one. The workers run the same {@link rowKernel} code as the main thread (sent as
 * source text, so this works unchanged under tsx, jest and in a bundled Lambda).
 *
 * A batch is `count` row packets framed in one transferable buffer (framed-batch.ts); the result is
 * one compressed frame of their lines (chunk-codec.ts: a chunk file is several frames one after the
 * other, read as one stream) and the batch's digest sum and row count.
 */
import os from 'node:os';
import { PermanentError } from '../../../core/errors';
import { Worker } from 'node:worker_threads';
import { assertZstdLoads, codecSource } from './chunk-codec';
import { rowKernel } from './row-kernel';
import { batchKernel, batchKernelModule } from './batch-kernel/batch-kernel';
import { PACKET_HEADER_BYTES, type FramedBatch } from './framed-batch';
import { BATCH } from './row-packet';

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

/**
 * The most bytes an encoder thread keeps between batches for a batch's frame: what a full batch
 * needs (row-packet.ts {@link BATCH}: its lines take up to three times its packets); a wider row's
 * frame is its own.
 */
const KEPT_FRAME_BYTES = 4 * BATCH.bytes;

/** The largest packet buffer the pool keeps for later batches: a full batch's, headers included. */
const KEPT_PACKET_BYTES = BATCH.bytes + BATCH.rows * PACKET_HEADER_BYTES;

/**
 * How long the pool waits, once every batch is answered, before it lets go of the buffers kept
 * for later batches (its own and its threads'): a dump hands over batches without such pauses,
 * and the shared pool outlives the dump.
 */
const IDLE_RELEASE_MS = 1_000;

/**
 * How much memory a thread's batch kernel keeps between batches (batch-kernel.ts): what a full
 * batch's layout takes (its packets, then up to three times as many bytes of lines, twice: as
 * written and as read back). A wider row's is let go of after its batch.
 */
const KEPT_KERNEL_BYTES = 8 * KEPT_PACKET_BYTES;

// \`__name\`: the helper esbuild (tsx, the Lambda bundle) wraps functions with to keep their names.
/** The threads' code, built on first use (it names the zstd addon by its resolved path). */
const workerSource = (): string => `
const __name = (fn) => fn;
const { parentPort, workerData } = require('node:worker_threads');
${codecSource()}
const { hash } = require('node:crypto');
const kernel = (${rowKernel.toString()})((bytes) => hash('sha256', bytes, 'hex'));
const batches = (${batchKernel.toString()})(workerData.batchKernel, ${KEPT_KERNEL_BYTES}, workerData.kernelMostBytes);
// A batch's frame is written into a buffer kept from batch to batch (up to a size), made at the
// size kept so that it serves every batch that fits: made at the batch's own size, each batch a
// little larger than the last made a new one, and its fresh pages cost a page fault each (12 000
// of a 216 MB dump's 55 000). Pages never written are never mapped.
let keptFrame;
const frameRoom = (size) => {
  if (keptFrame !== undefined && keptFrame.length >= size) return keptFrame;
  if (size > ${KEPT_FRAME_BYTES}) return Buffer.allocUnsafe(size);
  return keptFrame = Buffer.allocUnsafe(${KEPT_FRAME_BYTES});
};
// The batch's lines and digest: by the WebAssembly kernel, or by the JavaScript one when the batch
// is too large for WebAssembly's memory (or the system gives none). A field past its packet's end
// is refused with the JavaScript kernel's words, which encoding that row again throws.
const encode = (bytes, lengths, count) => {
  const encoded = batches.encode(bytes, lengths, count);
  if (encoded === undefined) {
    const { lines, digest } = kernel.encodeBatch(bytes, lengths, count);
    return { kernel: 'javascript', lines, sum: digest.sum, back: (size) => Buffer.allocUnsafe(size), firstMismatch: (back) => kernel.firstMismatch(back, bytes, lengths, count) };
  }
  if (encoded.overrun !== undefined) {
    let at = 0;
    for (let row = 0; row < encoded.overrun; row += 1) at += ${PACKET_HEADER_BYTES} + lengths[row];
    const from = at + ${PACKET_HEADER_BYTES};
    const to = from + lengths[encoded.overrun];
    kernel.encodePacket(bytes, from, to, Buffer.allocUnsafe(kernel.maxLineBytes(to - from, 1)), 0);
    throw new Error('the batch kernel refused row ' + encoded.overrun + ' that JavaScript encodes');
  }
  return { kernel: 'webassembly', lines: encoded.lines, sum: encoded.sum, back: batches.backRoom, firstMismatch: batches.firstMismatch };
};
parentPort.on('message', (job) => {
  if (job.release) {
    keptFrame = undefined;
    batches.release();
    return;
  }
  // The batch's packet buffer goes back with the answer, for a later batch (encode-pool.ts SpareBuffers).
  const answer = (message, transfer = []) => parentPort.postMessage({ ...message, id: job.id, spare: job.bytes }, [...transfer, job.bytes]);
  try {
    const bytes = new Uint8Array(job.bytes, job.offset, job.size);
    const lengths = new Uint32Array(job.lengths, job.lengthsOffset, job.count);
    const { kernel: encodedBy, lines, sum, back: backRoom, firstMismatch } = encode(bytes, lengths, job.count);
    const projected = job.projection ? kernel.projectBatch(bytes, lengths, job.count, job.projection) : undefined;
    const frame = compressLinesInto(lines, frameRoom(zstdBound(lines.length)));
    if (job.spoil === 'frame') frame[frame.length - 5] ^= 1; // tests: a frame that does not inflate
    let back;
    try {
      back = inflateFrameInto(frame, backRoom(lines.length));
    } catch {
      return answer({ mismatch: job.count, count: job.count }); // not whole, or more than the lines
    }
    if (job.spoil === 'lines') back[back.length - 2] ^= 1; // tests: a frame whose lines do not read back
    const wrong = firstMismatch(back);
    if (wrong !== -1) return answer({ mismatch: wrong, count: job.count });
    const out = new Uint8Array(frame.length);
    out.set(frame);
    const projectedSum = projected ? { sum: projected.sum, rows: projected.rows } : undefined;
    answer({ frame: out.buffer, sum, rows: job.count, projected: projectedSum, kernel: encodedBy }, [out.buffer]);
  } catch (error) {
    answer({ error: String(error && error.stack || error) });
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
  /** Which kernel encoded the batch (batch-kernel.ts, or row-kernel.ts for a batch too large for it). */
  kernel?: EncodingKernel;
  /** The batch's packet buffer, given back. */
  spare?: ArrayBuffer;
}

type EncodingKernel = 'webassembly' | 'javascript';

/**
 * A batch whose compressed lines do not read back as the rows the server sent: the encoder or the
 * codec is wrong, so writing it again would not help.
 */
function readBackMismatch(row: number, count: number): PermanentError {
  const what = row < count
    ? `row ${row + 1} of a batch of ${count} does not read back from its compressed lines as the server sent it`
    : `the compressed lines of a batch of ${count} rows do not inflate to exactly its lines`;
  return new PermanentError(`${what}: nothing of it was written`, { code: 'MYSQL_READ_BACK_MISMATCH', engine: 'mysql' });
}

/**
 * The packet buffers of batches the threads are done with, kept for later batches (at most `most`
 * of them, each at most {@link KEPT_PACKET_BYTES}): a dump of narrow rows hands the threads
 * hundreds of MB in batches of up to 4 MiB, and a fresh buffer for each is fresh pages the system
 * must map and zero each time. Sizes are rounded up so that batches of about one size share them.
 */
class SpareBuffers {
  private readonly kept: ArrayBuffer[] = [];

  constructor(private readonly most: number) {}

  /** A buffer of at least `size` bytes: the smallest kept one that holds it, else a new one. */
  take(size: number): ArrayBuffer {
    let best = -1;
    for (let i = 0; i < this.kept.length; i += 1) {
      const length = this.kept[i].byteLength;
      if (length >= size && (best < 0 || length < this.kept[best].byteLength)) best = i;
    }
    if (best >= 0) return this.kept.splice(best, 1)[0];
    return new ArrayBuffer(Math.ceil(Math.max(size, 1) / SPARE_ROUNDING) * SPARE_ROUNDING);
  }

  /** Keeps `buffer` for a later batch, in place of the smallest kept one when as many are kept as may be. */
  give(buffer: ArrayBuffer): void {
    if (buffer.byteLength > KEPT_PACKET_BYTES) return;
    if (this.kept.length < this.most) {
      this.kept.push(buffer);
      return;
    }
    let smallest = 0;
    for (let i = 1; i < this.kept.length; i += 1) if (this.kept[i].byteLength < this.kept[smallest].byteLength) smallest = i;
    if (this.kept[smallest].byteLength < buffer.byteLength) this.kept[smallest] = buffer;
  }

  /** Lets go of every buffer kept. */
  clear(): void {
    this.kept.length = 0;
  }

  /** The bytes of the buffers kept. */
  get bytes(): number {
    return this.kept.reduce((sum, buffer) => sum + buffer.byteLength, 0);
  }
}

/** What a batch's packet buffer is rounded up to (see {@link SpareBuffers}). */
const SPARE_ROUNDING = 64 * 1024;

interface Pending {
  resolve(batch: EncodedBatch): void;
  reject(error: Error): void;
  /** The batch's packet bytes. */
  bytes: number;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
}

/** The packet bytes of the batches pending on `slot`'s thread. */
function bytesPendingOn(slot: Slot): number {
  let bytes = 0;
  for (const job of slot.pending.values()) bytes += job.bytes;
  return bytes;
}

/** Of threads with `pending` bytes each, the index of the one with the fewest; of equals, the first from `next` on. */
export function leastBusy(pending: readonly number[], next: number): number {
  let chosen = next;
  for (let i = 1; i < pending.length; i += 1) {
    const index = (next + i) % pending.length;
    if (pending[index] < pending[chosen]) chosen = index;
  }
  return chosen;
}

/**
 * A fixed set of encoder threads, each batch given to the one with the fewest bytes pending (batches
 * differ in size: taken in turn, one thread of two was busy 2.2 s of a dump, the other 1.5 s). An
 * idle thread never keeps the process alive.
 */
export class EncodePool {
  private readonly slots: Slot[] = [];
  private next = 0;
  private ids = 0;
  private pendingBytes = 0;
  private peakBytes = 0;
  private largestBytes = 0;
  private readonly spares: SpareBuffers;
  private idle: NodeJS.Timeout | undefined;
  /** The batches each kernel encoded: all in WebAssembly, but for batches too large for its memory. */
  readonly batchesEncodedBy: Record<EncodingKernel, number> = { webassembly: 0, javascript: 0 };

  /**
   * `options.spoil` (tests only): every batch's frame is spoiled before it is inflated, or its
   * lines once inflated, before they are read back. `options.kernelMostBytes` (tests only): the
   * most memory a thread's WebAssembly kernel takes for a batch (a larger batch is encoded in
   * JavaScript), 2 GiB unless given.
   * @throws PermanentError `ZSTD_UNAVAILABLE` when the chunk codec cannot load here (before any thread starts).
   */
  constructor(readonly size: number = defaultPoolSize(), private readonly options: { spoil?: 'frame' | 'lines'; kernelMostBytes?: number } = {}) {
    assertZstdLoads();
    this.spares = new SpareBuffers(2 * size + 2);
    for (let i = 0; i < size; i += 1) this.slots.push(this.spawn());
  }

  private spawn(): Slot {
    const worker = new Worker(workerSource(), { eval: true, workerData: { batchKernel: batchKernelModule(), kernelMostBytes: this.options.kernelMostBytes } });
    const slot: Slot = { worker, pending: new Map() };
    worker.on('message', (message: WorkerAnswer) => {
      const job = slot.pending.get(message.id);
      if (!job) return;
      slot.pending.delete(message.id);
      if (message.spare) this.spares.give(message.spare);
      if (slot.pending.size === 0) {
        worker.unref();
        if (this.slots.every((s) => s.pending.size === 0)) this.releaseWhenIdle();
      }
      if (message.mismatch !== undefined) job.reject(readBackMismatch(message.mismatch, message.count!));
      else if (message.error !== undefined) job.reject(new Error(`encoder thread failed: ${message.error}`));
      else {
        if (message.kernel) this.batchesEncodedBy[message.kernel] += 1;
        job.resolve({ frame: Buffer.from(message.frame), sum: message.sum, rows: message.rows, ...(message.projected ? { projected: message.projected } : {}) });
      }
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

  /**
   * A buffer for a batch's packets (see {@link FramedBatch}) of `size` bytes: one the threads gave
   * back when one fits, else a new one. {@link encode} takes it over.
   */
  packetBuffer(size: number): Uint8Array<ArrayBuffer> {
    return new Uint8Array(this.spares.take(size), 0, size);
  }

  /**
   * Encodes, digests (and with `projection`, digests projected) and compresses `batch` on the next
   * thread; its packet buffer (best from {@link packetBuffer}) and lengths are handed over to the
   * thread, no longer usable here. Rejects if the thread fails.
   */
  encode(batch: FramedBatch, projection?: Projection): Promise<EncodedBatch> {
    clearTimeout(this.idle);
    const { packets, lengths } = batch;
    const slot = this.leastBusy();
    const id = (this.ids += 1);
    const encoded = new Promise<EncodedBatch>((resolve, reject) => {
      if (slot.pending.size === 0) slot.worker.ref(); // busy: the process waits for the answer
      slot.pending.set(id, { resolve, reject, bytes: packets.length });
      slot.worker.postMessage({ id, bytes: packets.buffer, offset: packets.byteOffset, size: packets.length, lengths: lengths.buffer, lengthsOffset: lengths.byteOffset, count: batch.count, projection, spoil: this.options.spoil }, [packets.buffer, lengths.buffer]);
    });
    return this.counted(encoded, batch.bytes);
  }

  /** The thread the next batch goes to ({@link leastBusy}). */
  private leastBusy(): Slot {
    const chosen = leastBusy(this.slots.map(bytesPendingOn), this.next);
    this.next = (chosen + 1) % this.slots.length;
    return this.slots[chosen];
  }

  /** After {@link IDLE_RELEASE_MS} without a batch, lets go of the buffers kept for later batches, here and in the threads. */
  private releaseWhenIdle(): void {
    clearTimeout(this.idle);
    this.idle = setTimeout(() => {
      this.spares.clear();
      for (const slot of this.slots) slot.worker.postMessage({ release: true });
    }, IDLE_RELEASE_MS).unref();
  }

  /** The bytes of the packet buffers kept for later batches (none once the pool has been idle a while). */
  get keptBytes(): number {
    return this.spares.bytes;
  }

  /**
   * The most packet bytes ever handed to the threads and not yet encoded, at once: what the batches
   * in flight cost in memory (their lines and frames come on top, one batch per thread; and until
   * the pool is idle a while, the buffers kept for later batches: {@link keptBytes} here, and in
   * each thread up to {@link KEPT_FRAME_BYTES} and its batch kernel's {@link KEPT_KERNEL_BYTES}).
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
    clearTimeout(this.idle);
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
