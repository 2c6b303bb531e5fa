/**
 * Configuration schemas of the ZooKeeper driver: how to reach an ensemble (an "instance") and
 * where to restore a backup to. Two modes, chosen per instance:
 *
 * - `host-local` (the default, the consistent one): the newest snapshot and the transaction logs
 *   after it, copied from the data directories of the member with the highest zxid, on its host.
 * - `logical`: a walk of the tree through the client, for when no host access exists.
 *
 * Secret references (`{ "$secret": "ssm:/x" }`) are resolved before the driver sees a config.
 */
import { z } from 'zod';
import { absolutePath } from '../../core/config/path-field';
import { memberHostSchema } from '../../core/driver/node-ref';
import { MAX_JUTE_LENGTH } from './files/jute-reader';
import { machineOf } from '../../core/host/machine-name';

/** `host:port` of a member's client port. */
const address = z.string().regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'must be host:port, e.g. 10.0.0.5:2181');
/** A host name or IPv4 address: it goes into zoo.cfg, where anything else could add a line. */
const hostName = z.string().regex(/^[A-Za-z0-9.-]+$/, 'must be a host name or an IPv4 address');

/** Credentials the client adds to its session (`addAuth`), e.g. `{ scheme: 'digest', credential: 'user:password' }`. */
const authEntry = z.object({
  scheme: z.string().min(1),
  /** Normally a `$secret` reference in the stored config. */
  credential: z.string().min(1),
}).strict();

/** An http(s) URL without credentials, query or fragment; a trailing `/` is dropped. */
const adminUrl = z.string().url('must be a URL, e.g. http://10.0.0.5:8080').superRefine((value, ctx) => {
  if (!URL.canParse(value)) return; // .url() says so
  const url = new URL(value);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') ctx.addIssue({ code: 'custom', message: 'must be http or https' });
  if (url.username || url.password) ctx.addIssue({ code: 'custom', message: 'must not hold credentials: put a digest entry in auth' });
  if (url.search || url.hash) ctx.addIssue({ code: 'custom', message: 'must not have a query or fragment' });
}).transform((value) => value.replace(/\/+$/, ''));

/** One member of the ensemble being backed up. */
const sourceMember = z.object({
  /** Its client address, e.g. `10.0.0.5:2181`. */
  address,
  /** Where host-local steps run for it: its SSM managed instance id. Absent: where the step runs. */
  host: z.string().min(1).optional(),
  /**
   * Its data directories, when its `conf` four-letter word is not allowed (normally read from it).
   * `dataLogDir` defaults to `dataDir`.
   */
  dataDir: absolutePath().optional(),
  dataLogDir: absolutePath().optional(),
  /**
   * Its AdminServer's base URL, e.g. `http://10.0.0.5:8080` (`admin.serverPort`). When set, a
   * host-local backup asks it for a fresh snapshot (ZooKeeper 3.9's `snapshot` command, which needs a
   * `digest` entry in `auth`) and falls back to the newest snapshot file when the server has no such
   * command (3.8 and older), has it disabled, or does not answer.
   */
  adminUrl: adminUrl.optional(),
}).strict();

/** Connection config of one ZooKeeper ensemble. Unknown keys are rejected. */
export const zookeeperConfigSchema = z.object({
  mode: z.enum(['host-local', 'logical']).default('host-local'),
  /** Every member of the ensemble (one for a standalone server). */
  members: z.array(sourceMember).min(1, 'at least one member is required').max(9, 'at most 9 members'),
  /** Credentials for the tree walk (logical) and the digests (both modes). */
  auth: z.array(authEntry).optional(),
  /** Session timeout of the client (ms, default 30 000). */
  sessionTimeoutMs: z.number().int().min(4_000).max(120_000).optional(),
}).strict().refine((c) => new Set(c.members.map((m) => machineAddress(m.address))).size === c.members.length, {
  message: 'member addresses must be unique (localhost and 127.0.0.1 are one)', path: ['members'],
});

/** `host:port` as the machine and port it names, for comparing (core/host/machine-name.ts). */
function machineAddress(address: string): string {
  const { host, port } = parseAddress(address);
  return `${machineOf(host)}:${port}`;
}

export type ZooKeeperConfig = z.infer<typeof zookeeperConfigSchema>;
export type ZooKeeperAuth = z.infer<typeof authEntry>;

/** What a backup connects to (its circuit breaker's endpoint): the member addresses, sorted. */
export function zookeeperEndpoint(config: Pick<ZooKeeperConfig, 'members'>): string {
  return config.members.map((m) => m.address).sort().join(',');
}

/** A connect string of addresses. */
export function connectString(addresses: readonly string[]): string {
  return addresses.join(',');
}

/** `host:port` → its parts. */
export function parseAddress(value: string): { host: string; port: number } {
  const at = value.lastIndexOf(':');
  return { host: value.slice(0, at), port: Number(value.slice(at + 1)) };
}

const port = z.number().int().min(1).max(65_535);

/** One member of the ensemble a host-local restore builds. */
const targetMember = z.object({
  /** Its `myid` (1..254: with TTL nodes enabled, ZooKeeper cannot lead with 255). */
  id: z.number().int().min(1).max(254),
  /** Its data directory (absolute, no `..`); must be absent or empty unless forced. */
  dataDir: absolutePath(),
  /** Where its transaction logs go; defaults to `dataDir`. */
  dataLogDir: absolutePath().optional(),
  /** The name or IPv4 address it listens on for clients and peers (in every member's `zoo.cfg`; `host` is not it). */
  hostname: hostName.default('127.0.0.1'),
  /**
   * Where its restore steps run: the SSM managed instance id of its machine. Members on separate
   * machines are restored there, each at once with the others. Absent: the restore request's host.
   */
  host: memberHostSchema.optional(),
  clientPort: port,
  /** Peer ports: required in an ensemble of several members. */
  quorumPort: port.optional(),
  electionPort: port.optional(),
  /** Java heap of the restored server (MB): the whole tree lives in it. */
  heapMb: z.number().int().min(64).max(65_536).default(1024),
  /**
   * The restored server's `jute.maxbuffer` (bytes): the source's, when it runs with more than
   * ZooKeeper's 1 MiB; the same on every member (a follower syncs the leader's snapshot with it).
   * At most what the restore's own reader takes (files/jute-reader.ts).
   */
  juteMaxBuffer: z.number().int().min(1_048_575).max(MAX_JUTE_LENGTH).optional(),
}).strict();

type TargetMemberInput = z.infer<typeof targetMember>;

/**
 * Where a host-local backup is restored: the whole ensemble (or one standalone server), every
 * member's files replaced by the same files and every member started by the restore.
 */
const hostLocalTarget = z.object({
  mode: z.literal('host-local'),
  members: z.array(targetMember).min(1).max(9),
  /**
   * Let the restore stop a ZooKeeper it finds running on a member's data dir that it did not start
   * itself. Without it such a server is never stopped and the restore is refused.
   */
  stopRunningServer: z.boolean().default(false),
  auth: z.array(authEntry).optional(),
}).strict();

/** Where a logical backup is restored: a running ensemble, through the client. */
const logicalTarget = z.object({
  mode: z.literal('logical'),
  /** Client addresses of the target ensemble's members. */
  servers: z.array(address).min(1),
  auth: z.array(authEntry).optional(),
  sessionTimeoutMs: z.number().int().min(4_000).max(120_000).optional(),
}).strict();

/** A target without a `mode` is a host-local one. */
function withDefaultMode(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || 'mode' in value) return value;
  return { ...value, mode: 'host-local' };
}

/** A restore target: `host-local` (the default) or `logical`. Unknown keys are rejected. */
export const zookeeperRestoreTargetSchema = z.preprocess(withDefaultMode, z.discriminatedUnion('mode', [hostLocalTarget, logicalTarget])).superRefine((target, ctx) => {
  if (target.mode !== 'host-local') return;
  const unique = (what: string, key: (m: TargetMemberInput) => string) => {
    const values = target.members.map(key);
    if (new Set(values).size !== values.length) ctx.addIssue({ code: 'custom', path: ['members'], message: `member ${what} must be unique` });
  };
  unique('ids', (m) => `${m.id}`);
  unique('dataDirs (on one host)', (m) => `${m.host ?? ''} ${m.dataDir}`);
  unique('client addresses (hostname:clientPort)', (m) => `${machineOf(m.hostname)}:${m.clientPort}`);
  if (target.members.length > 1) {
    target.members.forEach((m, i) => {
      if (m.quorumPort === undefined || m.electionPort === undefined) {
        ctx.addIssue({ code: 'custom', path: ['members', i], message: 'quorumPort and electionPort are required in an ensemble of several members' });
      }
    });
  }
  if (new Set(target.members.map((m) => m.juteMaxBuffer)).size > 1) {
    ctx.addIssue({ code: 'custom', path: ['members'], message: 'juteMaxBuffer must be the same on every member (a follower reads the leader\'s snapshot with its own)' });
  }
  // Every port a member listens on is its own on its machine: a member that cannot bind one is
  // found only once every member's files have been replaced.
  const taken = new Map<string, string>();
  target.members.forEach((m, i) => {
    for (const [kind, value] of [['clientPort', m.clientPort], ['quorumPort', m.quorumPort], ['electionPort', m.electionPort]] as const) {
      if (value === undefined) continue;
      const where = `${m.host ?? 'the request\'s host'} ${machineOf(m.hostname)}:${value}`;
      const other = taken.get(where);
      if (other !== undefined) ctx.addIssue({ code: 'custom', path: ['members', i, kind], message: `port ${value} on ${m.hostname} is already ${other}: every port of every member on one machine must differ` });
      else taken.set(where, `member ${m.id}'s ${kind}`);
    }
  });
});

export type ZooKeeperRestoreTarget = z.infer<typeof zookeeperRestoreTargetSchema>;
export type HostLocalTarget = Extract<ZooKeeperRestoreTarget, { mode: 'host-local' }>;
export type LogicalTarget = Extract<ZooKeeperRestoreTarget, { mode: 'logical' }>;
export type TargetMember = HostLocalTarget['members'][number];

/** Default session timeout of the driver's clients (ms). */
export const DEFAULT_SESSION_TIMEOUT_MS = 30_000;
