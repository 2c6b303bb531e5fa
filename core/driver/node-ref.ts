/**
 * Nodes, as the state between steps carries them: one place a backup is taken from, or one host a
 * restore works on ({@link NodeRef}). A node's name goes into spool paths and store keys.
 */
import { z } from 'zod';

/** The one node of an engine (or a target) that lists none: on the request's host. */
export const DEFAULT_NODE = 'default';

const NODE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export const nodeRefSchema = z.object({ name: z.string().regex(NODE_NAME), host: z.string().optional() });

/**
 * A target member's `host`: the SSM managed instance id its restore steps run on (it names the
 * member's node, so it is a node name, and not `default`).
 */
export const memberHostSchema = z.string().regex(NODE_NAME, 'must be an SSM managed instance id, e.g. i-0123456789abcdef0')
  .refine((host) => host !== DEFAULT_NODE, `"${DEFAULT_NODE}" names the request's host: leave host out instead`);

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
