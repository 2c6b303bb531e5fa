/**
 * The logical backup's artifact: NDJSON, one line each for a header, every node (pre-order, parents
 * first) and a trailer.
 *
 *     {"format":"dbbackup.zookeeper.tree","version":2}
 *     {"path":"/a","data":"<base64>","acl":[[31,"world","anyone"]],"kind":"persistent","mzxid":4,"sequenceHigh":17}
 *     {"end":true,"nodeCount":2,"digest":"<64 hex>","maxMzxid":4,"sha256":"<64 hex>"}
 *
 * Why NDJSON rather than framed binary: the artifact can be read with head, grep and jq when a
 * restore goes wrong; each record is self-delimiting, so a truncation shows as a missing trailer and
 * damage as an unparseable line; a line is bounded by jute.maxbuffer (1 MB of data, 1.4 MB base64).
 * The cost is a third more bytes for data, which the store's compression mostly takes back.
 *
 * `sequenceHigh` (version 2 on, on a node some of whose children ZooKeeper numbered): the highest
 * such number (tree-walk.ts). A version 1 artifact does not say which children are numbered.
 *
 * The trailer makes damage detectable: `sha256` covers every byte before the trailer line,
 * `nodeCount` and `digest` (tree-digest.ts) cover the nodes as parsed. The reader refuses anything
 * else with PermanentError `ZK_CORRUPT_TREE` saying what is wrong.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PermanentError } from '../../../core/errors';
import { HashingStream } from '../../../core/io/hashing-stream';
import { removeWrittenFile } from '../../../core/io/written-file';
import { kindName, parseKindName, TreeDigest, type Acl, type TreeSummary } from '../tree-digest';
import { fileLines } from './artifact-lines';
import type { WalkedNode } from './tree-walk';

export const TREE_ARTIFACT_FORMAT = 'dbbackup.zookeeper.tree';
export const TREE_ARTIFACT_VERSION = 2;
/** Versions this reader reads: 1 records no `sequenceHigh`. */
const READABLE_VERSIONS: ReadonlySet<unknown> = new Set([1, 2]);
/** A line longer than this is damage, not data (jute.maxbuffer raised to 48 MB would still fit). */
const MAX_LINE_BYTES = 64 * 1024 * 1024;

/** What an artifact's trailer records, checked against the nodes it holds. */
export interface TreeArtifactSummary extends TreeSummary {
  maxMzxid: number;
  /** sha256 (hex) of every byte before the trailer line. */
  sha256: string;
}

/** A written artifact: its file's size and sha256 (for the manifest) and its trailer. */
export interface WrittenTreeArtifact extends TreeArtifactSummary {
  file: string;
  bytes: number;
  fileSha256: string;
}

function corrupt(file: string, what: string): PermanentError {
  return new PermanentError(`ZooKeeper tree artifact ${file} is corrupt: ${what}`, { code: 'ZK_CORRUPT_TREE', engine: 'zookeeper' });
}

function nodeLine(node: WalkedNode): string {
  return `${JSON.stringify({
    path: node.path,
    data: node.data.toString('base64'),
    acl: node.acl.map((entry) => [entry.perms, entry.scheme, entry.id]),
    kind: kindName(node.kind),
    mzxid: node.mzxid,
    ...(node.sequenceHigh === undefined ? {} : { sequenceHigh: node.sequenceHigh }),
  })}\n`;
}

async function* artifactLines(nodes: AsyncIterable<WalkedNode>, done: (summary: TreeArtifactSummary) => void): AsyncGenerator<Buffer> {
  const hash = createHash('sha256');
  const digest = new TreeDigest();
  let maxMzxid = 0;
  const emit = (text: string) => {
    const bytes = Buffer.from(text, 'utf8');
    hash.update(bytes);
    return bytes;
  };
  yield emit(`${JSON.stringify({ format: TREE_ARTIFACT_FORMAT, version: TREE_ARTIFACT_VERSION })}\n`);
  for await (const node of nodes) {
    digest.add(node);
    if (node.mzxid > maxMzxid) maxMzxid = node.mzxid;
    yield emit(nodeLine(node));
  }
  const summary: TreeArtifactSummary = { ...digest.summary(), maxMzxid, sha256: hash.digest('hex') };
  done(summary);
  yield Buffer.from(`${JSON.stringify({ end: true, ...summary })}\n`, 'utf8');
}

/**
 * Streams `nodes` (a {@link import('./tree-walk').TreeWalk}, or any nodes parents first) into `file`.
 * On failure the file is removed and the error rethrown.
 */
export async function writeTreeArtifact(file: string, nodes: AsyncIterable<WalkedNode>): Promise<WrittenTreeArtifact> {
  let summary: TreeArtifactSummary | undefined;
  const hashing = new HashingStream();
  const writer = createWriteStream(file);
  try {
    await pipeline(Readable.from(artifactLines(nodes, (s) => { summary = s; })), hashing, writer);
  } catch (error) {
    await removeWrittenFile(writer, file);
    throw error;
  }
  if (!summary) throw new Error(`writing ${file} ended without a trailer`);
  return { file, bytes: hashing.bytes, fileSha256: hashing.digest(), ...summary };
}

function parseJson(file: string, bytes: Buffer, lineNumber: number): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(bytes.toString('utf8'));
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw corrupt(file, `line ${lineNumber} is not a JSON object`);
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function parseNode(file: string, record: Record<string, unknown>, lineNumber: number): WalkedNode {
  const bad = (what: string) => corrupt(file, `line ${lineNumber}: ${what}`);
  const { path, data, acl, kind, mzxid, sequenceHigh } = record;
  if (typeof path !== 'string' || !path.startsWith('/') || (path !== '/' && path.endsWith('/')) || path.includes('//')) throw bad(`not a node path: ${JSON.stringify(path)}`);
  if (typeof data !== 'string' || data.length % 4 !== 0 || !BASE64.test(data)) throw bad(`the data of ${path} is not base64`);
  if (!Array.isArray(acl) || !acl.every((e) => Array.isArray(e) && e.length === 3 && Number.isInteger(e[0]) && typeof e[1] === 'string' && typeof e[2] === 'string')) {
    throw bad(`the ACL of ${path} is not a list of [perms, scheme, id]`);
  }
  if (typeof kind !== 'string') throw bad(`${path} has no kind`);
  if (typeof mzxid !== 'number' || !Number.isSafeInteger(mzxid)) throw bad(`${path} has no mzxid`);
  if (sequenceHigh !== undefined && !(typeof sequenceHigh === 'number' && Number.isSafeInteger(sequenceHigh) && sequenceHigh >= 0)) throw bad(`${path} has a sequenceHigh that is not a number`);
  let parsedKind;
  try {
    parsedKind = parseKindName(kind);
  } catch {
    throw bad(`${path} has an unknown kind ${JSON.stringify(kind)}`);
  }
  const entries: Acl[] = (acl as [number, string, string][]).map(([perms, scheme, id]) => ({ perms, scheme, id }));
  return { path, data: Buffer.from(data, 'base64'), acl: entries, kind: parsedKind, mzxid, ...(sequenceHigh === undefined ? {} : { sequenceHigh: sequenceHigh as number }) };
}

function checkTrailer(file: string, record: Record<string, unknown>, actual: TreeArtifactSummary): void {
  const fields: (keyof TreeArtifactSummary)[] = ['nodeCount', 'digest', 'maxMzxid', 'sha256'];
  for (const field of fields) {
    if (record[field] !== actual[field]) {
      throw corrupt(file, `its trailer records ${field} ${JSON.stringify(record[field])} but the artifact holds ${JSON.stringify(actual[field])}`);
    }
  }
}

/**
 * Streams the nodes of an artifact, parents first, checking as it goes; the trailer is checked
 * after the last node, so a consumer that must not act on a damaged artifact reads it through
 * {@link verifyTreeArtifact} first.
 * @throws PermanentError `ZK_CORRUPT_TREE` naming the damage (bad header, unparseable line, a
 *   missing or mismatching trailer, bytes after it)
 */
export async function* readTreeArtifact(file: string): AsyncGenerator<WalkedNode, TreeArtifactSummary> {
  const hash = createHash('sha256');
  const digest = new TreeDigest();
  let maxMzxid = 0;
  let lineNumber = 0;
  let trailer: TreeArtifactSummary | undefined;
  for await (const line of fileLines(file, MAX_LINE_BYTES, (n) => corrupt(file, `line ${n} is longer than ${MAX_LINE_BYTES} bytes`))) {
    lineNumber += 1;
    if (trailer) throw corrupt(file, `line ${lineNumber} follows the trailer`);
    if (!line.terminated) throw corrupt(file, `it is truncated: line ${lineNumber} ends without a newline`);
    const record = parseJson(file, line.bytes, lineNumber);
    if (lineNumber === 1) {
      if (record.format === TREE_ARTIFACT_FORMAT && typeof record.version === 'number' && record.version > TREE_ARTIFACT_VERSION) {
        throw new PermanentError(`ZooKeeper tree artifact ${file} was written by a newer dbbackup (its version ${record.version}; this one reads ${[...READABLE_VERSIONS].join(' and ')}): upgrade dbbackup where the restore runs`, { code: 'UNSUPPORTED_VERSION', engine: 'zookeeper' });
      }
      if (record.format !== TREE_ARTIFACT_FORMAT || !READABLE_VERSIONS.has(record.version)) {
        throw corrupt(file, `its header is not that of a ${TREE_ARTIFACT_FORMAT} version ${[...READABLE_VERSIONS].join(' or ')}`);
      }
    } else if (record.end === true) {
      trailer = { ...digest.summary(), maxMzxid, sha256: hash.digest('hex') };
      checkTrailer(file, record, trailer);
      continue;
    } else {
      const node = parseNode(file, record, lineNumber);
      if (lineNumber === 2 && node.path !== '/') throw corrupt(file, `its first node is ${node.path}, not the root`);
      if (lineNumber > 2 && node.path === '/') throw corrupt(file, `line ${lineNumber} holds the root a second time`);
      digest.add(node);
      if (node.mzxid > maxMzxid) maxMzxid = node.mzxid;
      yield node;
    }
    hash.update(line.bytes).update('\n');
  }
  if (lineNumber === 0) throw corrupt(file, 'it is empty');
  if (!trailer) throw corrupt(file, `it is truncated: it ends after ${digest.summary().nodeCount} nodes without its trailer`);
  return trailer;
}

/** Whether the artifact records which children ZooKeeper numbered (`sequenceHigh`, version 2 on); its header is checked as it is read. */
export async function recordsSequences(file: string): Promise<boolean> {
  for await (const line of fileLines(file, MAX_LINE_BYTES, () => corrupt(file, 'its header line is too long'))) {
    const version = line.terminated ? parseJson(file, line.bytes, 1).version : undefined;
    return typeof version === 'number' && version >= 2;
  }
  return false;
}

/** Reads a whole artifact and returns its trailer. @throws PermanentError `ZK_CORRUPT_TREE` as {@link readTreeArtifact} */
export async function verifyTreeArtifact(file: string): Promise<TreeArtifactSummary> {
  const nodes = readTreeArtifact(file);
  for (;;) {
    const next = await nodes.next();
    if (next.done) return next.value;
  }
}
