/**
 * The restore target's tree: is it empty (only `/` and `/zookeeper`), and emptying it for a forced
 * restore (the driver calls {@link clearTree} only once the backup is downloaded and verified).
 */
import type { ZooKeeperClient } from '../client';
import { isNoNode, zooKeeperCallFailed } from '../errors';
import { isSystemPath } from '../tree-digest';
import { childPath, preorder } from './preorder';
import { RequestWindow } from './request-window';

const DEFAULT_WINDOW = 256;
const OPEN_ACL = { perms: 31, scheme: 'world', auth: 'anyone' };

/** The names of the root's children that are not the server's own (`zookeeper`). */
async function userRootChildren(client: ZooKeeperClient): Promise<string[]> {
  try {
    return (await client.get_children('/', false)).filter((name) => !isSystemPath(`/${name}`));
  } catch (error) {
    throw zooKeeperCallFailed(error, 'listing the children of /');
  }
}

/** True when the tree holds nothing but `/` and `/zookeeper` (the root's data and ACL are not looked at). */
export async function treeIsEmpty(client: ZooKeeperClient): Promise<boolean> {
  return (await userRootChildren(client)).length === 0;
}

/**
 * Deletes every node but `/` and `/zookeeper` and below, deepest first, `window` deletes in flight.
 * Holds the paths of the tree in memory (no data): the deletes must go children first, and a
 * session's requests are answered in order, so the reverse of a pre-order listing is that order.
 * Every node with children gets the open ACL first (a child's delete needs DELETE on its parent), so
 * the clearing client needs ADMIN on those; the root keeps the open ACL afterwards (a restore sets
 * the backup's). Every ACL is opened before anything is deleted: a parent the client may not open
 * fails the clear with nothing deleted (its error says which ACLs were opened). A node that
 * disappears meanwhile is fine; one created meanwhile fails its parent's delete (NOTEMPTY).
 * @returns the number of nodes deleted
 */
export async function clearTree(client: ZooKeeperClient, options: { window?: number } = {}): Promise<number> {
  const window = options.window ?? DEFAULT_WINDOW;
  const paths: string[] = [];
  const parents: string[] = [];
  const listChildren = async (path: string) => {
    try {
      const names = await client.get_children(path, false);
      const children = path === '/' ? names.filter((name) => !isSystemPath(childPath('/', name))) : names;
      if (children.length > 0) parents.push(path);
      return { item: path, children };
    } catch (error) {
      if (isNoNode(error)) return undefined;
      throw zooKeeperCallFailed(error, `listing the children of ${path}`);
    }
  };
  for await (const path of preorder('/', listChildren, window)) if (path !== '/') paths.push(path);
  const deletes = new RequestWindow(window);
  // Deleting a child needs DELETE on its parent: open every parent's ACL first (needs ADMIN on it),
  // all of them before the first delete, so a parent the client may not open deletes nothing.
  const opened: string[] = [];
  try {
    for (const parent of parents) {
      await deletes.submit(() => client.set_acl(parent, -1, [OPEN_ACL]).then(() => { opened.push(parent); }, (error: unknown) => {
        if (!isNoNode(error)) throw zooKeeperCallFailed(error, `opening the ACL of ${parent} to delete its children`);
      }));
    }
    await deletes.drain();
  } catch (error) {
    const detail = opened.length > 0
      ? `; nothing was deleted, but the ACLs of ${opened.length} nodes (at least) were opened to world:anyone ALL first (${opened.slice(0, 5).join(', ')}${opened.length > 5 ? ', …' : ''})`
      : '; nothing was deleted (an ACL may have been opened to world:anyone ALL if the server applied a request it did not answer)';
    throw Object.assign(error as Error, { message: `${(error as Error).message}${detail}` });
  }
  for (let i = paths.length - 1; i >= 0; i -= 1) {
    const path = paths[i];
    await deletes.submit(() => client.delete_(path, -1).catch((error: unknown) => {
      if (!isNoNode(error)) throw zooKeeperCallFailed(error, `deleting ${path}`);
    }));
  }
  await deletes.drain();
  return paths.length;
}
