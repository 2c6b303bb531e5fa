/**
 * The logical backup's read of a live tree: every node from `/` (the root included) in pre-order,
 * with its data (binary, as stored), ACL, kind and mzxid; ephemeral nodes and `/zookeeper` and
 * below left out (tree-digest.ts). Reads are pipelined (up to `window` nodes in flight) and memory
 * does not grow with the tree (preorder.ts). A node deleted between its parent's listing and its
 * own read is skipped. The walk is fuzzy, as any read of a live tree without a transaction is: each
 * node is as it was when it was read; `maxMzxid` is the newest change the walk saw.
 *
 * What a client cannot see: ZooKeeper hands clients an `ephemeralOwner` of 0 for container and TTL
 * nodes (DataNode.getClientEphemeralOwner), so over the client protocol they read as persistent,
 * and the walk records them so. ACLs: a client without ADMIN on a node reads its digest ids
 * redacted, so the backup's client needs READ and ADMIN everywhere.
 */
import { kindOfOwner, isSystemPath, TreeDigest, type Acl, type TreeNode, type TreeSummary } from '../tree-digest';
import type { ZooKeeperClient } from '../client';
import { authFailed } from '../../../core/errors';
import { ENGINE, isNoNode, zooKeeperCallFailed } from '../errors';
import { preorder, type NodeRead } from './preorder';
import { highestSequence } from './sequence-bump';

/** A node as the walk read it: what the digest sees, and the zxid of its last change. */
export interface WalkedNode extends TreeNode {
  mzxid: number;
  /**
   * The highest sequence number ZooKeeper gave one of its children (sequence-bump.ts
   * `highestSequence`), when one was: a restore raises the restored parent's counter past it.
   */
  sequenceHigh?: number;
}

export interface WalkOptions {
  /** Nodes read at once (default 64); each read is two or three requests. */
  window?: number;
  /**
   * Refuse an ACL the server masks (what a backup must do: it would store a password no one has).
   * A walk that only compares (a validation) reads it as it is: an entry `user:x` may also be real,
   * restored from a backup an older version took without ADMIN.
   */
  refuseMaskedAcls?: boolean;
}

/** What the walk saw, once it has finished. */
export interface WalkResult extends TreeSummary {
  /** The newest mzxid among the nodes read (0 when only an untouched root). */
  maxMzxid: number;
}

const DEFAULT_WINDOW = 64;

interface NativeAcl { perms: number; scheme: string; auth: string }

/** Resolves to undefined when the node is gone (NONODE); other failures are classified, naming the call. */
async function unlessGone<T>(call: Promise<T>, what: string): Promise<T | undefined> {
  try {
    return await call;
  } catch (error) {
    if (isNoNode(error)) return undefined;
    throw zooKeeperCallFailed(error, what);
  }
}

/**
 * Refuses an ACL the server masked: to a session without ADMIN on the node, ZooKeeper shows a
 * digest entry's password hash as `x` (`app:x`). Kept, it would restore a password no one has,
 * locking the application out of its own node while the digests still match.
 * @throws PermanentError `AUTH_FAILED` (`ZK_PRIVILEGES`) naming the node and the missing permission: the
 *   credentials may read, but not what a backup needs (a wrong digest password reads as no identity).
 */
function refuseMaskedAcl(path: string, acl: Acl[]): void {
  const masked = acl.find((entry) => entry.scheme === 'digest' && entry.id.endsWith(':x'));
  if (!masked) return;
  throw authFailed(
    `missing permission ADMIN on ${path}: its ACL gives digest user ${masked.id.slice(0, -2)} a password hash the server hides from this session, so it cannot be read, backed up or compared; use an auth with ADMIN on every node (the super digest, say)`,
    { driverCode: 'ZK_PRIVILEGES', engine: ENGINE },
  );
}

/** Reads one node: data and stat first; ACL and children only once the node is known to be there. */
async function readNode(client: ZooKeeperClient, path: string, refuseMasked: boolean): Promise<NodeRead<WalkedNode> | undefined> {
  const got = await unlessGone(client.get(path, false), `reading ${path}`);
  if (!got) return undefined;
  const [stat, data] = got as [{ ephemeralOwner: string; mzxid: number; numChildren: number }, Buffer | null];
  const kind = kindOfOwner(BigInt(`0x${stat.ephemeralOwner}`));
  if (kind === 'ephemeral') return undefined;
  // get_acl only after get succeeded: a failing get_acl crashes this client (client.ts).
  // The children with the parent's stat as of that listing: its cversion tells which are numbered.
  const [aclRead, listed] = await Promise.all([
    unlessGone(client.get_acl(path), `reading the ACL of ${path}`),
    stat.numChildren > 0 ? unlessGone(client.get_children2(path, false), `listing the children of ${path}`) : Promise.resolve([[], { cversion: 0 }]),
  ]);
  if (!aclRead || !listed) return undefined;
  const [names, listedStat] = listed as [string[], { cversion: number }];
  const acl: Acl[] = (aclRead[0] as unknown as NativeAcl[]).map((entry) => ({ perms: entry.perms, scheme: entry.scheme, id: entry.auth }));
  if (refuseMasked) refuseMaskedAcl(path, acl);
  const children = names.filter((name) => !isSystemPath(path === '/' ? `/${name}` : `${path}/${name}`)).sort();
  const sequenceHigh = highestSequence(names, listedStat.cversion);
  const node: WalkedNode = { path, data: Buffer.isBuffer(data) ? data : Buffer.alloc(0), acl, kind, mzxid: stat.mzxid, ...(sequenceHigh === undefined ? {} : { sequenceHigh }) };
  return { item: node, children };
}

/**
 * One walk of a tree: iterate it once (`for await`), then read {@link TreeWalk.result}.
 * @example
 * const walk = walkTree(client);
 * for await (const node of walk) write(node);
 * const { nodeCount, digest, maxMzxid } = walk.result();
 */
export class TreeWalk implements AsyncIterable<WalkedNode> {
  private readonly digest = new TreeDigest();
  private maxMzxid = 0;
  private finished = false;
  private started = false;

  constructor(private readonly client: ZooKeeperClient, private readonly options: WalkOptions = {}) {}

  async *[Symbol.asyncIterator](): AsyncGenerator<WalkedNode> {
    if (this.started) throw new Error('a tree walk is iterated once');
    this.started = true;
    for await (const node of preorder('/', (path) => readNode(this.client, path, this.options.refuseMaskedAcls === true), this.options.window ?? DEFAULT_WINDOW)) {
      this.digest.add(node);
      if (node.mzxid > this.maxMzxid) this.maxMzxid = node.mzxid;
      yield node;
    }
    this.finished = true;
  }

  /** The count, digest and newest mzxid of the nodes walked. @throws Error before the walk has finished */
  result(): WalkResult {
    if (!this.finished) throw new Error('the tree walk has not finished');
    return { ...this.digest.summary(), maxMzxid: this.maxMzxid };
  }
}

/** A walk of the tree `client` sees. */
export function walkTree(client: ZooKeeperClient, options?: WalkOptions): TreeWalk {
  return new TreeWalk(client, options);
}

/** Walks the whole tree and returns its summary (what a backup records, what a restore is checked against). */
export async function treeSummary(client: ZooKeeperClient, options?: WalkOptions): Promise<WalkResult> {
  const walk = walkTree(client, options);
  for await (const node of walk) void node;
  return walk.result();
}
