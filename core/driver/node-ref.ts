/**
 * Nodes, as the state between steps carries them: one place a backup is taken from, or one host a
 * restore works on ({@link NodeRef}). A node's name goes into spool paths and store keys.
 */
import { z } from 'zod';

/** The one node of an engine (or a target) that lists none: on the request's host. */
export const DEFAULT_NODE = 'default';

export const nodeRefSchema = z.object({ name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/), host: z.string().optional() });

/**
 * The nodes of a target whose members each name the host their steps run on (`host`, an SSM
 * managed instance id): one node per host, named after it, in the members' order; members without
 * a host make the node `default`, on the request's host.
 */
export function nodesByHost(members: ReadonlyArray<{ host?: string }>): Array<{ name: string; host?: string }> {
  const nodes = new Map<string, { name: string; host?: string }>();
  for (const { host } of members) {
    const name = host ?? DEFAULT_NODE;
    if (!nodes.has(name)) nodes.set(name, host === undefined ? { name } : { name, host });
  }
  return [...nodes.values()];
}

/** The members {@link nodesByHost} put on `node`. */
export function membersOn<M extends { host?: string }>(members: readonly M[], node: { name: string }): M[] {
  return members.filter((m) => (m.host ?? DEFAULT_NODE) === node.name);
}
