/**
 * Where an etcd backup is restored to: one new single-member cluster (`dataDir`, `name`,
 * `clientUrl`, `peerUrl`) on the host the restore steps run on, or one new cluster of several
 * members (`members`), each on that host or on its own (`host`). Both forms share the cluster token, `start`, `stopRunningServer` and the
 * credentials; the driver sees either as a list of members ({@link targetMembers}).
 */
import path from 'node:path';
import { z } from 'zod';
import { absolutePath } from '../../core/config/path-field';
import { memberHostSchema, membersOn, nodesByHost } from '../../core/driver/node-ref';
import type { RestoreContext } from '../../core/driver/types';

/** A member name: it goes into `--initial-cluster=<name>=<peerUrl>,…`, so `=` and `,` would forge members. */
const memberName = z.string().regex(/^[A-Za-z0-9._-]+$/, 'must be letters, digits, ".", "_" or "-"');

/** An `http://` or `https://` URL (etcd client and peer URLs). */
export const httpUrl = z.url({ protocol: /^https?$/, message: 'must be an http:// or https:// URL' });

/** What both forms of the target share. */
const shared = {
  /**
   * Cluster token of the restored cluster. Defaults to one derived from the backup id, so a restored
   * cluster never shares a token (and so never exchanges raft traffic) with the original.
   */
  clusterToken: z.string().min(1).optional(),
  /** Start the restored member(s) after `snapshot restore` (needed for validation and use). */
  start: z.boolean().default(true),
  /**
   * Let the restore stop an etcd member it finds running on a target data dir that it did not
   * start itself (an earlier restore's member still in use, or one started by hand). Without it
   * such a member is never stopped and the restore is refused.
   */
  stopRunningServer: z.boolean().default(false),
  /**
   * Start the restored members with elections in milliseconds (member.ts `fastElections`): for a
   * cluster that only lives to be checked (a drill's scratch member, a test). Off by default: a
   * restored cluster that is to serve runs with etcd's own timings.
   */
  fastElections: z.boolean().default(false),
  /**
   * Credentials for validating the restored cluster when the source had auth enabled (a restored
   * cluster keeps the source's users, roles and auth setting).
   */
  username: z.string().min(1).optional(),
  password: z.string().optional(),
};

const credentialsTogether = {
  check: (t: { username?: string; password?: string }) => (t.username === undefined) === (t.password === undefined),
  message: { message: 'username and password must be given together', path: ['password'] },
};

/** One new single-member cluster. Unknown keys are rejected. */
export const singleMemberTargetSchema = z
  .object({
    /** Data directory of the restored member (absolute, no `..`); must be absent or empty (unless forced). */
    dataDir: absolutePath(),
    /** Member name of the restored member. */
    name: memberName.default('restored'),
    /** Client URL the restored member listens on and advertises, e.g. `http://127.0.0.1:22379`. */
    clientUrl: httpUrl,
    /** Peer URL the restored member listens on and advertises, e.g. `http://127.0.0.1:22380`. */
    peerUrl: httpUrl,
    ...shared,
  })
  .strict()
  .refine(credentialsTogether.check, credentialsTogether.message);

/** One member of a restored cluster. */
export const clusterMemberSchema = z
  .object({
    name: memberName,
    /**
     * Where its restore steps run: the SSM managed instance id of its machine. Members on separate
     * machines are restored there, each at once with the others. Absent: the restore request's host.
     */
    host: memberHostSchema.optional(),
    /** Absolute, no `..`; must be absent or empty (unless forced). */
    dataDir: absolutePath(),
    clientUrl: httpUrl,
    peerUrl: httpUrl,
  })
  .strict();

/** The single-member fields, which a cluster target gives per member instead. */
const PER_MEMBER_FIELDS = ['dataDir', 'name', 'clientUrl', 'peerUrl'] as const;

/** Where something listening on `url` is reached (brackets off an IPv6 host, the protocol's default port). */
export function urlAddress(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname.replace(/^\[|\]$/g, ''), port: Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80)) };
}

/** True when `inner` is `outer` or lies inside it. */
function within(inner: string, outer: string): boolean {
  const relative = path.relative(outer, inner);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/** Each member's name, data dir and addresses are its own: issues on the later member's field, naming the earlier one. */
function checkMembersDistinct(members: Array<z.infer<typeof clusterMemberSchema>>, ctx: z.RefinementCtx): void {
  const names = new Map<string, number>();
  const addresses = new Map<string, string>();
  members.forEach((member, i) => {
    const earlier = names.get(member.name);
    if (earlier !== undefined) ctx.addIssue({ code: 'custom', path: ['members', i, 'name'], message: `duplicate member name '${member.name}' (also members[${earlier}].name)` });
    else names.set(member.name, i);
    members.slice(0, i).forEach((other, j) => {
      if (member.host !== other.host) return; // data dirs on separate machines
      const [a, b] = [path.resolve(member.dataDir), path.resolve(other.dataDir)];
      if (within(a, b) || within(b, a)) {
        ctx.addIssue({ code: 'custom', path: ['members', i, 'dataDir'], message: `'${member.dataDir}' overlaps members[${j}].dataDir '${other.dataDir}': each member needs a data dir of its own` });
      }
    });
    for (const field of ['clientUrl', 'peerUrl'] as const) {
      const { host, port } = urlAddress(member[field]);
      const address = `${host}:${port}`;
      const taken = addresses.get(address);
      if (taken) ctx.addIssue({ code: 'custom', path: ['members', i, field], message: `address ${address} is also ${taken}: every client and peer URL needs a port of its own` });
      else addresses.set(address, `members[${i}].${field}`);
    }
  });
}

/** A new cluster of `members`. Unknown keys are rejected. */
export const clusterTargetSchema = z
  .object({
    /** The restored cluster's members: each is restored from the same snapshot and started with the others. */
    members: z.array(clusterMemberSchema).min(1, 'at least one member is required'),
    ...shared,
  })
  .strict()
  .superRefine((t, ctx) => checkMembersDistinct(t.members, ctx))
  .refine((t) => t.start || nodesByHost(t.members).length === 1, {
    message: 'members on several hosts must be started by the restore (start: true): the validation, on one host, cannot start the others', path: ['start'],
  })
  .refine(credentialsTogether.check, credentialsTogether.message);

export type SingleMemberTarget = z.infer<typeof singleMemberTargetSchema>;
export type ClusterTarget = z.infer<typeof clusterTargetSchema>;
/** Parsed restore target: one member, or a cluster (`members`). */
export type EtcdRestoreTarget = SingleMemberTarget | ClusterTarget;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Where and how to restore an etcd backup: the single-member form, or the cluster form when the
 * input has `members` (then the single-member fields are refused, naming each).
 */
export const etcdRestoreTargetSchema = z.unknown().transform(function parseEtcdTarget(input, ctx): EtcdRestoreTarget {
  const cluster = isRecord(input) && 'members' in input;
  let candidate = input;
  if (cluster) {
    const mixed = PER_MEMBER_FIELDS.filter((field) => field in input);
    for (const field of mixed) {
      ctx.addIssue({ code: 'custom', path: [field], message: 'not allowed next to members: give each member its own name, dataDir, clientUrl and peerUrl', input });
    }
    candidate = Object.fromEntries(Object.entries(input).filter(([key]) => !mixed.includes(key as (typeof PER_MEMBER_FIELDS)[number])));
  }
  const parsed = (cluster ? clusterTargetSchema : singleMemberTargetSchema).safeParse(candidate);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, input: undefined } as Parameters<typeof ctx.addIssue>[0]);
    return z.NEVER;
  }
  return parsed.data;
});

/** True for the cluster form. */
export function isClusterTarget(target: EtcdRestoreTarget): target is ClusterTarget {
  return 'members' in target;
}

/** One member a restore writes and starts. */
export interface TargetMember {
  name: string;
  /** The SSM managed instance id its restore steps run on; absent: the request's host. */
  host?: string;
  /** Absolute. */
  dataDir: string;
  clientUrl: string;
  peerUrl: string;
}

/** The members the target describes, data dirs resolved: one for the single-member form. */
export function targetMembers(target: EtcdRestoreTarget): TargetMember[] {
  const members = isClusterTarget(target) ? target.members : [target];
  return members.map((m) => ({
    name: m.name, ...('host' in m && m.host !== undefined ? { host: m.host } : {}), dataDir: path.resolve(m.dataDir), clientUrl: m.clientUrl, peerUrl: m.peerUrl,
  }));
}

/** The members whose restore steps run on the step's node (all of them for a target on one host). */
export function membersHere(ctx: RestoreContext<EtcdRestoreTarget>): TargetMember[] {
  return membersOn(targetMembers(ctx.target), ctx.node);
}

/** `name=peerUrl,...`: the `--initial-cluster` every member is restored and started with. */
export function initialCluster(members: readonly TargetMember[]): string {
  return members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
}

/**
 * The cluster token a restore uses: the target's own, or `restore-<backupId>`. Deterministic, so a
 * retried restore step produces the same cluster; always different from the source cluster's token
 * because it embeds the backup id.
 */
export function clusterTokenFor(target: { clusterToken?: string }, backupId: string): string {
  if (target.clusterToken) return target.clusterToken;
  return `restore-${backupId.replace(/[^A-Za-z0-9._-]/g, '-')}`;
}
