/**
 * Reads a ZooKeeper 3.8 snapshot (`snapshot.<zxid>`) with memory bounded by one node (FileSnap,
 * SerializeUtils.serializeSnapshot, DataTree.serialize): the file header; the sessions (count,
 * then id and timeout each); the ACL cache (count, then a long reference and an ACL vector each);
 * the nodes, parents before children, each a path (the root's is "") then its DataNode (data, ACL
 * reference, StatPersisted), until the path "/"; then the seal (SnapStream.sealStream: the Adler-32
 * of every byte before it, as a long, then the path "/"). With digests on (3.6+), a ZxidDigest
 * (zxid, digest version, digest) and a second seal, whose Adler-32 covers everything before it,
 * the first seal included, follow. ZooKeeper 3.9 (`serializeLastProcessedZxid.enabled`, its default)
 * then writes the last processed zxid (a long) and a third seal. A `.gz` snapshot is read through gunzip (the checksum covers
 * the uncompressed bytes); `.snappy` is refused.
 */
import path from 'node:path';
import { pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { Acl } from '../tree-digest';
import { badHeader, corruptSnapshot, unsupportedCompression } from './file-errors';
import { headerProblem, readFileHeader, SNAP_MAGIC, type FileHeader } from './file-header';
import { fileChunks } from './file-chunks';
import { JuteFormatError, type JuteReader } from './jute-reader';
import { JuteStream, JuteTruncated } from './jute-stream';
import { parseFileName } from './zxid';

/** StatPersisted (zookeeper.jute). */
export interface StatPersisted {
  czxid: bigint;
  mzxid: bigint;
  ctime: bigint;
  mtime: bigint;
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: bigint;
  pzxid: bigint;
}

/** A node as a snapshot holds it, its ACL resolved from the ACL cache. */
export interface SnapshotNode {
  /** `/` for the root. */
  path: string;
  data: Buffer;
  acl: Acl[];
  stat: StatPersisted;
}

/** The digest of the tree a 3.6+ server writes after it (DataTree.ZxidDigest); zxid 0 when it had none. */
export interface SnapshotZxidDigest {
  zxid: bigint;
  digestVersion: number;
  digest: bigint;
}

/** What reading a snapshot found. */
export interface SnapshotScan {
  file: string;
  /** The zxid in the file name: every txn up to it is in the snapshot (later ones may be too: snapshots are fuzzy). */
  zxid: bigint;
  header: FileHeader;
  sessionCount: number;
  aclCount: number;
  /** Nodes, the root and /zookeeper's included. */
  nodeCount: number;
  zxidDigest?: SnapshotZxidDigest;
  /** ZooKeeper 3.9: the last zxid the server had applied when it finished writing (after the digest). */
  lastProcessedZxid?: bigint;
  /** The Adler-32 of the last seal (the checksum ZooKeeper checks). */
  checksum: bigint;
}

export interface ReadSnapshotOptions {
  /** Called with each node, parents before children; reading waits for a returned promise. Its data is a view of the read's buffers. */
  onNode?: (node: SnapshotNode) => void | Promise<void>;
  /** The file's bytes, as stored (a `.gz` still compressed), when they come from elsewhere than `file` (a copy being made: byte-tap.ts). */
  chunks?: AsyncIterable<Buffer>;
  /**
   * `onNode` lets go of the node (its data) before it returns: the read then reuses its buffers
   * (JuteStream's `reuse`), and `chunks`, if given, may reuse a chunk's buffer once the next is pulled.
   */
  reuse?: boolean;
}

/** ZooDefs.Ids.OPEN_ACL_UNSAFE, what the ACL reference -1 stands for. */
const OPEN_ACL_UNSAFE: readonly Acl[] = [{ perms: 31, scheme: 'world', id: 'anyone' }];
const OPEN_UNSAFE_ACL_ID = -1n;

function readStat(r: JuteReader): StatPersisted {
  return {
    czxid: r.readLong(), mzxid: r.readLong(), ctime: r.readLong(), mtime: r.readLong(),
    version: r.readInt(), cversion: r.readInt(), aversion: r.readInt(), ephemeralOwner: r.readLong(), pzxid: r.readLong(),
  };
}

const EMPTY = Buffer.alloc(0);

type RawNode = { end: true } | { end: false; path: string; data: Buffer; aclRef: bigint; stat: StatPersisted };

function readNode(r: JuteReader): RawNode {
  const nodePath = r.readString('path');
  if (nodePath === '/') return { end: true };
  return { end: false, path: nodePath, data: r.readBuffer() ?? EMPTY, aclRef: r.readLong(), stat: readStat(r) };
}

function readDigest(r: JuteReader): SnapshotZxidDigest {
  const zxid = r.readLong();
  const digestVersion = r.readInt();
  // Versions before 2 wrote the digest as a hex string.
  const digest = digestVersion < 2 ? BigInt.asIntN(64, BigInt(`0x${r.readUstring() || '0'}`)) : r.readLong();
  return { zxid, digestVersion, digest };
}

function source(file: string, chunks: AsyncIterable<Buffer> | undefined, reuse: boolean): AsyncIterable<Buffer> {
  const compression = parseFileName(path.basename(file))?.compression;
  if (compression === 'snappy') throw unsupportedCompression(file, 'snappy');
  if (compression !== 'gz') return chunks ?? fileChunks(file, { reuse });
  // gunzip reads ahead of what it has inflated: it gets chunks of its own.
  return pipeline(chunks && reuse ? copies(chunks) : chunks ?? fileChunks(file), createGunzip(), () => undefined);
}

async function* copies(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  for await (const chunk of chunks) yield Buffer.from(chunk);
}

/**
 * Reads the snapshot at `file`, checks its checksum(s), and gives each node to `onNode`.
 * @throws PermanentError `ZK_BAD_HEADER`, `ZK_CORRUPT_SNAPSHOT` (truncated, damaged, bad
 *   checksum, bytes after the end), `ZK_UNSUPPORTED_COMPRESSION` (snappy)
 * @example
 * const scan = await readSnapshot(file, { onNode: (node) => tree.add(node) });
 */
export async function readSnapshot(file: string, options: ReadSnapshotOptions = {}): Promise<SnapshotScan> {
  const zxid = parseFileName(path.basename(file))?.zxid;
  if (zxid === undefined) throw badHeader(file, 'its name is not snapshot.<zxid>');
  const reuse = options.reuse ?? false;
  const stream = new JuteStream(source(file, options.chunks, reuse), { checksum: true, reuse });
  let section = 'header';
  try {
    const header = await stream.read(readFileHeader);
    const problem = headerProblem(header, SNAP_MAGIC);
    if (problem) throw badHeader(file, problem);

    section = 'sessions';
    const sessionCount = await stream.read((r) => r.readInt());
    if (sessionCount < 0) throw new JuteFormatError(`session count ${sessionCount}`, stream.offset);
    for (let i = 0; i < sessionCount; i += 1) await stream.read((r) => [r.readLong(), r.readInt()]);

    section = 'ACL cache';
    const acls = new Map<bigint, Acl[]>();
    const aclCount = await stream.read((r) => r.readInt());
    if (aclCount < 0) throw new JuteFormatError(`ACL count ${aclCount}`, stream.offset);
    for (let i = 0; i < aclCount; i += 1) {
      const [ref, list] = await stream.read((r) => [r.readLong(), r.readAclVector()] as const);
      acls.set(ref, list);
    }

    section = 'nodes';
    let nodeCount = 0;
    for (;;) {
      const at = stream.offset;
      const node = await stream.read(readNode);
      if (node.end) break;
      const acl = node.aclRef === OPEN_UNSAFE_ACL_ID ? [...OPEN_ACL_UNSAFE] : acls.get(node.aclRef);
      if (!acl) throw corruptSnapshot(file, `node ${node.path || '/'} at byte ${at} refers to ACL ${node.aclRef}, which the ACL cache does not hold`);
      nodeCount += 1;
      await options.onNode?.({ path: node.path === '' ? '/' : node.path, data: node.data, acl, stat: node.stat });
    }

    section = 'seal';
    let checksum = await readSeal(stream, file);
    let zxidDigest: SnapshotZxidDigest | undefined;
    if (!(await stream.atEnd())) {
      section = 'zxid digest';
      zxidDigest = await stream.read(readDigest);
      section = 'second seal';
      checksum = await readSeal(stream, file);
    }
    let lastProcessedZxid: bigint | undefined;
    if (zxidDigest && !(await stream.atEnd())) {
      section = 'last processed zxid';
      lastProcessedZxid = await stream.read((r) => r.readLong());
      section = 'third seal';
      checksum = await readSeal(stream, file);
    }
    if (!(await stream.atEnd())) throw corruptSnapshot(file, `bytes follow its end at byte ${stream.offset}`);
    return { file, zxid, header, sessionCount, aclCount, nodeCount, zxidDigest, lastProcessedZxid, checksum };
  } catch (error) {
    if (error instanceof JuteTruncated) throw corruptSnapshot(file, `it ends at byte ${error.offset + error.available}, inside the ${section}: truncated, or still being written`, error);
    if (error instanceof JuteFormatError) throw corruptSnapshot(file, `${error.message} in the ${section}`, error);
    const code = (error as { code?: unknown } | undefined)?.code;
    if (typeof code === 'string' && code.startsWith('Z_')) {
      throw corruptSnapshot(file, `gunzip fails: ${(error as Error).message}`, error);
    }
    throw error;
  } finally {
    await stream.close();
  }
}

/** Reads a seal and compares it with the checksum of every byte before it. */
async function readSeal(stream: JuteStream, file: string): Promise<bigint> {
  const expected = stream.checksum!.value();
  const at = stream.offset;
  const { value, sealPath } = await stream.read((r) => ({ value: r.readLong(), sealPath: r.readUstring() }));
  if (BigInt.asUintN(64, value) !== expected) {
    throw corruptSnapshot(file, `the checksum at byte ${at} is ${BigInt.asUintN(64, value)}, but the bytes before it sum to ${expected}`);
  }
  if (sealPath !== '/') throw corruptSnapshot(file, `the seal at byte ${at} ends with ${JSON.stringify(sealPath)} instead of "/"`);
  return expected;
}
