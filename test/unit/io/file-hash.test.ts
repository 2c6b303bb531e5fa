/** Hashing a local file in place (core/io/file-hash.ts): the same sha256 as a plain hash, and stopped by its signal. */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { hashLocalFile } from '../../../core/io/file-hash';

let dir: string;
beforeEach(async () => { dir = await mkdtemp(path.join(os.tmpdir(), 'file-hash-')); });
afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

it('gives the size and sha256 of a file of several buffers, and of an empty one', async () => {
  const bytes = randomBytes(3 * 1024 * 1024 + 17);
  await writeFile(path.join(dir, 'big'), bytes);
  await writeFile(path.join(dir, 'empty'), '');
  expect(await hashLocalFile(path.join(dir, 'big'))).toEqual({ size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
  expect(await hashLocalFile(path.join(dir, 'empty'))).toEqual({ size: 0, sha256: createHash('sha256').digest('hex') });
});

it('stops when its signal aborts, with the signal\'s reason', async () => {
  await writeFile(path.join(dir, 'big'), randomBytes(4 * 1024 * 1024));
  const stop = new AbortController();
  stop.abort(new Error('step aborted'));
  await expect(hashLocalFile(path.join(dir, 'big'), stop.signal)).rejects.toThrow('step aborted');
});
