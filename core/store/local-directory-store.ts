/**
 * A {@link BlobStore} on a local directory: key `a/b/c` is the file `<root>/a/b/c`. The default
 * store for engineers running the CLI, and the reference the S3 store is tested against.
 * Writes go to a temporary file that is renamed into place, so readers never see a partial object,
 * and are durable when they return: the file is fsynced before the rename and its directory after
 * it (a backup marked complete must not come back from a power cut as empty or missing files) —
 * or, written with `persistLater`, when `persist` returns for them, which fsyncs many at once.
 */
import { accessSync, constants, createWriteStream, existsSync, type WriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, rmdir, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { mapLimited } from '../concurrency';
import { openFileWriter, type ChunkWriter } from '../io/chunk-writer';
import { hashLocalFile } from '../io/hash-threads';
import { flushBehindStage } from '../io/flush-behind';
import { HashingStream } from '../io/hashing-stream';
import { sha256Hex, writeWholeFile } from '../io/whole-file';
import { unwritableBecause } from '../io/unwritable';
import { resolveInside } from '../io/resolve-inside';
import { removeWrittenFile } from '../io/written-file';
import { PermanentError, TransientError } from '../errors';
import type {
  BlobStore, GetFileOptions, GetOptions, ObjectInfo, PutFileOptions, PutOptions, PutResult,
} from './blob-store';
import { assertFolderPrefix, assertSafeKey, assertSafePrefix, byKey } from './keys';
import { PARTIAL_SUFFIX, copyFileAddressed, copyFileResumable, makeDirectoryDurably, syncPath } from './local-file-upload';
import { createRateLimiter, throttleStages } from './rate-limiter';
import { TEMP_MARKER, bufferToFile, chain, progressStages, streamToFile, tempPathFor, toReadable } from './transfer';

/**
 * Creates the folder of the file `target` will be, and its missing parents: durably, or — for a
 * write that persists later — not yet (see {@link LocalDirectoryStore.persist}).
 */
async function makeFolderOf(target: string, durable: boolean): Promise<void> {
  if (durable) await makeDirectoryDurably(path.dirname(target));
  else await mkdir(path.dirname(target), { recursive: true });
}

/** Syncs the folder `target` was just renamed into, unless the write persists later. */
async function syncFolderOf(target: string, durable: boolean): Promise<void> {
  if (durable) await syncPath(path.dirname(target));
}

/**
 * Objects this small at most are downloaded by {@link LocalDirectoryStore.getFile} in one read and
 * one write: by streams, each file of a 1 000-table backup cost ~0.7 ms of CPU, a restore's
 * downloads 0.7 s of it.
 */
const WHOLE_COPY_BYTES = 1 << 20;

/**
 * Objects this small at most are hashed by {@link LocalDirectoryStore.hashObject} on the calling
 * thread: handing each to a hashing thread cost more than hashing it (a validate step re-checks
 * every artifact of a backup — 1 000 small tables, 1 000 files).
 */
const INLINE_HASH_BYTES = 64 * 1024;

/** fsyncs in flight at once when objects are persisted together (the file system's queue, not the CPU, is the limit). */
const PERSIST_CONCURRENCY = 16;

/** A blob store whose objects are files under one directory. */
export class LocalDirectoryStore implements BlobStore {
  /** Absolute root directory. */
  readonly root: string;
  readonly url: string;

  constructor(rootDir: string) {
    this.root = path.resolve(rootDir);
    this.url = pathToFileURL(this.root).href;
  }

  async put(key: string, body: Readable | Buffer | string, options: PutOptions = {}): Promise<PutResult> {
    if (Buffer.isBuffer(body) && !options.rateLimit && !options.onProgress) return this.putWhole(key, body, !options.persistLater);
    const target = this.pathFor(key);
    const temp = tempPathFor(target);
    const hasher = new HashingStream();
    let writer: WriteStream | undefined;
    try {
      const durable = !options.persistLater;
      const stages = [...throttleStages(createRateLimiter(options.rateLimit)), hasher, ...progressStages(options.onProgress, undefined)];
      await makeFolderOf(target, durable);
      const handle = await open(temp, 'w');
      writer = createWriteStream(temp, { fd: handle, highWaterMark: 1 << 20, flush: durable }); // fsync before close
      await pipeline([toReadable(body), ...stages, flushBehindStage(() => handle.datasync()), writer]);
      await rename(temp, target);
      await syncFolderOf(target, durable);
    } catch (error) {
      // Cleaning up must not hide why the write failed (a key under a file: ENOTDIR there too).
      if (writer) await removeWrittenFile(writer, temp).catch(() => undefined);
      else await rm(temp, { force: true }).catch(() => undefined);
      throw writeFailure(error, key, this.root);
    }
    return { key, size: hasher.bytes, sha256: hasher.digest() };
  }

  /**
   * {@link put} of bytes already whole: hashed and written in one call each, no stream (a
   * 1 000-table dump writes 1 000 small chunks; by streams each cost more than writing it). The
   * folder is made only when the write finds it missing: making it every time cost that dump
   * ~0.13 s of the main thread's time (and an existing folder has nothing to sync).
   */
  private async putWhole(key: string, data: Buffer, durable: boolean): Promise<PutResult> {
    const target = this.pathFor(key);
    const temp = tempPathFor(target);
    const write = () => writeWholeFile(target, temp, data, { flush: durable }); // fsync before close
    try {
      await write().catch(async (error: unknown) => {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        await makeFolderOf(target, durable);
        await write();
      });
      await syncFolderOf(target, durable);
    } catch (error) {
      throw writeFailure(error, key, this.root);
    }
    return { key, size: data.length, sha256: sha256Hex(data) };
  }

  /** A chunk writer for `key`: hashed as written, to a temporary file fsynced and renamed into place (its directory synced) when it ends. */
  async openWriter(key: string, options: Pick<PutOptions, 'persistLater'> = {}): Promise<ChunkWriter<PutResult>> {
    const durable = !options.persistLater;
    const target = this.pathFor(key);
    const root = this.root;
    try {
      await makeFolderOf(target, durable);
      const file = await openFileWriter(target, tempPathFor(target), { durable, flushBehind: true });
      return {
        write: (chunk) => file.write(chunk).catch((error: unknown) => {
          throw writeFailure(error, key, root);
        }),
        async end() {
          try {
            const written = await file.end();
            await syncFolderOf(target, durable);
            return { key, ...written };
          } catch (error) {
            throw writeFailure(error, key, root);
          }
        },
        abort: () => file.abort(),
      };
    } catch (error) {
      throw writeFailure(error, key, root);
    }
  }

  async putFile(key: string, filePath: string, options: PutFileOptions): Promise<PutResult> {
    const target = this.pathFor(key);
    try {
      await makeDirectoryDurably(path.dirname(target));
      return await copyFileResumable(key, filePath, target, options);
    } catch (error) {
      throw writeFailure(error, key, this.root);
    }
  }

  /** fsyncs the objects' files and every folder from theirs up to the root, {@link PERSIST_CONCURRENCY} at a time. */
  async persist(keys: readonly string[]): Promise<void> {
    const files = keys.map((key) => this.pathFor(key));
    const folders = new Set<string>();
    for (const file of files) {
      for (let folder = path.dirname(file); !folders.has(folder); folder = path.dirname(folder)) {
        folders.add(folder);
        if (folder === this.root) break;
      }
    }
    await mapLimited([...files, ...folders], PERSIST_CONCURRENCY, (file) => syncPath(file)).catch((error: unknown) => {
      throw writeFailure(error, keys.find((key) => (error as { path?: unknown }).path === this.pathFor(key)) ?? keys[0], this.root);
    });
  }

  async get(key: string, options: GetOptions = {}): Promise<Readable> {
    const { stream, size } = await this.openObject(key);
    return chain(stream, [
      ...throttleStages(createRateLimiter(options.rateLimit)),
      ...progressStages(options.onProgress, size),
    ]);
  }

  async putFileAddressed(prefix: string, filePath: string, options: PutOptions = {}): Promise<PutResult & { existed: boolean }> {
    const folder = this.pathFor(prefix);
    try {
      await makeDirectoryDurably(folder);
      const { size, sha256, existed } = await copyFileAddressed(filePath, folder, options);
      return { key: `${prefix}/${sha256}`, size, sha256, existed };
    } catch (error) {
      throw writeFailure(error, prefix, this.root);
    }
  }

  async getFile(key: string, filePath: string, options: GetFileOptions = {}): Promise<PutResult> {
    const { handle, size } = await this.openFile(key);
    if (size > WHOLE_COPY_BYTES) return streamToFile(handle.createReadStream({ highWaterMark: 1 << 20 }), filePath, { ...options, key, totalBytes: size });
    return bufferToFile(await this.readWhole(key, handle, size), filePath, { ...options, key, totalBytes: size });
  }

  /** The object's file hashed in place (no stream): a small one here, a bigger one by a hashing thread. */
  async hashObject(key: string): Promise<{ size: number; sha256: string }> {
    const { handle, size } = await this.openFile(key); // NOT_FOUND when it is missing or no file
    if (size <= INLINE_HASH_BYTES) {
      const whole = await this.readWhole(key, handle, size);
      return { size: whole.length, sha256: sha256Hex(whole) };
    }
    await handle.close();
    return hashLocalFile(this.pathFor(key)).catch((error: unknown) => {
      throw mapFsError(error, key, this.root);
    });
  }

  localFile(key: string): string {
    return this.pathFor(key);
  }

  /** The `size` bytes of an object's open file (fewer when it was cut short meanwhile: its hash tells); closes it. */
  private async readWhole(key: string, handle: FileHandle, size: number): Promise<Buffer> {
    const whole = Buffer.allocUnsafe(size);
    try {
      let read = 0;
      while (read < size) { // one read may return less (FUSE, network file systems)
        const { bytesRead } = await handle.read(whole, read, size - read, read);
        if (bytesRead === 0) break;
        read += bytesRead;
      }
      return whole.subarray(0, read);
    } catch (error) {
      throw mapFsError(error, key, this.root);
    } finally {
      await handle.close();
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const file = this.pathFor(key);
    const info = await stat(file).catch(function missing() {
      return undefined;
    });
    if (!info?.isFile()) return undefined;
    return { key, size: info.size, lastModified: info.mtime };
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    assertSafePrefix(prefix);
    const cut = prefix.lastIndexOf('/');
    const startKey = cut >= 0 ? prefix.slice(0, cut) : '';
    const found: ObjectInfo[] = [];
    await collectObjects(startKey ? path.join(this.root, startKey) : this.root, startKey, prefix, found);
    yield* found.sort(byKey);
  }

  async listFolders(prefix: string): Promise<string[]> {
    assertFolderPrefix(prefix);
    const entries = await readdir(path.join(this.root, prefix), { withFileTypes: true }).catch((error: unknown) => {
      if ((error as { code?: unknown }).code === 'ENOENT') return [];
      throw mapFsError(error, prefix, this.root);
    });
    return entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  }

  async delete(keys: string[]): Promise<void> {
    for (const key of keys) {
      const file = this.pathFor(key);
      await rm(file, { force: true }).catch((error: unknown) => {
        throw writeFailure(error, key, this.root, 'delete');
      });
      await this.pruneEmptyParents(path.dirname(file));
    }
  }

  /** Removes the temporary files under the folder `prefix` (see {@link BlobStore.discardPartialWrites}) and the folders left empty. */
  async discardPartialWrites(prefix: string): Promise<void> {
    assertSafePrefix(prefix);
    const folder = prefix.replace(/\/+$/, '');
    if (folder === '') return;
    const temporaries: string[] = [];
    await collectTemporaries(resolveInside(this.root, folder), temporaries);
    for (const file of temporaries) {
      await rm(file, { force: true });
      await this.pruneEmptyParents(path.dirname(file));
    }
  }

  /** Maps a key to its file, refusing unsafe keys and the names of our own temporary files. */
  private pathFor(key: string): string {
    assertSafeKey(key);
    const name = key.slice(key.lastIndexOf('/') + 1);
    if (name.includes(TEMP_MARKER) || name.endsWith(PARTIAL_SUFFIX)) {
      throw new PermanentError(`invalid object key ${JSON.stringify(key)}: the name is reserved for temporary files`, { code: 'INVALID_KEY' });
    }
    return resolveInside(this.root, key);
  }

  private async openObject(key: string): Promise<{ stream: Readable; size: number }> {
    const { handle, size } = await this.openFile(key);
    return { stream: handle.createReadStream({ highWaterMark: 1 << 20 }), size };
  }

  /** The object's file, open for reading, and its size. @throws PermanentError `NOT_FOUND` (missing, or not a file) */
  private async openFile(key: string): Promise<{ handle: FileHandle; size: number }> {
    const file = this.pathFor(key);
    try {
      const handle = await open(file, 'r');
      const info = await handle.stat();
      if (!info.isFile()) {
        await handle.close();
        throw Object.assign(new Error(`${file} is not a file`), { code: 'ENOENT' });
      }
      return { handle, size: info.size };
    } catch (error) {
      throw mapFsError(error, key, this.root);
    }
  }

  /** Removes directories left empty by a delete, up to (not including) the root. */
  private async pruneEmptyParents(dir: string): Promise<void> {
    let current = dir;
    while (current.startsWith(this.root + path.sep)) {
      try {
        await rmdir(current);
      } catch {
        return;
      }
      current = path.dirname(current);
    }
  }
}

/** Walks `dir` (whose key is `dirKey`) and collects every object whose key starts with `prefix`. */
async function collectObjects(dir: string, dirKey: string, prefix: string, found: ObjectInfo[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(function unreadable() {
    return [];
  });
  // Every entry at once (the caller sorts): one file-system call after the other took 0.4 ms per object.
  await Promise.all(entries.map(async function collectEntry(entry) {
    const key = dirKey ? `${dirKey}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      const asDir = `${key}/`;
      if (asDir.startsWith(prefix) || prefix.startsWith(asDir)) {
        await collectObjects(path.join(dir, entry.name), key, prefix, found);
      }
    } else if (entry.isFile() && key.startsWith(prefix) && !isTemporary(entry.name)) {
      const info = await stat(path.join(dir, entry.name)).catch(function vanished() {
        return undefined;
      });
      if (info) found.push({ key, size: info.size, lastModified: info.mtime });
    }
  }));
}

/** Paths of the temporary files under `dir`. */
async function collectTemporaries(dir: string, found: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(function unreadable() {
    return [];
  });
  for (const entry of entries) {
    const entryPath = path.join(dir, entry.name);
    if (entry.isDirectory()) await collectTemporaries(entryPath, found);
    else if (isTemporary(entry.name)) found.push(entryPath);
  }
}

function isTemporary(name: string): boolean {
  return name.includes(TEMP_MARKER) || name.endsWith(PARTIAL_SUFFIX);
}

const TRANSIENT_FS_CODES = new Set(['EMFILE', 'ENFILE', 'EBUSY', 'EAGAIN', 'EINTR', 'ETIMEDOUT']);

/** Our errors pass through; file-system errors become TransientError or PermanentError with a stable code. */
/**
 * A write's file-system error, as {@link mapFsError} says it — unless the store's directory cannot be
 * written at all, which is said instead, whatever the error (Node's recursive mkdir reports ENOENT on
 * a read-only file system, which read as "object not found").
 */
function writeFailure(error: unknown, key: string, root: string, action: 'write' | 'delete' = 'write'): Error {
  if (error instanceof PermanentError || error instanceof TransientError) return error;
  let why: string | undefined;
  let existing = root; // a store made by this write (the first backup) is judged by the folder it goes in
  while (!existsSync(existing) && path.dirname(existing) !== existing) existing = path.dirname(existing);
  try {
    accessSync(existing, constants.W_OK);
  } catch (denied) {
    why = unwritableBecause((denied as { code?: unknown }).code);
  }
  if (why === undefined) return mapFsError(error, key, root);
  return new PermanentError(`cannot ${action} ${key}: the store directory ${root} ${why} (restore, verify and drill record their progress and results in the store: they need write access too)`, { code: 'ACCESS_DENIED', cause: error });
}

function mapFsError(error: unknown, key: string, root: string): Error {
  if (error instanceof PermanentError || error instanceof TransientError) return error;
  const code = (error as { code?: unknown }).code;
  const detail = error instanceof Error ? error.message : String(error);
  switch (code) {
    case 'ENOENT':
      return new PermanentError(`object ${key} not found in ${root}`, { code: 'NOT_FOUND', cause: error });
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new PermanentError(`access denied writing ${key} under ${root}: ${detail}`, { code: 'ACCESS_DENIED', cause: error });
    case 'ENOTDIR':
    case 'EISDIR':
    case 'EEXIST':
      return new PermanentError(`key ${key} conflicts with an existing object or folder in ${root}`, { code: 'KEY_CONFLICT', cause: error });
    case 'ENOSPC':
      return new PermanentError(`no space left on the device holding ${root}`, { code: 'NO_SPACE', cause: error });
    default:
      if (typeof code === 'string' && TRANSIENT_FS_CODES.has(code)) {
        return new TransientError(`temporary file-system error on ${key}: ${detail}`, { code: 'FS_BUSY', cause: error });
      }
      return new PermanentError(`file-system error on ${key} in ${root}: ${detail}`, { code: 'FS_ERROR', cause: error });
  }
}
