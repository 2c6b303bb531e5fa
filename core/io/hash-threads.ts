/**
 * sha256 off the main thread. Every byte a backup writes or checks is hashed, and in one thread
 * that hash competes with the work only the main thread can do (a reader's checks and parse, the
 * step's bookkeeping): on a host with two cores, half the machine stays idle. Hashing runs instead
 * in a few worker threads (one per core, at most MAX_THREADS), started on first use, shared by the
 * whole process, and unreferenced while idle so that they never keep a finished process alive.
 *
 * - {@link hashLocalFile}: a worker opens, reads and hashes a local file; the main thread only
 *   waits, and several files are hashed at once on several cores.
 * - {@link OffThreadSha256}: an incremental hash of bytes the main thread has (a copy as it is
 *   written); each chunk is copied once into a pooled buffer (a memcpy, ten times faster than
 *   hashing it), the buffer moved to the hash's worker, hashed there in order and moved back.
 *
 * A worker that dies fails the hashes it held; the next hash starts a fresh one.
 */
import { createHash } from 'node:crypto';
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { TransientError } from '../errors';

/** At most this many hashing threads, however many cores there are (hashing is bound by reads beyond). */
const MAX_THREADS = 4;

/** The worker's code (plain JavaScript, so that it runs the same from TypeScript sources, a bundle or tests). */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { openSync, readSync, closeSync, statSync } = require('node:fs');
const BUFFER_SIZE = 1024 * 1024;
const buffer = Buffer.allocUnsafeSlow(BUFFER_SIZE);
const hashes = new Map();
const neverStop = new Int32Array(1);
function hashFile(file, stop) {
  const fd = openSync(file, 'r');
  try {
    const hash = createHash('sha256');
    let size = 0;
    for (;;) {
      if (Atomics.load(stop, 0) !== 0) return { stopped: true };
      const bytesRead = readSync(fd, buffer, 0, BUFFER_SIZE, size);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
      size += bytesRead;
    }
    return { size, sha256: hash.digest('hex') };
  } finally {
    closeSync(fd);
  }
}
parentPort.on('message', (task) => {
  try {
    if (task.op === 'file') {
      parentPort.postMessage({ id: task.id, result: hashFile(task.file, task.stop) });
    } else if (task.op === 'files') {
      parentPort.postMessage({ id: task.id, result: task.files.map((file) => {
        try {
          if (!statSync(file).isFile()) return { error: { message: file + ' is not a file', code: 'ENOTFILE' } };
          return hashFile(file, neverStop);
        } catch (error) {
          return { error: { message: error.message, code: error.code } };
        }
      }) });
    } else if (task.op === 'update') {
      let hash = hashes.get(task.hash);
      if (!hash) hashes.set(task.hash, hash = createHash('sha256'));
      hash.update(new Uint8Array(task.buffer, 0, task.length));
      parentPort.postMessage({ id: task.id, result: task.buffer }, [task.buffer]);
    } else if (task.op === 'digest') {
      const hash = hashes.get(task.hash);
      if (!hash) throw new Error('no hash ' + task.hash + ' on this hashing thread (its updates were lost)');
      hashes.delete(task.hash);
      parentPort.postMessage({ id: task.id, result: hash.digest('hex') });
    } else if (task.op === 'drop') {
      hashes.delete(task.hash);
    }
  } catch (error) {
    parentPort.postMessage({ id: task.id, error: { message: error.message, code: error.code, errno: error.errno, syscall: error.syscall, path: error.path } });
  }
});
`;

interface Pending {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

type Task =
  | { op: 'file'; file: string; stop: Int32Array }
  | { op: 'files'; files: readonly string[] }
  | { op: 'update'; hash: number; buffer: ArrayBuffer; length: number }
  | { op: 'digest'; hash: number }
  | { op: 'drop'; hash: number };

/** One hashing thread and the replies it owes. */
class HashThread {
  private readonly worker = new Worker(WORKER_SOURCE, { eval: true });
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  /** Incremental hashes kept on this thread and not yet digested or dropped. */
  openHashes = 0;
  dead = false;

  constructor(onDeath: (thread: HashThread) => void) {
    this.worker.unref();
    this.worker.on('message', (reply: { id: number; result?: unknown; error?: { message: string } & Record<string, unknown> }) => {
      const waiting = this.pending.get(reply.id);
      if (!waiting) return;
      this.settled(reply.id);
      if (reply.error) waiting.reject(Object.assign(new Error(reply.error.message), withoutUndefined(reply.error)));
      else waiting.resolve(reply.result);
    });
    const die = (error: Error) => {
      if (this.dead) return;
      this.dead = true;
      onDeath(this);
      for (const waiting of this.pending.values()) waiting.reject(threadStopped(error));
      this.pending.clear();
    };
    this.worker.on('error', die);
    this.worker.on('exit', (code) => die(new Error(`exit code ${code}`)));
  }

  /** Tasks sent and not yet answered, and incremental hashes it keeps (each will send more). */
  get load(): number {
    return this.pending.size + this.openHashes;
  }

  /** Sends `task`; resolves with the worker's answer. The thread keeps the process alive while it owes one. */
  run<T>(task: Task, transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.dead) return Promise.reject(threadStopped());
    const id = this.nextId++;
    const answer = new Promise<T>((resolve, reject) => this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject }));
    if (this.pending.size === 1) this.worker.ref();
    this.worker.postMessage({ id, ...task }, transfer);
    return answer;
  }

  /** Sends `task` that gets no answer. */
  tell(task: Task): void {
    if (!this.dead) this.worker.postMessage({ id: -1, ...task });
  }

  /** Forgets task `id` (its answer, if it comes, is dropped). */
  private settled(id: number): void {
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker.unref();
  }
}

/**
 * A hash lost with its thread (it crashed or was stopped): TransientError `HASH_THREAD_STOPPED`,
 * since the work runs again on a new thread.
 */
function threadStopped(cause?: Error): TransientError {
  return new TransientError(`a hashing thread stopped${cause ? `: ${cause.message}` : ''}; the hash it held is lost`, { code: 'HASH_THREAD_STOPPED', cause });
}

function withoutUndefined(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([key, value]) => value !== undefined && key !== 'message'));
}

const threads: HashThread[] = [];

/** The least busy hashing thread, started when fewer than the limit run and all are busy. */
function leastBusyThread(): HashThread {
  const idle = threads.find((thread) => thread.load === 0);
  if (idle) return idle;
  if (threads.length < Math.min(MAX_THREADS, Math.max(1, os.availableParallelism()))) {
    const thread = new HashThread((dead) => threads.splice(threads.indexOf(dead), 1));
    threads.push(thread);
    return thread;
  }
  return threads.reduce((best, thread) => (thread.load < best.load ? thread : best));
}

/**
 * The size and sha256 of a local file, read and hashed by a worker thread (fs errors as thrown,
 * with their `code`: `ENOENT` when it is missing). `signal` stops the read between 1 MiB reads.
 */
export async function hashLocalFile(file: string, signal?: AbortSignal): Promise<{ size: number; sha256: string }> {
  signal?.throwIfAborted();
  const stop = new Int32Array(new SharedArrayBuffer(4));
  const hashed = leastBusyThread().run<{ size: number; sha256: string } | { stopped: true }>({ op: 'file', file, stop });
  if (!signal) return hashed as Promise<{ size: number; sha256: string }>;
  const onAbort = () => Atomics.store(stop, 0, 1);
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    const result = await hashed;
    if ('stopped' in result) throw signal.reason;
    return result;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/** One file of {@link hashLocalFiles}: its size and sha256, or why it could not be read (`code` `ENOENT` when it is missing, `ENOTFILE` when it is no regular file). */
export type FileHash = { size: number; sha256: string } | { error: { message: string; code?: string } };

/**
 * Bytes of files hashed per message by {@link hashLocalFiles}: for small files the messages and
 * the threads they wake, not the hashing, are the cost (a backup of 1 000 small tables re-checks
 * its 5 MB in ~0.1 s as one message, ~0.13 s as sixteen); many bigger ones spread over the threads.
 */
const BYTES_PER_MESSAGE = 16 * 1024 * 1024;
/** And at most this many files a message, however small. */
const FILES_PER_MESSAGE = 1024;

/**
 * The size and sha256 of each of `files` (small ones, each of about `size` bytes: a message's
 * files are read one after another by one thread), in order, read and hashed by the hashing
 * threads {@link BYTES_PER_MESSAGE} (or {@link FILES_PER_MESSAGE}) to a message — the calling
 * thread does no I/O for them. A file that cannot be read, or is no regular file, is a
 * {@link FileHash} error; a thread that stops rejects.
 */
export async function hashLocalFiles(files: ReadonlyArray<{ path: string; size: number }>): Promise<FileHash[]> {
  const batches: Array<Promise<FileHash[]>> = [];
  for (let at = 0; at < files.length;) {
    let end = at;
    for (let bytes = 0; end < files.length && end - at < FILES_PER_MESSAGE && (end === at || bytes + files[end].size <= BYTES_PER_MESSAGE); end += 1) bytes += files[end].size;
    batches.push(leastBusyThread().run<FileHash[]>({ op: 'files', files: files.slice(at, end).map((f) => f.path) }));
    at = end;
  }
  return (await Promise.all(batches)).flat();
}

let nextHash = 0;
/** Bytes gathered from a hash's updates before they go to its thread in one message (messages cost more than memcpy). */
const STAGE_SIZE = 1024 * 1024;
/** Stages of one hash sent and not yet hashed, at most: an update waits past this (memory stays bounded). */
const MAX_STAGES_IN_FLIGHT = 4;
/** Stage buffers kept for reuse once a thread has given them back (fresh memory costs page faults). */
const stageBuffers: ArrayBuffer[] = [];
const MAX_POOLED_STAGES = 16;

function takeStageBuffer(): ArrayBuffer {
  return stageBuffers.pop() ?? new ArrayBuffer(STAGE_SIZE);
}

function giveBackStageBuffer(buffer: ArrayBuffer): void {
  if (stageBuffers.length < MAX_POOLED_STAGES) stageBuffers.push(buffer);
}

/**
 * A sha256 of bytes given in order, hashed by a worker thread. Each `update` copies the chunk (the
 * caller may reuse its buffer at once) into a stage of {@link STAGE_SIZE} that goes to the thread
 * when full (moved, not cloned, and moved back for reuse); an update resolves at once unless too
 * many stages wait for the thread, so a caller that waits for its updates keeps the memory bounded.
 * A hash of less than one stage never goes to a thread: its stage is hashed here at `digest`, since
 * the messages would cost more than the hashing (a 1 000-table dump writes 1 000 small files).
 */
export class OffThreadSha256 {
  /** The thread, chosen when the first full stage goes out. */
  private thread?: HashThread;
  private readonly id = nextHash++;
  private done = false;
  private stage?: { buffer: ArrayBuffer; length: number };
  /** Stages sent and not yet hashed, oldest first. */
  private readonly inFlight: Promise<void>[] = [];
  /** The first stage that could not be hashed (surfaces in digest()); nothing else is kept per stage. */
  private failure?: unknown;

  /** Hashes `chunk` after every chunk given before. */
  async update(chunk: Uint8Array): Promise<void> {
    if (this.done) throw new Error('the hash is already digested');
    for (let at = 0; at < chunk.byteLength;) {
      this.stage ??= { buffer: takeStageBuffer(), length: 0 };
      const count = Math.min(STAGE_SIZE - this.stage.length, chunk.byteLength - at);
      new Uint8Array(this.stage.buffer, this.stage.length, count).set(chunk.subarray(at, at + count));
      this.stage.length += count;
      at += count;
      if (this.stage.length === STAGE_SIZE) this.send();
    }
    while (this.inFlight.length > MAX_STAGES_IN_FLIGHT) await this.inFlight[0];
  }

  /** The hex digest of every chunk given; once. @throws when a stage could not be hashed */
  async digest(): Promise<string> {
    if (this.done) throw new Error('the hash is already digested');
    if (!this.thread) {
      this.done = true;
      const hash = createHash('sha256');
      if (this.stage) {
        hash.update(new Uint8Array(this.stage.buffer, 0, this.stage.length));
        giveBackStageBuffer(this.stage.buffer);
        this.stage = undefined;
      }
      return hash.digest('hex');
    }
    if (this.stage) this.send();
    const thread = this.thread;
    this.finish();
    // The thread answers in order: the digest comes after every stage sent before it.
    const [sha256] = await Promise.all([thread.run<string>({ op: 'digest', hash: this.id }), ...this.inFlight]);
    if (this.failure !== undefined) throw this.failure;
    return sha256;
  }

  /** Forgets the hash without a digest (an aborted write). */
  discard(): void {
    if (this.done) return;
    const thread = this.thread;
    this.finish();
    if (this.stage) giveBackStageBuffer(this.stage.buffer);
    this.stage = undefined;
    thread?.tell({ op: 'drop', hash: this.id });
  }

  /** No more updates: the thread no longer counts this hash as its own work to come. */
  private finish(): void {
    if (!this.done && this.thread) this.thread.openHashes -= 1;
    this.done = true;
  }

  /** Moves the stage to the thread (chosen now, the first time). */
  private send(): void {
    if (!this.thread) {
      this.thread = leastBusyThread();
      this.thread.openHashes += 1;
    }
    const { buffer, length } = this.stage!;
    this.stage = undefined;
    const hashed = this.thread.run<ArrayBuffer>({ op: 'update', hash: this.id, buffer, length }, [buffer]).then(giveBackStageBuffer);
    hashed.catch((error: unknown) => {
      this.failure ??= error;
    });
    this.inFlight.push(hashed);
    const settled = () => {
      this.inFlight.splice(this.inFlight.indexOf(hashed), 1);
    };
    void hashed.then(settled, settled);
  }
}

/** The sha256 of `data` (copied: the caller may reuse its buffer at once), computed by a hashing thread (here when under a stage). */
export async function sha256OffThread(data: Uint8Array): Promise<Buffer> {
  const hash = new OffThreadSha256();
  await hash.update(data);
  return Buffer.from(await hash.digest(), 'hex');
}
