/**
 * Compiles the encoder threads' WebAssembly kernel (drivers/mysql/shared/batch-kernel/kernel.as.ts)
 * with AssemblyScript into `kernel.wasm.ts` beside it (not committed): the module as base64, so
 * that every bundle and test imports it as code. Skipped when the source has not changed since.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const KERNEL_DIR = 'drivers/mysql/shared/batch-kernel';

/** `-O3`, SIMD (Node.js has it since 16), no runtime: the kernel allocates nothing. */
const ASC_OPTIONS = ['-O3', '--runtime', 'stub', '--noAssert', '--enable', 'simd'];

export function buildBatchKernel(projectRoot: string): void {
  const source = path.join(projectRoot, KERNEL_DIR, 'kernel.as.ts');
  const target = path.join(projectRoot, KERNEL_DIR, 'kernel.wasm.ts');
  const sourceHash = createHash('sha256').update(readFileSync(source)).update(ASC_OPTIONS.join(' ')).digest('hex');
  if (existsSync(target) && readFileSync(target, 'utf8').includes(sourceHash)) return;
  const work = mkdtempSync(path.join(os.tmpdir(), 'dbbackup-kernel-'));
  try {
    const wasm = path.join(work, 'kernel.wasm');
    execFileSync(process.execPath, [require.resolve('assemblyscript/bin/asc.js'), source, ...ASC_OPTIONS, '--outFile', wasm], { stdio: ['ignore', 'inherit', 'inherit'] });
    const base64 = readFileSync(wasm).toString('base64');
    writeFileSync(target, `// Built by \`npm run build\` (scripts/build-batch-kernel.ts) from kernel.as.ts (${sourceHash}). Do not edit.
export const KERNEL_WASM_BASE64 = '${base64}';
`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
