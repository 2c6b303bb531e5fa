/**
 * A directory as a gzipped tar (ustar), byte for byte the same for the same files on any machine:
 * entries sorted, times zero, owner root, modes 0755 (directories, executables) or 0644. So the
 * agent bundle's hash — the asset's, and the release name on hosts — changes only when its files do.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

const BLOCK = 512;

/** The gzipped tar of everything under `dir` (paths relative to it, `/`-separated). */
export function tarGz(dir: string): Buffer {
  const blocks: Buffer[] = [];
  for (const relative of listTree(dir)) {
    const full = path.join(dir, ...relative.split('/'));
    const stats = statSync(full);
    if (stats.isDirectory()) {
      blocks.push(header(`${relative}/`, 0o755, 0, '5'));
      continue;
    }
    const content = readFileSync(full);
    blocks.push(header(relative, stats.mode & 0o111 ? 0o755 : 0o644, content.length, '0'), content, Buffer.alloc(padding(content.length)));
  }
  blocks.push(Buffer.alloc(BLOCK * 2));
  return gzipSync(Buffer.concat(blocks), { level: 9 });
}

/** Every directory and file under `dir`, sorted, directories before their contents. */
function listTree(dir: string, prefix = ''): string[] {
  const names = readdirSync(path.join(dir, prefix)).sort();
  return names.flatMap((name) => {
    const relative = prefix ? `${prefix}/${name}` : name;
    return statSync(path.join(dir, relative)).isDirectory() ? [relative, ...listTree(dir, relative)] : [relative];
  });
}

/** A ustar header; names over 100 bytes are split into prefix/name at a `/`. */
function header(name: string, mode: number, size: number, type: '0' | '5'): Buffer {
  const [prefix, base] = splitName(name);
  const block = Buffer.alloc(BLOCK);
  block.write(base, 0, 100, 'utf8');
  block.write(octal(mode, 8), 100);
  block.write(octal(0, 8), 108);
  block.write(octal(0, 8), 116);
  block.write(octal(size, 12), 124);
  block.write(octal(0, 12), 136);
  block.fill(' ', 148, 156);
  block.write(type, 156);
  block.write('ustar\u000000', 257, 'binary');
  block.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 'binary');
  return block;
}

function splitName(name: string): [string, string] {
  if (Buffer.byteLength(name) <= 100) return ['', name];
  for (let cut = name.indexOf('/'); cut >= 0; cut = name.indexOf('/', cut + 1)) {
    const prefix = name.slice(0, cut);
    const base = name.slice(cut + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(base) <= 100 && base !== '') return [prefix, base];
  }
  throw new Error(`path too long for a ustar archive: ${name}`);
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\u0000`;
}

function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}
