/**
 * A ZooKeeper tree in memory, for replaying txns onto a snapshot the way DataTree.processTxn
 * does: a create whose parent is missing or whose node exists, and a delete, setData or setACL of
 * a missing node, change nothing (NoNode / NodeExists are ignored), which is what makes replaying
 * onto a fuzzy snapshot (one that already holds some later txns' effects) come out right. A multi
 * with an error part applies nothing; closeSession deletes the paths it names and whatever
 * ephemerals of the session are left. Stats (versions, cversion, pzxid) are not kept: the digest
 * does not read them. Nor is the data: only its sha256, what the digest reads, so memory grows
 * with the node count, not the tree's bytes (a node's data is hashed when it is set: large data
 * by a hashing thread, beside the read that parses the next txns, see {@link DataHasher}).
 */
import { sha256OffThread } from '../../../core/io/hash-threads';
import { dataSha256, isSystemPath, kindOfOwner, TreeDigest, type Acl, type TreeSummary } from '../tree-digest';
import type { Txn, TxnRecord } from './txn-records';

/** A node in memory. */
export interface MemoryNode {
  /** The sha256 of its data (being computed by a hashing thread, for large data). */
  dataSha256: Buffer | Promise<Buffer>;
  acl: readonly Acl[];
  /** 0 persistent, a session id for an ephemeral, or a container's / TTL's marker (tree-digest.ts kindOfOwner). */
  ephemeralOwner: bigint;
  children: Set<string>;
}

/** EphemeralType.CONTAINER_EPHEMERAL_OWNER, as a signed long. */
const CONTAINER_OWNER = BigInt.asIntN(64, 0x8000000000000000n);
/** EphemeralType.TTL.toEphemeralOwner: 0xFF in the top byte, the ttl in the low 40 bits. */
function ttlOwner(ttl: bigint): bigint {
  return BigInt.asIntN(64, 0xff00000000000000n | BigInt.asUintN(40, ttl));
}

function parentOf(path: string): { parent: string; child: string } {
  const at = path.lastIndexOf('/');
  return { parent: at <= 0 ? '/' : path.slice(0, at), child: path.slice(at + 1) };
}

/** Data at least this large is hashed by a hashing thread (smaller data costs less to hash than to hand over). */
const THREAD_HASH_MIN_BYTES = 64 * 1024;
/** Bytes handed to hashing threads and not hashed yet, at most: past it, data is hashed here (memory stays bounded). */
const THREAD_HASH_MAX_PENDING = 8 * 1024 * 1024;

/**
 * Hashes node data as it is set: large data by a hashing thread (a copy of it, so the reader may
 * reuse its buffer), the rest, and everything while the threads are behind, at once.
 */
class DataHasher {
  private pendingBytes = 0;

  hash(data: Buffer): Buffer | Promise<Buffer> {
    if (data.length < THREAD_HASH_MIN_BYTES || this.pendingBytes + data.length > THREAD_HASH_MAX_PENDING) return dataSha256(data);
    this.pendingBytes += data.length;
    const hashed = sha256OffThread(data).finally(() => {
      this.pendingBytes -= data.length;
    });
    hashed.catch(() => undefined); // a hash replaced before the summary must not fail unobserved; the summary awaits the rest
    return hashed;
  }
}

/** The ZooKeeper tree as replay builds it. */
export class DataTree {
  /** By path; the root is `/`. */
  readonly nodes = new Map<string, MemoryNode>();
  private readonly hasher = new DataHasher();
  /** Ephemeral paths by owning session (DataTree.ephemerals). */
  private readonly ephemerals = new Map<bigint, Set<string>>();

  /**
   * Adds a node read from a snapshot (parents come before children).
   * @returns false when its parent is not in the tree (a damaged snapshot)
   */
  addSnapshotNode(path: string, node: { data: Buffer; acl: readonly Acl[]; ephemeralOwner: bigint }): boolean {
    if (path !== '/') {
      const { parent, child } = parentOf(path);
      const parentNode = this.nodes.get(parent);
      if (!parentNode) return false;
      parentNode.children.add(child);
    }
    this.put(path, { dataSha256: this.hasher.hash(node.data), acl: node.acl, ephemeralOwner: node.ephemeralOwner, children: new Set() });
    return true;
  }

  private put(path: string, node: MemoryNode): void {
    this.nodes.set(path, node);
    if (kindOfOwner(node.ephemeralOwner) === 'ephemeral') {
      let paths = this.ephemerals.get(node.ephemeralOwner);
      if (!paths) this.ephemerals.set(node.ephemeralOwner, (paths = new Set()));
      paths.add(path);
    }
  }

  /** DataTree.createNode; false for NoNode (no parent) or NodeExists. */
  createNode(path: string, data: Buffer, acl: readonly Acl[], ephemeralOwner: bigint): boolean {
    const { parent, child } = parentOf(path);
    const parentNode = this.nodes.get(parent);
    if (!parentNode || parentNode.children.has(child)) return false;
    parentNode.children.add(child);
    this.put(path, { dataSha256: this.hasher.hash(data), acl, ephemeralOwner, children: new Set() });
    return true;
  }

  /** DataTree.deleteNode: takes the name out of its parent, then the node (its children, if any, are left unreachable as ZooKeeper leaves them). */
  deleteNode(path: string): boolean {
    const parentNode = this.nodes.get(parentOf(path).parent);
    if (!parentNode) return false;
    parentNode.children.delete(parentOf(path).child);
    const node = this.nodes.get(path);
    if (!node) return false;
    this.nodes.delete(path);
    this.ephemerals.get(node.ephemeralOwner)?.delete(path);
    return true;
  }

  setData(path: string, data: Buffer): boolean {
    const node = this.nodes.get(path);
    if (node) node.dataSha256 = this.hasher.hash(data);
    return node !== undefined;
  }

  setAcl(path: string, acl: readonly Acl[]): boolean {
    const node = this.nodes.get(path);
    if (node) node.acl = acl;
    return node !== undefined;
  }

  /** DataTree.killSession: the paths the txn names, then the session's ephemerals still left. */
  killSession(session: bigint, paths2Delete: readonly string[] | undefined): void {
    const local = this.ephemerals.get(session);
    this.ephemerals.delete(session);
    for (const path of paths2Delete ?? []) {
      this.deleteNode(path);
      local?.delete(path);
    }
    for (const path of local ?? []) this.deleteNode(path);
  }

  /** Applies one txn (DataTree.processTxn). */
  apply(txn: Txn): void {
    this.applyRecord(txn.header.clientId, txn.record);
  }

  private applyRecord(clientId: bigint, record: TxnRecord): void {
    switch (record.op) {
      case 'create':
      case 'create2':
        this.createNode(record.path, record.data, record.acl, record.ephemeral ? clientId : 0n);
        return;
      case 'createTTL':
        this.createNode(record.path, record.data, record.acl, ttlOwner(record.ttl));
        return;
      case 'createContainer':
        this.createNode(record.path, record.data, record.acl, CONTAINER_OWNER);
        return;
      case 'delete':
      case 'deleteContainer':
        this.deleteNode(record.path);
        return;
      case 'setData':
      case 'reconfig':
        this.setData(record.path, record.data);
        return;
      case 'setACL':
        this.setAcl(record.path, record.acl);
        return;
      case 'closeSession':
        this.killSession(clientId, record.paths2Delete);
        return;
      case 'multi':
        this.applyMulti(clientId, record.txns);
        return;
      case 'createSession':
      case 'error':
      case 'check':
        return;
    }
  }

  /** A multi: nothing when one part failed (an error part); else each part, stopping at a type a multi may not hold. */
  private applyMulti(clientId: bigint, parts: readonly TxnRecord[]): void {
    if (parts.some((part) => part.op === 'error')) return;
    for (const part of parts) {
      if (!MULTI_PARTS.has(part.op)) return;
      this.applyRecord(clientId, part);
    }
  }

  /** The sessions that own ephemeral nodes (a restored server keeps them until they expire). */
  ephemeralSessions(): bigint[] {
    return [...this.ephemerals].filter(([, paths]) => paths.size > 0).map(([session]) => session);
  }

  /**
   * The digest of the tree from `/`, ephemeral nodes and /zookeeper left out (kinds are not in it:
   * tree-digest.ts says why), once every data hash has been computed.
   */
  async summary(): Promise<TreeSummary> {
    const digest = new TreeDigest();
    const stack = ['/'];
    while (stack.length > 0) {
      const path = stack.pop()!;
      const node = this.nodes.get(path);
      if (!node || isSystemPath(path)) continue;
      if (kindOfOwner(node.ephemeralOwner) !== 'ephemeral') digest.add({ path, dataSha256: await node.dataSha256, acl: node.acl });
      for (const child of node.children) stack.push(path === '/' ? `/${child}` : `${path}/${child}`);
    }
    return digest.summary();
  }
}

/** The part types DataTree.processTxn accepts in a multi (OpCode create, createTTL, createContainer, delete, deleteContainer, setData, error, check). */
const MULTI_PARTS = new Set<TxnRecord['op']>(['create', 'createTTL', 'createContainer', 'delete', 'deleteContainer', 'setData', 'error', 'check']);

