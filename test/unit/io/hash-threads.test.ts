/** sha256 in hashing threads (core/io/hash-threads.ts, and the stream over it): the same digests as a plain hash, fs errors as fs gives them, stopped by a signal, never holding a process open. */
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { hashLocalFile, hashLocalFiles, OffThreadSha256 } from '../../../core/io/hash-threads';
import { HashingStream } from '../../../core/io/hashing-stream';

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

it('names a missing file as fs does (code ENOENT, its path)', async () => {
  const missing = path.join(dir, 'missing');
  await expect(hashLocalFile(missing)).rejects.toMatchObject({ code: 'ENOENT', path: missing });
});

it('hashes several files at once, each to its own sha256', async () => {
  const files = await Promise.all(Array.from({ length: 6 }, async (_, i) => {
    const bytes = randomBytes(1024 * 1024 + i * 4099);
    await writeFile(path.join(dir, `f${i}`), bytes);
    return { file: path.join(dir, `f${i}`), sha256: createHash('sha256').update(bytes).digest('hex') };
  }));
  const hashed = await Promise.all(files.map((f) => hashLocalFile(f.file)));
  expect(hashed.map((h) => h.sha256)).toEqual(files.map((f) => f.sha256));
});

it('hashes many files many to a message, each result in its file\'s place, a missing one as fs names it, a directory as no file', async () => {
  const files = await Promise.all(Array.from({ length: 150 }, async (_, i) => {
    const bytes = randomBytes(i * 37);
    await writeFile(path.join(dir, `f${i}`), bytes);
    return { file: path.join(dir, `f${i}`), hashed: { size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') } };
  }));
  await rm(files[99].file);
  await rm(files[120].file);
  await mkdir(files[120].file);

  const hashed = await hashLocalFiles(files.map((f) => ({ path: f.file, size: 6 * 1024 * 1024 }))); // two files a message

  const failed: Record<number, string> = { 99: 'ENOENT', 120: 'ENOTFILE' };
  expect(hashed).toEqual(files.map((f, i) => (failed[i] ? { error: expect.objectContaining({ code: failed[i] }) } : f.hashed)));
});

it('OffThreadSha256 hashes chunks in the order given, even when the caller reuses one buffer', async () => {
  const plain = createHash('sha256');
  const threaded = new OffThreadSha256();
  const other = new OffThreadSha256(); // interleaved with another hash on the same threads
  const buffer = Buffer.alloc(300_000);
  const updates: Promise<void>[] = [];
  for (let i = 0; i < 40; i += 1) {
    buffer.fill(i);
    const chunk = buffer.subarray(0, 1000 + i * 7000);
    plain.update(chunk);
    updates.push(threaded.update(chunk), other.update(Buffer.from('x')));
  }
  await Promise.all(updates);
  expect(await threaded.digest()).toBe(plain.digest('hex'));
  expect(await other.digest()).toBe(createHash('sha256').update('x'.repeat(40)).digest('hex'));
  await expect(threaded.update(buffer)).rejects.toThrow('already digested');
});

it('lets a process that hashed exit on its own (idle threads keep nothing alive)', () => {
  const file = path.join(dir, 'big');
  const script = `require(${JSON.stringify(path.resolve(__dirname, '../../../core/io/hash-threads.ts'))}).hashLocalFile(${JSON.stringify(file)}).then((r) => console.log(r.size))`;
  return writeFile(file, randomBytes(2 * 1024 * 1024)).then(() => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(run.stderr).not.toMatch(/Error/);
    expect(run.stdout.trim()).toBe(String(2 * 1024 * 1024));
    expect(run.status).toBe(0);
  });
});

it('HashingStream passes its bytes through unchanged and gives their size and sha256', async () => {
  const chunks = Array.from({ length: 30 }, (_, i) => randomBytes(i * 37_000 + 1));
  const hashing = new HashingStream();
  const out: Buffer[] = [];
  await pipeline(Readable.from(chunks), hashing, new Writable({ write(chunk: Buffer, _encoding, callback) { out.push(chunk); callback(); } }));
  const whole = Buffer.concat(chunks);
  expect(Buffer.concat(out).equals(whole)).toBe(true);
  expect([hashing.bytes, await hashing.digest()]).toEqual([whole.length, createHash('sha256').update(whole).digest('hex')]);
});

it('OffThreadSha256 gives the same digest on both sides of one stage (1 MiB): hashed here below it, by a thread from it on', async () => {
  const bytes = randomBytes(2 * 1024 * 1024 + 1);
  for (const size of [0, 1, 1024 * 1024 - 1, 1024 * 1024, 1024 * 1024 + 1, bytes.length]) {
    const hash = new OffThreadSha256();
    await hash.update(bytes.subarray(0, size));
    expect(await hash.digest()).toBe(createHash('sha256').update(bytes.subarray(0, size)).digest('hex'));
    await expect(hash.digest()).rejects.toThrow('already digested');
  }
});
