/**
 * A pipelined pre-order traversal of a ZooKeeper tree: up to `window` node reads in flight, each
 * node handed out only after its read finished, so a parent always comes before its children
 * (a child's path is known only once its parent's children were listed). Memory holds the paths
 * not yet read (a stack: depth-first, so it grows with depth times fan-out, not with the tree) and
 * at most `window` read results; never the whole tree.
 */

/** What reading one node found: the item to hand out and the names of its children to visit. */
export interface NodeRead<T> {
  item: T;
  children: readonly string[];
}

/** Reads one node; `undefined` skips it and its subtree (deleted meanwhile, ephemeral...). */
export type ReadNode<T> = (path: string) => Promise<NodeRead<T> | undefined>;

/** The path of `name` under `parent`. */
export function childPath(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}

type Outcome<T> = { path: string; read?: NodeRead<T>; error?: unknown };

/**
 * Reads `root` and every node below it, yielding each read item parents first.
 * @throws the first error a read throws, once the reads already in flight have finished
 */
export async function* preorder<T>(root: string, read: ReadNode<T>, window: number): AsyncGenerator<T> {
  const pending: string[] = [root];
  const ready: Outcome<T>[] = [];
  let active = 0;
  let wake: (() => void) | undefined;
  const start = (path: string) => {
    active += 1;
    read(path).then(
      (result) => ready.push({ path, read: result }),
      (error: unknown) => ready.push({ path, error }),
    ).finally(() => {
      active -= 1;
      const w = wake;
      wake = undefined;
      w?.();
    });
  };
  const nextSettled = () => new Promise<void>((resolve) => { wake = resolve; });
  try {
    while (pending.length > 0 || active > 0 || ready.length > 0) {
      while (pending.length > 0 && active + ready.length < window) start(pending.pop() as string);
      if (ready.length === 0) {
        await nextSettled();
        continue;
      }
      const outcome = ready.shift() as Outcome<T>;
      if (outcome.error !== undefined) throw outcome.error;
      if (!outcome.read) continue;
      const { children } = outcome.read;
      // Reversed, so the stack pops them in the order listed (sorted by the reader).
      for (let i = children.length - 1; i >= 0; i -= 1) pending.push(childPath(outcome.path, children[i]));
      yield outcome.read.item;
    }
  } finally {
    // On a failure, or a consumer that stops early, the reads in flight still finish before the
    // caller may close the client: the native client crashes on a reply to a closed session.
    while (active > 0) await nextSettled();
  }
}
