import { execFileSync } from 'node:child_process';
import { HEAP_GROWING_PERCENT } from '../../../core/io/heap-growth';

describe('heap growth for streaming processes', () => {
  // V8 ignores a flag it does not know without a word: a Node.js whose V8 dropped it would quietly lose the tuning.
  it("names a flag this Node.js's V8 has", () => {
    const options = execFileSync(process.execPath, ['--v8-options'], { encoding: 'utf8' });
    expect(options).toMatch(/^\s*--heap-growing-percent\b/m);
    expect(HEAP_GROWING_PERCENT).toBeGreaterThan(100);
  });
});
