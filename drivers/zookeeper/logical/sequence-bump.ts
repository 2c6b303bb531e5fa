/**
 * After a restore, a sequential create must not reuse a restored name. ZooKeeper names a sequential
 * child after its parent's cversion (PrepRequestProcessor: `%010d` of `parent.cversion`), and
 * cversion counts the child creates and deletes the parent has seen; a restored parent has seen one
 * create per restored child, fewer than the source's parent had. So the restore raises each such
 * parent's cversion past its highest restored suffix by creating and deleting a scratch child
 * (a create+delete pair), pipelined.
 */
import { PermanentError } from '../../../core/errors';
import type { ZooKeeperClient } from '../client';
import { zooKeeperCallFailed } from '../errors';
import { childPath } from './preorder';
import type { RequestWindow } from './request-window';

/** The scratch child's name; a restored child of that name makes the bump fail (NODEEXISTS), never silently. */
export const SEQUENCE_BUMP_CHILD = 'dbbackup-sequence-bump';

/** The sequence number a name ends with (ten digits, as ZooKeeper writes it), or undefined. */
export function sequenceSuffix(name: string): number | undefined {
  const match = /(\d{10})$/.exec(name);
  const suffix = match ? Number(match[1]) : undefined;
  // ZooKeeper's counter is an int32 (the parent's cversion): ten digits above it are not a
  // sequence number ZooKeeper gave and no bump could pass them.
  return suffix !== undefined && suffix <= MAX_SEQUENCE ? suffix : undefined;
}

/**
 * The highest sequence number among `children` that ZooKeeper can have given: it names a
 * sequential child after its parent's cversion at the create, and cversion only grows, so a
 * suffix at or above the parent's cversion as listed with them (`cversion`) is only a name (a
 * Unix timestamp, say). Undefined when none is.
 */
export function highestSequence(children: readonly string[], cversion: number): number | undefined {
  let highest: number | undefined;
  for (const name of children) {
    const suffix = sequenceSuffix(name);
    if (suffix !== undefined && suffix < cversion && (highest === undefined || suffix > highest)) highest = suffix;
  }
  return highest;
}

/** The highest sequence number ZooKeeper gives (cversion is an int32). */
const MAX_SEQUENCE = 2 ** 31 - 1;
/** Most create/delete pairs one restore sends: past it the restore is refused before the target is touched. */
export const MAX_BUMP_PAIRS = 10_000_000;

/**
 * The parents whose restored children hold sequence numbers, each with the highest and the number
 * of children restored under it (each create raises the restored parent's cversion by one): read
 * from the tree before anything is created, so a restore whose bumps would be too long is refused
 * first.
 */
export class SequenceHighWater {
  private readonly parents = new Map<string, { highest: number; children: number }>();
  /** Whether a name was read as a sequence number (an artifact that recorded none). */
  private byName = false;

  /** A parent whose children's highest sequence number the backup recorded (tree-walk.ts). */
  noteParent(parent: string, highest: number): void {
    this.parents.set(parent, { highest, children: 0 });
  }

  /** A restored node: counted under its parent; with `byName` (an artifact that recorded no sequence numbers), its name read as one. */
  noteChild(path: string, byName: boolean): void {
    const slash = path.lastIndexOf('/');
    const parent = slash === 0 ? '/' : path.slice(0, slash);
    const suffix = byName ? sequenceSuffix(path.slice(slash + 1)) : undefined;
    const entry = this.parents.get(parent) ?? (suffix === undefined ? undefined : { highest: -1, children: 0 });
    if (!entry) return;
    if (suffix !== undefined) this.byName = true;
    entry.children += 1;
    if (suffix !== undefined && suffix > entry.highest) entry.highest = suffix;
    this.parents.set(parent, entry);
  }

  /** Each parent and its highest sequence number. */
  *entries(): IterableIterator<[string, number]> {
    for (const [parent, { highest }] of this.parents) yield [parent, highest];
  }

  /**
   * Refuses a tree whose bumps would take more than {@link MAX_BUMP_PAIRS} create/delete pairs
   * (at most, from an empty target: the highest number, plus one, less the children created).
   * @throws PermanentError `ZK_SEQUENCE_BUMP_TOO_LONG` naming the parent that needs the most
   */
  assertBumpable(): void {
    let total = 0;
    let worst: [string, number, number] | undefined;
    for (const [parent, { highest, children }] of this.parents) {
      const pairs = Math.max(0, highest + 1 - children);
      total += pairs;
      if (!worst || pairs > worst[2]) worst = [parent, highest, pairs];
    }
    if (total <= MAX_BUMP_PAIRS || !worst) return;
    throw new PermanentError(
      `restoring this tree would take ${total} create/delete pairs to raise its parents' next sequence numbers past those of their restored children (${worst[0]}: past ${worst[1]}, ${worst[2]} pairs), beyond the ${MAX_BUMP_PAIRS} a restore sends; nothing was written to the target${this.byName
        ? ' (this backup, taken by an older version, does not record which children ZooKeeper numbered, so every name ending in ten digits is read as a number: a new backup records them, and names such as timestamps then need no bump)'
        : ''}`,
      { code: 'ZK_SEQUENCE_BUMP_TOO_LONG', engine: 'zookeeper' },
    );
  }
}

async function cversionOf(client: ZooKeeperClient, parent: string): Promise<number> {
  try {
    return (await client.exists(parent, false)).cversion;
  } catch (error) {
    throw zooKeeperCallFailed(error, `reading the stat of ${parent}`);
  }
}

/**
 * Raises every noted parent's cversion past its highest suffix.
 * @returns the create+delete pairs sent
 */
export async function bumpSequences(client: ZooKeeperClient, highWater: SequenceHighWater, window: RequestWindow): Promise<number> {
  let pairs = 0;
  for (const [parent, highest] of highWater.entries()) {
    const scratch = childPath(parent, SEQUENCE_BUMP_CHILD);
    // A pair raises cversion by 1 or 2 (whether a delete counts differs across versions): send
    // enough for 1, then read cversion again until it is past the highest suffix.
    for (let needed = highest + 1 - (await cversionOf(client, parent)); needed > 0; needed = highest + 1 - (await cversionOf(client, parent))) {
      if (pairs + needed > MAX_BUMP_PAIRS) {
        throw new PermanentError(
          `raising ${parent}'s next sequence number past ${highest} takes ${needed} more create/delete pairs, beyond the ${MAX_BUMP_PAIRS} a restore sends; the restored children keep their names, but a new sequential child of ${parent} could collide with one`,
          { code: 'ZK_SEQUENCE_BUMP_TOO_LONG', engine: 'zookeeper' },
        );
      }
      for (let i = 0; i < needed; i += 1) {
        await window.submit(() => client.create(scratch, Buffer.alloc(0), 0).catch((error: unknown) => { throw zooKeeperCallFailed(error, `creating ${scratch}`); }));
        await window.submit(() => client.delete_(scratch, -1).catch((error: unknown) => { throw zooKeeperCallFailed(error, `deleting ${scratch}`); }));
        pairs += 1;
      }
      await window.drain();
    }
  }
  await window.drain();
  return pairs;
}
