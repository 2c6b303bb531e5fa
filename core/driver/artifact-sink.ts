/**
 * Where a snapshot's artifacts are written: the host's spool (uploaded later by the upload step) or
 * straight into the store under the node's prefix (no local copy at all — for engines whose
 * snapshot is a stream, like a MySQL dump or an xbstream, and hosts without room for one).
 *
 * Either way each artifact is hashed while it is written, a failed write leaves nothing under its
 * name, and validation reads back exactly what was written (`openArtifact` / `verifyArtifact`).
 */
import { createReadStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, type Readable, type Transform } from 'node:stream';
import { mapLimited } from '../concurrency';
import { PermanentError } from '../errors';
import { deletePrefix, type BlobStore, type PutResult } from '../store/blob-store';
import { createRateLimiter, throttleStages } from '../store/rate-limiter';
import { chain, toReadable } from '../store/transfer';
import { openFileWriter, type ChunkWriter } from '../io/chunk-writer';
import { hashLocalFile, hashLocalFiles } from '../io/hash-threads';
import { resolveInside } from '../io/resolve-inside';
import { assertArtifactName, hashStream, writeArtifact } from './spool';
import { assertSameHash, openStored, storedBytesOf, VerifyingStream } from './artifact-check';
import { encodes, encodingStages, storedFormOf, type KeyOpener } from '../crypto/artifact-encoding';
import { spoolKeyOpener } from '../crypto/encoding-settings';
import { HashingStream } from '../io/hashing-stream';
import type { ArtifactDestination, ArtifactRef, BackupContext } from './types';
import type { Logger } from '../logger';

export interface ArtifactSink {
  /** Where artifacts go, for messages: the spool directory or the store URL and prefix. */
  readonly where: string;
  /**
   * Streams `source` through `transforms` into artifact `name` and returns its size and sha256
   * (and its key, when written to the store). Writing a name again replaces it. Bytes already
   * whole (a small artifact) may come as a Buffer: with nothing to pass through, written in one call.
   */
  write(name: string, source: Readable | Buffer, ...transforms: Transform[]): Promise<ArtifactRef>;
  /**
   * Artifact `name` written a chunk at a time (core/io/chunk-writer.ts), for producers that reuse
   * their buffers: hashed as written, as `write` is; aborted, nothing stays under the name. Into a
   * local file (the spool, a store with `openWriter`) without streams; into other stores through
   * `put`, each chunk copied (the stream keeps it).
   */
  open(name: string): Promise<ChunkWriter<ArtifactRef>>;
  /**
   * Removes everything written here before (a retried snapshot starts clean). In a store the host
   * may not delete from (in AWS hosts never delete backups), what an earlier attempt wrote stays:
   * this attempt's artifacts replace those of the same name, and the manifest lists only this
   * attempt's; the rest goes with the backup when it is discarded or pruned.
   */
  clear(): Promise<void>;
}

/** Artifacts as files in a host-local spool directory. */
export function spoolSink(spoolDir: string): ArtifactSink {
  return {
    where: spoolDir,
    write: (name, source, ...transforms) => writeArtifact(spoolDir, name, source, ...transforms),
    async open(name) {
      const target = resolveInside(spoolDir, name);
      await mkdir(path.dirname(target), { recursive: true });
      const file = await openFileWriter(target, `${target}.partial`, { durable: false });
      return { write: (chunk) => file.write(chunk), end: async () => ({ name, ...await file.end() }), abort: () => file.abort() };
    },
    async clear() {
      await rm(spoolDir, { recursive: true, force: true });
      await mkdir(spoolDir, { recursive: true });
    },
  };
}

/**
 * Artifacts as objects under `destination.prefix`, streamed as they are produced, durable once
 * the snapshot persists them (take-snapshot.ts). The rate limit is the node's: one token bucket
 * shared by every write of this sink, so artifacts written at the same time (a dump's parallel
 * chunks) stay within it together.
 */
export function storeSink(destination: ArtifactDestination, logger?: Logger): ArtifactSink {
  const { store, prefix, encoding } = destination;
  const bucket = createRateLimiter(destination.rateLimit);
  const sink: ArtifactSink = {
    where: `${store.url} ${prefix}/`,
    async write(name, source, ...transforms) {
      assertArtifactName(name); // the same name rules as the spool
      const key = `${prefix}/${name}`;
      if (encodes(encoding, name)) {
        const plain = new HashingStream();
        const stored = await store.put(key, chain(toReadable(source), [...transforms, plain, ...encodingStages(encoding, name, key), ...throttleStages(bucket)]), { persistLater: true });
        return { name, size: plain.bytes, sha256: plain.digest(), key, ...storeChecksumOf(stored), stored: storedFormOf(encoding, name, stored) };
      }
      const stages = [...transforms, ...throttleStages(bucket)];
      const stored = await store.put(key, Buffer.isBuffer(source) && stages.length === 0 ? source : chain(toReadable(source), stages), { persistLater: true });
      return { name, size: stored.size, sha256: stored.sha256, key, ...storeChecksumOf(stored) };
    },
    async open(name) {
      assertArtifactName(name);
      const key = `${prefix}/${name}`;
      if (!store.openWriter || encodes(encoding, name)) return streamedWriter((body) => sink.write(name, body));
      const object = await store.openWriter(key, { persistLater: true });
      return {
        async write(chunk) {
          if (bucket) await bucket.take(chunk.length);
          return object.write(chunk);
        },
        end: async () => {
          const stored = await object.end();
          return { name, size: stored.size, sha256: stored.sha256, key };
        },
        abort: () => object.abort(),
      };
    },
    async clear() {
      try {
        await deletePrefix(store, `${prefix}/`);
      } catch (error) {
        if ((error as { code?: unknown }).code !== 'ACCESS_DENIED') throw error;
        logger?.warn('an earlier attempt\'s artifacts stay in the store (this host may not delete there); this attempt replaces those of the same name', { prefix });
      }
    },
    };
  return sink;
}

/** The store's checksum of an object just put, as an artifact keeps it (when the store keeps one). */
function storeChecksumOf(stored: PutResult): Pick<ArtifactRef, 'storeChecksum'> {
  return stored.checksum !== undefined ? { storeChecksum: stored.checksum } : {};
}

/** A chunk writer over a stream writer (`write`): each chunk copied into the stream, which keeps it until it is written. */
function streamedWriter(write: (body: Readable) => Promise<ArtifactRef>): ChunkWriter<ArtifactRef> {
  const body = new PassThrough({ highWaterMark: 4 * 1024 * 1024 });
  body.on('error', function heardByTheWriter() {});
  const written = write(body);
  written.catch(function heardAtTheEnd() {});
  const stopped = () => written.then(() => new Error('the artifact\'s writer stopped reading'), (error: unknown) => error);
  return {
    async write(chunk) {
      if (body.destroyed) throw await stopped();
      if (body.write(Buffer.from(chunk))) return;
      await new Promise<void>(function roomOrClose(resolve) {
        const go = () => {
          body.off('drain', go);
          body.off('close', go);
          resolve();
        };
        body.on('drain', go);
        body.on('close', go);
      });
      if (body.destroyed) throw await stopped();
    },
    async end() {
      body.end();
      return written;
    },
    async abort() {
      body.destroy(new Error('the artifact was abandoned'));
      await written.catch(() => undefined);
    },
  };
}

/**
 * The sink for a snapshot: straight into the store when `direct` is asked for and the step was
 * given a destination, otherwise the spool.
 */
export function artifactSink(ctx: Pick<BackupContext, 'spoolDir' | 'destination' | 'logger'>, direct: boolean): ArtifactSink {
  return direct && ctx.destination ? storeSink(ctx.destination, ctx.logger) : spoolSink(ctx.spoolDir);
}

/**
 * Reads an artifact's plain bytes back from wherever it was written (the store when it has a key,
 * else the spool). One the snapshot stored encrypted is opened with the node's data key, kept
 * beside `spoolDir` (core/crypto/encoding-settings.ts), or `openKey` when given.
 */
export async function openArtifact(spoolDir: string, artifact: ArtifactRef, store: BlobStore | undefined, openKey?: KeyOpener): Promise<Readable> {
  if (artifact.key !== undefined) {
    if (!store) throw new PermanentError(`artifact ${artifact.name} is in the store (${artifact.key}) but no store was given to read it`, { code: 'STORE_REQUIRED' });
    return openStored(store, { ...artifact, key: artifact.key }, openKey ?? spoolKeyOpener(spoolDir));
  }
  const file = resolveInside(spoolDir, artifact.name);
  if (!(await stat(file).catch(() => undefined))) {
    throw new PermanentError(`artifact ${artifact.name} is missing from ${spoolDir}`, { code: 'ARTIFACT_MISSING' });
  }
  return createReadStream(file, { highWaterMark: 1 << 20 });
}

/**
 * Artifacts re-hashed at once by {@link ArtifactReader.verifyUnread}. Sixteen either way: objects
 * streamed from a remote store (S3) each wait on their requests (with 4, a backup of 1 000 small
 * tables spent 7.6 s re-reading them 25 ms away); local files big enough for the hashing threads
 * queue there (at most four run), and small ones, hashed here, wait on their open and read
 * (1 000 small tables: 190 ms with 4 in flight, 130 ms with 16).
 */
const VERIFY_CONCURRENCY = 16;

/**
 * Reads a snapshot's artifacts for validation, checking each one's sha256 as it is read (a
 * consumer that reads to the end gets `CHECKSUM_MISMATCH` instead of the end), so validating
 * content and integrity costs one read. `verifyUnread` then hashes the artifacts nobody read.
 */
export class ArtifactReader {
  private readonly verified = new Set<string>();
  /** The node's data keys, its key file read once for every artifact. */
  private readonly openKey: KeyOpener;

  constructor(private readonly spoolDir: string, private readonly store: BlobStore | undefined) {
    this.openKey = spoolKeyOpener(spoolDir);
  }

  /** The artifact's bytes, verified at the end. */
  async open(artifact: ArtifactRef): Promise<Readable> {
    const source = await openArtifact(this.spoolDir, artifact, this.store, this.openKey);
    return chain(source, [new VerifyingStream(artifact, () => this.verified.add(artifact.name))]);
  }

  /** The whole (small) artifact in memory, verified. */
  async readAll(artifact: ArtifactRef): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const part of await this.open(artifact)) parts.push(part as Buffer);
    return Buffer.concat(parts);
  }

  /**
   * Hashes every artifact not yet read to its end; returns one problem per damaged or missing
   * artifact (empty when all are intact).
   */
  async verifyUnread(artifacts: readonly ArtifactRef[]): Promise<string[]> {
    return [...(await this.damaged(artifacts)).entries()].map(([name, problem]) => `${name}: ${problem}`);
  }

  /**
   * {@link verifyUnread}'s findings by artifact name: what is wrong with each damaged or missing
   * one. Small local files are hashed many at a time by the hashing threads
   * ({@link smallLocalFiles}); the others, and any of those that could not be read (to say why), one
   * at a time.
   */
  async damaged(artifacts: readonly ArtifactRef[]): Promise<Map<string, string>> {
    const unread = artifacts.filter((artifact) => !this.verified.has(artifact.name));
    const problems = new Map<string, string>();
    const local = smallLocalFiles(unread, this.spoolDir, this.store);
    const hashed = await hashLocalFiles(local.map((l) => ({ path: l.file, size: writtenBytesOf(l.artifact).size }))).catch(() => []);
    const inPlace = new Set<ArtifactRef>();
    local.forEach(({ artifact }, i) => {
      const found = hashed[i];
      if (found === undefined || 'error' in found) return;
      inPlace.add(artifact);
      try {
        assertSameHash(writtenBytesOf(artifact), found);
        this.verified.add(artifact.name);
      } catch (error) {
        problems.set(artifact.name, (error as Error).message);
      }
    });
    await mapLimited(unread.filter((artifact) => !inPlace.has(artifact)), VERIFY_CONCURRENCY, (artifact) => verifyArtifact(this.spoolDir, artifact, this.store)
      .then(() => this.verified.add(artifact.name), (error: Error) => problems.set(artifact.name, error.message)));
    return new Map(unread.flatMap((artifact) => (problems.has(artifact.name) ? [[artifact.name, problems.get(artifact.name)!] as const] : [])));
  }
}

/** Artifacts at most this big that are local files are hashed many to a message (hash-threads.ts `hashLocalFiles`). */
const SMALL_FILE_BYTES = 1 << 20;

/**
 * Which of `artifacts` are small files on this host, and where: a spool file, or the file of a
 * store that keeps objects as local files and proved nothing on receipt (a local directory). A
 * name or key no file could have is left to {@link verifyArtifact}, which says so.
 */
function smallLocalFiles(artifacts: readonly ArtifactRef[], spoolDir: string, store: BlobStore | undefined): Array<{ artifact: ArtifactRef; file: string }> {
  return artifacts.flatMap((artifact) => {
    if (writtenBytesOf(artifact).size > SMALL_FILE_BYTES) return [];
    try {
      if (artifact.key === undefined) return [{ artifact, file: resolveInside(spoolDir, artifact.name) }];
      if (artifact.storeChecksum === undefined && store?.hashObject && store.localFile) return [{ artifact, file: store.localFile(artifact.key) }];
    } catch {
      // verifyArtifact says what is wrong with it
    }
    return [];
  });
}

/** The bytes `artifact` was written as where it lies: its plain bytes in the spool, its stored form in the store. */
const writtenBytesOf = (artifact: ArtifactRef) => (artifact.key === undefined ? artifact : storedBytesOf(artifact));

/**
 * Proves an artifact is still the bytes written: by the store's checksum when it verified them on
 * receipt ({@link unchangedByChecksum}: S3, nothing read back), else re-hashed where it was
 * written. Throws PermanentError `CHECKSUM_MISMATCH` when it changed, `ARTIFACT_MISSING` (or the
 * store's `NOT_FOUND`) when it is gone.
 */
export async function verifyArtifact(spoolDir: string, artifact: ArtifactRef, store?: BlobStore): Promise<void> {
  if (await unchangedByChecksum(artifact, store)) return;
  assertSameHash(writtenBytesOf(artifact), await hashArtifact(spoolDir, artifact, store));
}

/**
 * True when the store proves `artifact`'s object is still the bytes written without reading it:
 * its head reports the checksum those bytes had, which the store verified on receipt
 * (ArtifactRef.storeChecksum), and their size. Throws `NOT_FOUND` when the object is gone,
 * `CHECKSUM_MISMATCH` when its size is not theirs; false when there is nothing to compare (no
 * checksum recorded, or the store reports none now) or the checksum differs (the same bytes
 * stored again in other parts would too): then the object is read and hashed, which settles it.
 */
async function unchangedByChecksum(artifact: ArtifactRef, store: BlobStore | undefined): Promise<boolean> {
  if (artifact.key === undefined || artifact.storeChecksum === undefined || !store) return false;
  const held = await store.head(artifact.key, { checksum: true });
  if (!held) throw new PermanentError(`artifact ${artifact.name} is gone from the store (${artifact.key})`, { code: 'NOT_FOUND' });
  const written = storedBytesOf(artifact);
  if (held.size !== written.size) assertSameHash(written, { size: held.size, sha256: '(not read: the size differs)' });
  return held.checksum === artifact.storeChecksum;
}

/**
 * An artifact's size and sha256 where it was written — of its stored bytes, in the store (an
 * encrypted artifact's authenticated segments and their sha256 prove its plain bytes): in place
 * when it can be (a spool file, a store that hashes its own objects: BlobStore.hashObject), else by
 * streaming it.
 */
async function hashArtifact(spoolDir: string, artifact: ArtifactRef, store: BlobStore | undefined): Promise<{ size: number; sha256: string }> {
  if (artifact.key !== undefined && store?.hashObject) return store.hashObject(artifact.key);
  if (artifact.key === undefined) {
    return hashLocalFile(resolveInside(spoolDir, artifact.name)).catch((error: unknown) => {
      if ((error as { code?: unknown }).code !== 'ENOENT') throw error;
      throw new PermanentError(`artifact ${artifact.name} is missing from ${spoolDir}`, { code: 'ARTIFACT_MISSING' });
    });
  }
  if (!store) throw new PermanentError(`artifact ${artifact.name} is in the store (${artifact.key}) but no store was given to read it`, { code: 'STORE_REQUIRED' });
  return hashStream(await store.get(artifact.key));
}

