/**
 * What a ZooKeeper tree is, for a backup's proof: every node but the ephemeral ones and those under
 * `/zookeeper` (the server's own), each by its path, data and ACL. The digest is the sum (mod
 * 2^256) of a sha256 per node, so it does not depend on the order nodes are met in: a tree walk, a
 * snapshot read with its logs replayed, and a restored server's walk all reach the same value for
 * the same tree, without holding or sorting the tree.
 *
 * A node's kind (container, TTL) is not in the digest: ZooKeeper shows clients an
 * `ephemeralOwner` of 0 for both (DataNode.getClientEphemeralOwner), so no walk could check it.
 * Host-local backups keep kinds (they are ZooKeeper's own files); logical ones cannot see them.
 */
import { createHash } from 'node:crypto';

/** One ACL entry, as ZooKeeper stores it: permission bits (READ 1, WRITE 2, CREATE 4, DELETE 8, ADMIN 16) and the id. */
export interface Acl {
  perms: number;
  scheme: string;
  id: string;
}

/** A node's kind, from its `ephemeralOwner` (sequential is only a name suffix, kept as it is). */
export type NodeKind = { type: 'persistent' } | { type: 'container' } | { type: 'ttl'; ttlMs: number };

/** A node as the digest sees it. */
export interface TreeNode {
  path: string;
  data: Buffer;
  acl: readonly Acl[];
  kind: NodeKind;
}

/** `ephemeralOwner` of a container (EphemeralType.CONTAINER_EPHEMERAL_OWNER). */
const CONTAINER_OWNER = 0x8000000000000000n;
/** Owners with this top byte are extended types; with reserved bits 0, a TTL (EphemeralType.TTL). */
const EXTENDED_MASK = 0xff00000000000000n;
const RESERVED_BITS_MASK = 0x00ffff0000000000n;
const TTL_MASK = 0x000000ffffffffffn;

/**
 * The kind of a node from its `ephemeralOwner` (as a 64-bit two's-complement value or its unsigned
 * form), or `ephemeral` for a session's node.
 */
export function kindOfOwner(ephemeralOwner: bigint): NodeKind | 'ephemeral' {
  const owner = BigInt.asUintN(64, ephemeralOwner);
  if (owner === 0n) return { type: 'persistent' };
  if (owner === CONTAINER_OWNER) return { type: 'container' };
  if ((owner & EXTENDED_MASK) === EXTENDED_MASK && (owner & RESERVED_BITS_MASK) === 0n) return { type: 'ttl', ttlMs: Number(owner & TTL_MASK) };
  return 'ephemeral';
}

/** True for the paths a backup leaves out whatever their kind: `/zookeeper` and below. */
export function isSystemPath(path: string): boolean {
  return path === '/zookeeper' || path.startsWith('/zookeeper/');
}

/** `persistent`, `container` or `ttl:<ms>`: how records and artifacts write a kind. */
export function kindName(kind: NodeKind): string {
  return kind.type === 'ttl' ? `ttl:${kind.ttlMs}` : kind.type;
}

/** The inverse of {@link kindName}. @throws Error on anything else */
export function parseKindName(name: string): NodeKind {
  if (name === 'persistent' || name === 'container') return { type: name };
  const ttl = /^ttl:(\d+)$/.exec(name);
  if (ttl) return { type: 'ttl', ttlMs: Number(ttl[1]) };
  throw new Error(`unknown node kind ${JSON.stringify(name)}`);
}

function framed(hash: ReturnType<typeof createHash>, value: Buffer | string): void {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  hash.update(length).update(bytes);
}

/** A node as the digest takes it: its data, or the data's sha256 (what a replay keeps instead of the data). */
export type DigestNode = Pick<TreeNode, 'path' | 'acl'> & ({ data: Buffer } | { dataSha256: Buffer });

/** The sha256 of a node's data. */
export function dataSha256(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

/** The sha256 of one node: path, sha256 of data, then each ACL entry in order, each field length-framed (kind left out: see above). */
export function nodeHash(node: DigestNode): Buffer {
  const hash = createHash('sha256');
  framed(hash, node.path);
  framed(hash, 'dataSha256' in node ? node.dataSha256 : dataSha256(node.data));
  for (const entry of node.acl) {
    framed(hash, String(entry.perms));
    framed(hash, entry.scheme);
    framed(hash, entry.id);
  }
  return hash.digest();
}

const MOD = 1n << 256n;

/** A tree's node count and digest, as recorded in a backup and compared after a restore. */
export interface TreeSummary {
  nodeCount: number;
  /** 64 hex digits: the sum of the nodes' hashes mod 2^256. */
  digest: string;
}

/** Adds nodes one at a time; {@link TreeDigest.summary} at any point. Leave ephemeral and system nodes out before adding. */
export class TreeDigest {
  private sum = 0n;
  private count = 0;

  add(node: DigestNode): void {
    this.sum = (this.sum + BigInt(`0x${nodeHash(node).toString('hex')}`)) % MOD;
    this.count += 1;
  }

  /** Takes a node out again (a replayed delete): add and remove commute. */
  remove(node: DigestNode): void {
    this.sum = (this.sum - BigInt(`0x${nodeHash(node).toString('hex')}`) + MOD) % MOD;
    this.count -= 1;
  }

  summary(): TreeSummary {
    return { nodeCount: this.count, digest: this.sum.toString(16).padStart(64, '0') };
  }
}
