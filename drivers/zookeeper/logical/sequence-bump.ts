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
  // sequence number ZooKeeper gave (a phone number, a timestamp) and no bump could pass them.
  return suffix !== undefined && suffix <= MAX_SEQUENCE ? suffix : undefined;
}

/** The highest sequence number ZooKeeper gives (cversion is an int32). */
const MAX_SEQUENCE = 2 ** 31 - 1;
/** Most create/delete pairs one restore sends: past it the restore fails naming the parent. */
export const MAX_BUMP_PAIRS = 10_000_000;

/** The highest restored sequence suffix of each parent that has sequential-looking children. */
export class SequenceHighWater {
  private readonly highest = new Map<string, number>();

  note(path: string): void {
    const slash = path.lastIndexOf('/');
    const suffix = sequenceSuffix(path.slice(slash + 1));
    if (suffix === undefined) return;
    const parent = slash === 0 ? '/' : path.slice(0, slash);
    if ((this.highest.get(parent) ?? -1) < suffix) this.highest.set(parent, suffix);
  }

  entries(): IterableIterator<[string, number]> {
    return this.highest.entries();
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
