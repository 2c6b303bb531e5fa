/** The heap growth a streaming process asks of V8 (core/io/heap-growth.ts). */
import { execFileSync } from 'node:child_process';
import { HEAP_GROWING_PERCENT, SMALL_HEAP_BYTES, letHeapGrowWithStreams, type HeapControls } from '../../../core/io/heap-growth';

/** Controls whose heap is what the test says, recording the flags set; `collect()` stands for a full collection. */
function scripted(execArgv: string[] = []) {
  const flags: string[] = [];
  let used = 20 << 20;
  let listener = () => undefined as void;
  const controls: HeapControls = { setFlags: (f) => flags.push(f), usedHeap: () => used, afterFullCollection: (l) => { listener = l; }, execArgv };
  return { controls, flags, collect: (heap: number) => { used = heap; listener(); } };
}

describe('heap growth for streaming processes', () => {
  // V8 ignores a flag it does not know without a word: a Node.js whose V8 dropped it would quietly lose the tuning.
  it("names a flag this Node.js's V8 has", () => {
    const options = execFileSync(process.execPath, ['--v8-options'], { encoding: 'utf8' });
    expect(options).toMatch(/^\s*--heap-growing-percent\b/m);
  });

  it('lets a small heap grow 4×, gives V8 its own factor back once a full collection leaves a large heap, and takes it again when the heap is small again', () => {
    const { controls, flags, collect } = scripted();

    letHeapGrowWithStreams(controls);
    collect(30 << 20);
    collect(SMALL_HEAP_BYTES + 1);
    collect(SMALL_HEAP_BYTES * 3);
    collect(10 << 20);

    expect(flags).toEqual([`--heap-growing-percent=${HEAP_GROWING_PERCENT}`, '--heap-growing-percent=0', `--heap-growing-percent=${HEAP_GROWING_PERCENT}`]);
    expect(HEAP_GROWING_PERCENT).toBe(300);
  });

  it('leaves alone a process started with its own --heap-growing-percent', () => {
    const { controls, flags, collect } = scripted(['--heap_growing_percent=50']);

    letHeapGrowWithStreams(controls);
    collect(10 << 20);

    expect(flags).toEqual([]);
  });
});
