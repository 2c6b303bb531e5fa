/**
 * Restores a tree artifact into a running server or ensemble, in three streamed passes over the
 * artifact (memory flat in the tree's size):
 *
 * 1. plan: the whole artifact is read and its trailer checked before anything is created, every
 *    TTL must fit the client's int32 argument, and the sequence bumps of step 2 must be short
 *    enough (sequence-bump.ts) — a forced restore plans before it clears the target; then the
 *    target must be empty (restore-target.ts);
 * 2. create: every node in artifact order (parents first) with its data and kind (container, TTL
 *    with its ttl), `window` creates in flight: ZooKeeper answers a session's requests in order, so
 *    pipelining keeps parents before children. Sequential nodes are created under their exact names;
 *    then each parent's cversion is raised past the highest sequence number of its restored
 *    children (sequence-bump.ts). The root's data is set if it differs;
 * 3. ACLs: every ACL other than world:anyone:ALL is set once all nodes exist. This client creates
 *    every node with an open ACL, and a create checks CREATE on the parent only, so an ACL that
 *    denies the restoring client (no CREATE, no READ) cannot stop the restore of the node's subtree.
 *
 * Then the restored tree is walked and its summary compared with the artifact's.
 */
import { PermanentError } from '../../../core/errors';
import { zooKeeperConstants, type ZooKeeperClient } from '../client';
import { zooKeeperCallFailed } from '../errors';
import type { Acl, NodeKind } from '../tree-digest';
import { treeIsEmpty } from './restore-target';
import { ParallelCreates } from './parallel-creates';
import { RequestWindow } from './request-window';
import { bumpSequences, SequenceHighWater } from './sequence-bump';
import { readTreeArtifact, recordsSequences, type TreeArtifactSummary } from './tree-artifact';
import { treeSummary, type WalkResult } from './tree-walk';

export interface TreeRestoreOptions {
  /** Requests in flight per session (default 256); 1 = one awaited create per node. */
  window?: number;
  /** More sessions to the same target: creates spread over them, parents still first (parallel-creates.ts). */
  moreSessions?: readonly ZooKeeperClient[];
  /** Walk the restored tree and compare it with the artifact (default true). */
  check?: boolean;
  /** Pass 1 done already ({@link planTreeRestore}), before the target was cleared. */
  plan?: TreeRestorePlan;
}

export interface TreeRestoreResult {
  /** The artifact's trailer. */
  expected: TreeArtifactSummary;
  /** The restored tree's walk (when checked): its count and digest equal the artifact's. */
  restored?: WalkResult;
  created: number;
  aclsSet: number;
  sequenceBumpPairs: number;
  /** Time of pass 2's creates alone, for throughput. */
  createMs: number;
}

const DEFAULT_WINDOW = 256;
/** The client passes a TTL as an int32 (node-zk.cpp ACreateTtl). */
const MAX_CLIENT_TTL_MS = 2 ** 31 - 1;
const OPEN_ACL: Acl = { perms: 31, scheme: 'world', id: 'anyone' };

function isOpenAcl(acl: readonly Acl[]): boolean {
  return acl.length === 1 && acl[0].perms === OPEN_ACL.perms && acl[0].scheme === OPEN_ACL.scheme && acl[0].id === OPEN_ACL.id;
}

function sameAcl(a: readonly Acl[], b: readonly Acl[]): boolean {
  return a.length === b.length && a.every((entry, i) => entry.perms === b[i].perms && entry.scheme === b[i].scheme && entry.id === b[i].id);
}

function createNode(client: ZooKeeperClient, path: string, data: Buffer, kind: NodeKind): Promise<string> {
  const flags = zooKeeperConstants();
  const call = kind.type === 'container'
    ? client.create(path, data, flags.ZOO_CONTAINER)
    : kind.type === 'ttl'
      ? client.create(path, data, flags.ZOO_PERSISTENT_WITH_TTL, kind.ttlMs)
      : client.create(path, data, flags.ZOO_PERSISTENT);
  return call.catch((error: unknown) => { throw zooKeeperCallFailed(error, `creating ${path}`); });
}

function setAcl(client: ZooKeeperClient, path: string, acl: readonly Acl[]): Promise<unknown> {
  return client.set_acl(path, -1, acl.map((entry) => ({ perms: entry.perms, scheme: entry.scheme, auth: entry.id })))
    .catch((error: unknown) => { throw zooKeeperCallFailed(error, `setting the ACL of ${path}`); });
}

/** What pass 1 found an artifact to be: its trailer, and the sequence bumps its restore will need. */
export interface TreeRestorePlan {
  file: string;
  expected: TreeArtifactSummary;
  highWater: SequenceHighWater;
}

/**
 * Pass 1, touching no target: the artifact is whole, every kind creatable, the sequence bumps
 * short enough. A forced restore runs it before it clears the target.
 * @throws PermanentError `ZK_CORRUPT_TREE`, `ZK_TTL_UNSUPPORTED`, `ZK_SEQUENCE_BUMP_TOO_LONG`
 */
export async function planTreeRestore(file: string): Promise<TreeRestorePlan> {
  const highWater = new SequenceHighWater();
  const byName = !(await recordsSequences(file));
  const nodes = readTreeArtifact(file);
  let expected: TreeArtifactSummary;
  for (;;) {
    const next = await nodes.next();
    if (next.done) {
      expected = next.value;
      break;
    }
    const { kind, path, sequenceHigh } = next.value;
    if (path !== '/') highWater.noteChild(path, byName);
    if (sequenceHigh !== undefined) highWater.noteParent(path, sequenceHigh);
    if (kind.type === 'ttl' && (kind.ttlMs < 1 || kind.ttlMs > MAX_CLIENT_TTL_MS)) {
      throw new PermanentError(`${path} has a TTL of ${kind.ttlMs} ms, which this ZooKeeper client cannot create (1..${MAX_CLIENT_TTL_MS})`, { code: 'ZK_TTL_UNSUPPORTED', engine: 'zookeeper' });
    }
  }
  highWater.assertBumpable();
  return { file, expected, highWater };
}

/**
 * Restores `file` (tree-artifact.ts) into the tree `client` sees.
 * @throws PermanentError `ZK_CORRUPT_TREE` (nothing created), `ZK_TARGET_NOT_EMPTY` (nothing
 *   created), `ZK_TTL_UNSUPPORTED` (nothing created), `ZK_RESTORE_MISMATCH` when the restored tree's
 *   summary is not the artifact's; the classified client error of a failed call otherwise (the
 *   target then holds part of the tree: clear it before trying again)
 */
export async function restoreTree(client: ZooKeeperClient, file: string, options: TreeRestoreOptions = {}): Promise<TreeRestoreResult> {
  const size = options.window ?? DEFAULT_WINDOW;
  const { expected, highWater } = options.plan?.file === file ? options.plan : await planTreeRestore(file);
  if (!(await treeIsEmpty(client))) {
    throw new PermanentError('the restore target holds nodes besides / and /zookeeper: clear it first (a forced restore)', { code: 'ZK_TARGET_NOT_EMPTY', engine: 'zookeeper' });
  }

  const window = new RequestWindow(size);
  const creates = new ParallelCreates([client, ...(options.moreSessions ?? [])], size);
  let created = 0;
  const startedAt = performance.now();
  for await (const node of readTreeArtifact(file)) {
    if (node.path === '/') {
      const [, rootData] = await client.get('/', false) as [unknown, Buffer | null];
      if (!node.data.equals(rootData ?? Buffer.alloc(0))) await client.set('/', node.data, -1);
      continue;
    }
    await creates.submit(node.path, (session) => createNode(session, node.path, node.data, node.kind));
    created += 1;
  }
  await creates.drain();
  const createMs = performance.now() - startedAt;
  const sequenceBumpPairs = await bumpSequences(client, highWater, window);

  let aclsSet = 0;
  for await (const node of readTreeArtifact(file)) {
    if (node.path === '/') {
      const [rootAcl] = await client.get_acl('/') as unknown as [{ perms: number; scheme: string; auth: string }[]];
      if (sameAcl(node.acl, rootAcl.map((e) => ({ perms: e.perms, scheme: e.scheme, id: e.auth })))) continue;
    } else if (isOpenAcl(node.acl)) {
      continue;
    }
    await window.submit(() => setAcl(client, node.path, node.acl));
    aclsSet += 1;
  }
  await window.drain();

  const result: TreeRestoreResult = { expected, created, aclsSet, sequenceBumpPairs, createMs };
  if (options.check === false) return result;
  result.restored = await treeSummary(client);
  if (result.restored.nodeCount !== expected.nodeCount || result.restored.digest !== expected.digest) {
    throw new PermanentError(
      `the restored tree (${result.restored.nodeCount} nodes, digest ${result.restored.digest}) is not the backup's (${expected.nodeCount} nodes, digest ${expected.digest})`,
      { code: 'ZK_RESTORE_MISMATCH', engine: 'zookeeper' },
    );
  }
  return result;
}
