/**
 * How far V8 lets a small JavaScript heap grow past what a full collection left alive before the
 * next one: 4× (V8's own largest factor) while what is left alive is small, V8's own choice above.
 *
 * Why: a process streaming data keeps a small heap (~20 MB) and tens of MB of short-lived Buffers
 * in flight (file reads, inflated chunks, socket writes and reads). On Node.js 20, V8 counts
 * Buffer memory allocated since the last full collection against the heap's growth, and its own
 * factor for such a heap (1.3–2×) left less room than the Buffers in flight take: it ran a full
 * collection every ~50 ms that freed almost nothing. Measured on a MySQL restore of 400 MB of
 * BLOB rows: 17–38 full collections, 0.3–0.6 s of the main thread and 1.6–2.2 s of our process's
 * CPU; with 4×, 1–3 full collections and ~1.1 s of CPU, the restore ~15 % faster, peak RSS
 * unchanged (165–205 MB either way). 2× and 2.5× did not help (21 and 9–15 full collections).
 *
 * The factor is V8's `--heap-growing-percent`, which V8 reads each time it sets the next
 * collection's limit, so it can be set once the process runs (the heap's initial size cannot) and
 * changed again; it applies to the worker threads too. It also overrides V8's memory-saving
 * modes, so it is given only while the heap left alive is under {@link SMALL_HEAP_BYTES}: a
 * process holding more (a ZooKeeper tree replayed in memory) goes back to V8's own factor after
 * its next full collection, and the heap waits for at most 4 × 64 MiB before one.
 * A process started with `--heap-growing-percent` keeps its own.
 */
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';

/** Growth allowed past a small live heap, in percent (4×: V8's own largest factor). */
export const HEAP_GROWING_PERCENT = 300;

/** Up to this much heap left alive by a full collection, the heap may grow {@link HEAP_GROWING_PERCENT}. */
export const SMALL_HEAP_BYTES = 64 * 1024 * 1024;

/** What the tuning acts through (V8 and the process, unless a test says otherwise). */
export interface HeapControls {
  setFlags(flags: string): void;
  /** The heap in use, in bytes (after a full collection: what it left alive). */
  usedHeap(): number;
  /** Calls `listener` after every full collection. */
  afterFullCollection(listener: () => void): void;
  /** The V8 and Node.js flags the process was started with. */
  execArgv: readonly string[];
}

const processControls: HeapControls = {
  setFlags: setFlagsFromString,
  usedHeap: () => getHeapStatistics().used_heap_size,
  afterFullCollection(listener) {
    new PerformanceObserver((list) => {
      if (list.getEntries().some((entry) => (entry as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR)) listener();
    }).observe({ entryTypes: ['gc'] });
  },
  execArgv: process.execArgv,
};

let applied = false;

/** Lets this process's heap grow as the module comment says (once per process; again is a no-op). */
export function letHeapGrowWithStreams(controls: HeapControls = processControls): void {
  if (controls.execArgv.some((flag) => /^--heap[-_]growing[-_]percent\b/.test(flag))) return;
  if (controls === processControls) {
    if (applied) return;
    applied = true;
  }
  let current: number | undefined;
  const choose = () => {
    const percent = controls.usedHeap() < SMALL_HEAP_BYTES ? HEAP_GROWING_PERCENT : 0; // 0: V8's own factor
    if (percent === current) return;
    current = percent;
    controls.setFlags(`--heap-growing-percent=${percent}`);
  };
  choose();
  controls.afterFullCollection(choose);
}
