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
 * An EC2 instance id (`i-` and 8 or 17 hex digits) or an SSM managed instance id of a hybrid host
 * (`mi-` and 17): what SSM Run Command targets. No looser than SSM's own pattern for
 * `InstanceIds`, `(^i-(\w{8}|\w{17})$)|(^mi-\w{17}$)`, so an id accepted here is never refused by
 * SSM for its form (an `i-` with 12 digits would pass a request's first step and fail at its first
 * host step); EC2 and SSM write the digits in lowercase hex.
 */
export const MANAGED_INSTANCE_ID = /^(i-([0-9a-f]{8}|[0-9a-f]{17})|mi-[0-9a-f]{17})$/;

/** How {@link MANAGED_INSTANCE_ID} reads, for messages. */
export const MANAGED_INSTANCE_ID_FORM = 'i- and 8 or 17 hex digits, or mi- and 17';

/**
 * A request's `host`: the SSM managed instance id of the machine its host-local steps run on —
 * checked at the request's first step, so a console request naming anything else (an address, a
 * path) is refused before any step ran rather than by SSM at its first host step.
 */
export const requestHostSchema = z.string().regex(MANAGED_INSTANCE_ID, {
  error: (issue) => `'${String(issue.input).slice(0, 64)}' is not an EC2 or SSM managed instance id (${MANAGED_INSTANCE_ID_FORM}): the host the host-local steps run on, not its name or address`,
});

/**
 * A target member's `host`: the SSM managed instance id of the machine its restore steps run on
 * (it names the member's node). Not a network address: that is the member's own field.
 */
export const memberHostSchema = z.string().regex(
  MANAGED_INSTANCE_ID,
  `must be an EC2 or SSM managed instance id (${MANAGED_INSTANCE_ID_FORM}): where the member's restore steps run, not its network address`,
);

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
