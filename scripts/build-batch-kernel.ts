/**
 * Compiles the encoder threads' WebAssembly kernel (drivers/mysql/shared/batch-kernel/kernel.as.ts)
 * with AssemblyScript into `kernel.wasm.ts` beside it: the module as base64, so that every bundle
 * and test imports it as code. It is committed — whatever imports the drivers (the build itself,
 * the test setup, the CDK app's host bundle) works in a fresh clone before anything is built — and
 * compiled again only when the source, the options or the compiler changed (its first line says
 * from what): a change to kernel.as.ts shows as a change to kernel.wasm.ts once built.
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
  const compiler = (JSON.parse(readFileSync(require.resolve('assemblyscript/package.json'), 'utf8')) as { version: string }).version;
  const sourceHash = createHash('sha256').update(readFileSync(source)).update(ASC_OPTIONS.join(' ')).update(compiler).digest('hex');
  if (existsSync(target) && readFileSync(target, 'utf8').includes(sourceHash)) return;
  const work = mkdtempSync(path.join(os.tmpdir(), 'dbbackup-kernel-'));
  try {
    const wasm = path.join(work, 'kernel.wasm');
    execFileSync(process.execPath, [require.resolve('assemblyscript/bin/asc.js'), source, ...ASC_OPTIONS, '--outFile', wasm], { stdio: ['ignore', 'inherit', 'inherit'] });
    const base64 = readFileSync(wasm).toString('base64');
    writeFileSync(target, `// Built by \`npm run build\` (scripts/build-batch-kernel.ts) from kernel.as.ts with AssemblyScript ${compiler} (${sourceHash}). Do not edit.
export const KERNEL_WASM_BASE64 = '${base64}';
`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
