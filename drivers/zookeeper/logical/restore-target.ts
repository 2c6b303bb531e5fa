/**
 * The restore target's tree: is it empty (only `/` and `/zookeeper`), and emptying it for a forced
 * restore (the driver calls {@link clearTree} only once the backup is downloaded and verified).
 */
import type { ZooKeeperClient } from '../client';
import { isNoNode, ZK_RC, zooKeeperCallFailed, zooKeeperReturnCode } from '../errors';
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
 * Asks the server whether this client may set `parent`'s ACL, without setting it: a `setACL` at a
 * version no node has (-2) is checked for ADMIN first, then refused for its version
 * (PrepRequestProcessor: `checkACL` before `checkAndIncVersion`). A server that took it anyway
 * opened the ACL (`opened` says so).
 */
async function mayOpenAcl(client: ZooKeeperClient, parent: string, opened: string[]): Promise<void> {
  try {
    await client.set_acl(parent, -2, [OPEN_ACL]);
    opened.push(parent);
  } catch (error) {
    const code = zooKeeperReturnCode(error);
    if (code === ZK_RC.BADVERSION || code === ZK_RC.NONODE) return;
    const failed = zooKeeperCallFailed(error, `checking that the ACL of ${parent} may be opened to delete its children`) as Error;
    failed.message += opened.length > 0
      ? ` (this server took a version no node has: the ACLs of ${opened.length} nodes were opened to world:anyone ALL, ${opened.slice(0, 5).join(', ')}${opened.length > 5 ? ', …' : ''})`
      : '; nothing was changed';
    throw failed;
  }
}

/**
 * Deletes every node but `/` and `/zookeeper` and below, deepest first, `window` deletes in flight.
 * Holds the paths of the tree in memory (no data): the deletes must go children first, and a
 * session's requests are answered in order, so the reverse of a pre-order listing is that order.
 * Every node with children gets the open ACL first (a child's delete needs DELETE on its parent), so
 * the clearing client needs ADMIN on those; the root keeps the open ACL afterwards (a restore sets
 * the backup's). Before any ACL is opened, the server is asked whether each may be (a parent the
 * client may not open fails the clear with nothing changed), and `beforeChange` is called; then
 * every ACL is opened before anything is deleted. A node that disappears meanwhile is fine; one
 * created meanwhile fails its parent's delete (NOTEMPTY).
 * @returns the number of nodes deleted
 */
export async function clearTree(client: ZooKeeperClient, options: { window?: number; beforeChange?: () => Promise<void> } = {}): Promise<number> {
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
  // all of them before the first delete, so a parent the client may not open deletes nothing; and
  // ask first whether each may be opened, so that such a parent leaves every ACL as it was.
  const opened: string[] = [];
  for (const parent of parents) await deletes.submit(() => mayOpenAcl(client, parent, opened));
  await deletes.drain();
  await options.beforeChange?.();
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
