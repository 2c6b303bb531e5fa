/**
 * The encoder threads' fast path for a batch (encode-pool.ts): its dump lines, row digests and
 * read-back run in WebAssembly (kernel.as.ts), about four times faster than the same loops in
 * JavaScript (row-kernel.ts, which remains the reference the WebAssembly is held equal to, and
 * does a batch too large for WebAssembly's memory). Tables read back are digested by it too
 * (table-digest.ts `addBatch`).
 *
 * {@link batchKernel} is ONE self-contained function, so that a thread runs it from its source text
 * (as it runs row-kernel.ts), given the compiled module the pool hands it ({@link batchKernelModule}).
 */
import { KERNEL_WASM_BASE64 } from './kernel.wasm';

/** The compiled kernel (compiled once per process; a module is sent to a thread as it is). */
let compiled: WebAssembly.Module | undefined;
export function batchKernelModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(Buffer.from(KERNEL_WASM_BASE64, 'base64'));
  return compiled;
}

/**
 * A thread's batch kernel over `module`. Its memory holds one batch at a time, laid out as
 * `packets | lengths | lines | lines read back`; it grows to the largest batch's needs, and is let
 * go of (with the instance) after a batch that needed more than `keptBytes`, or on {@link release}.
 * A batch whose layout needs more than `mostBytes` is not taken ({@link fits}): WebAssembly's
 * memory is addressed by 32-bit offsets.
 */
export function batchKernel(module: WebAssembly.Module, keptBytes: number, mostBytes: number = 2 ** 31) {
  interface Exports {
    memory: WebAssembly.Memory;
    heapStart(): number;
    encodeBatch(packets: number, lengths: number, count: number, out: number): number;
    digestBatch(packets: number, lengths: number, count: number): void;
    overrun(): number;
    sumLimb(limb: number): number;
    firstMismatch(lines: number, linesLength: number, packets: number, lengths: number, count: number): number;
  }
  const PAGE = 65_536;
  const aligned = (offset: number): number => Math.ceil(offset / 16) * 16;

  let wasm: Exports | undefined;
  const at = { packets: 0, lengths: 0, lines: 0, back: 0, end: 0, count: 0 };

  /**
   * The layout of a batch of `packetBytes` (headers included) in `count` packets, from `start`: its
   * lines take at most 3 bytes a packet byte, and one a row (none when only digested).
   */
  function layout(start: number, packetBytes: number, count: number, withLines = true): typeof at {
    const linesRoom = withLines ? packetBytes * 3 + count : 0;
    // 16 spare bytes after the packets: a field's length prefix is read 8 bytes at a time.
    const lengths = aligned(start + packetBytes + 16);
    const lines = aligned(lengths + 4 * count);
    const back = aligned(lines + linesRoom);
    return { packets: start, lengths, lines, back, end: back + linesRoom, count };
  }

  /** Whether a batch of `packetBytes` in `count` packets fits in WebAssembly's memory. */
  function fits(packetBytes: number, count: number, withLines = true): boolean {
    return layout(PAGE, packetBytes, count, withLines).end <= mostBytes;
  }

  /**
   * The kernel, its memory laid out (and grown) for the batch; undefined when the system gives no
   * memory for it (a host that limits a process's address space: each WebAssembly memory reserves
   * gigabytes of it) — the caller encodes in JavaScript then.
   */
  function prepare(packetBytes: number, count: number, lines: boolean): Exports | undefined {
    try {
      wasm ??= new WebAssembly.Instance(module, { env: { abort: () => { throw new Error('the batch kernel aborted'); } } }).exports as unknown as Exports;
      Object.assign(at, layout(wasm.heapStart(), packetBytes, count, lines));
      const short = at.end - wasm.memory.buffer.byteLength;
      if (short > 0) wasm.memory.grow(Math.ceil(short / PAGE));
      return wasm;
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      release();
      return undefined;
    }
  }

  /**
   * The batch's lines (a view of the kernel's memory, valid until the next batch) and digest sum,
   * or the index of the row whose field runs past its packet's end; undefined when the batch does
   * not {@link fits fit} or no memory could be had for it (then it is JavaScript's to encode).
   */
  function encode(bytes: Uint8Array, lengths: Uint32Array, count: number): { lines: Buffer; sum: Uint32Array } | { overrun: number } | undefined {
    const kernel = fits(bytes.length, count) ? load(bytes, lengths, count, true) : undefined;
    if (!kernel) return undefined;
    const size = kernel.encodeBatch(at.packets, at.lengths, count, at.lines);
    if (size < 0) return { overrun: kernel.overrun() };
    return { lines: Buffer.from(kernel.memory.buffer, at.lines, size), sum: sumOf(kernel) };
  }

  /**
   * The digest sum of the batch's rows (as row-kernel.ts's `digestPacket` of each adds up), or
   * undefined when the batch's packets do not {@link fits fit} or no memory could be had for them.
   * Lets go of the memory when the batch needed more than is kept.
   */
  function digest(bytes: Uint8Array, lengths: Uint32Array, count: number): Uint32Array | undefined {
    const kernel = fits(bytes.length, count, false) ? load(bytes, lengths, count, false) : undefined;
    if (!kernel) return undefined;
    kernel.digestBatch(at.packets, at.lengths, count);
    const sum = sumOf(kernel);
    if (kernel.memory.buffer.byteLength > keptBytes) release();
    return sum;
  }

  /** The batch's packets and lengths copied into the kernel's memory, laid out with room for its lines or not. */
  function load(bytes: Uint8Array, lengths: Uint32Array, count: number, lines: boolean): Exports | undefined {
    const kernel = prepare(bytes.length, count, lines);
    if (!kernel) return undefined;
    const memory = kernel.memory.buffer;
    new Uint8Array(memory, at.packets, bytes.length).set(bytes);
    new Uint32Array(memory, at.lengths, count).set(lengths.subarray(0, count));
    return kernel;
  }

  function sumOf(kernel: Exports): Uint32Array {
    const sum = new Uint32Array(4);
    for (let limb = 0; limb < 4; limb += 1) sum[limb] = kernel.sumLimb(limb);
    return sum;
  }

  /** Room for the batch's lines read back: `size` bytes of the kernel's memory. */
  function backRoom(size: number): Buffer {
    return Buffer.from(wasm!.memory.buffer, at.back, size);
  }

  /**
   * The batch's lines read back (`back`, in {@link backRoom}) compared with its packets, as
   * row-kernel.ts's `firstMismatch`. Lets go of the memory when the batch needed more than is kept.
   */
  function firstMismatch(back: Buffer): number {
    const kernel = wasm!;
    const wrong = kernel.firstMismatch(at.back, back.length, at.packets, at.lengths, at.count);
    if (kernel.memory.buffer.byteLength > keptBytes) release();
    return wrong;
  }

  function release(): void {
    wasm = undefined;
  }

  return { fits, encode, digest, backRoom, firstMismatch, release };
}
