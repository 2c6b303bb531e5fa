/**
 * Test harness for the ZooKeeper driver: real ZooKeeper 3.8 servers (standalone or a loopback
 * ensemble) in temp dirs, a seeded tree with every kind of node, and an independent read of a tree
 * through the raw client (not the driver's walk or digest), so a restore is compared with its
 * source by a second reader.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import path from 'node:path';
import { onFreePorts } from './ports';
import { harnessTempDirs } from './test-run';
import { startLocalZooKeeper, stopZooKeeperMember, ZOOKEEPER_JAR, type LocalZooKeeper } from '../../drivers/zookeeper/member';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const ZooKeeper = require('zookeeper');

/** The raw promise client of the `zookeeper` package (what the harness needs of it). */
export interface RawClient {
  create(path: string, data: string | Buffer, flags: number, ttl?: number): Promise<string>;
  get(path: string, watch: boolean): Promise<[{ ephemeralOwner: string; cversion: number; mzxid: number }, Buffer | string | null]>;
  get_children(path: string, watch: boolean): Promise<string[]>;
  get_acl(path: string): Promise<[Array<{ perms: number; scheme: string; auth: string }>, unknown]>;
  set(path: string, data: string | Buffer, version: number): Promise<unknown>;
  delete_(path: string, version: number): Promise<unknown>;
  close(): void;
}

export const flags = {
  persistent: 0,
  ephemeral: ZooKeeper.constants.ZOO_EPHEMERAL as number,
  sequential: ZooKeeper.constants.ZOO_SEQUENCE as number,
  container: ZooKeeper.constants.ZOO_CONTAINER as number,
  ttl: ZooKeeper.constants.ZOO_PERSISTENT_WITH_TTL as number,
};

const started: LocalZooKeeper[] = [];
const dataDirs = new Set<string>();
const tempDirs = harnessTempDirs('zk');

/** A fresh temp directory, removed by {@link stopAllZooKeeper}. */
export function zkTempDir(label: string): Promise<string> {
  return tempDirs.make(label);
}

/** Starts `count` members (1 = standalone) on free loopback ports. */
export async function startTestZooKeeper(label: string, options: { count?: number; snapCount?: number; separateLogDir?: boolean; adminPorts?: readonly number[] } = {}): Promise<LocalZooKeeper & { dir: string }> {
  const dir = await zkTempDir(label);
  const count = options.count ?? 1;
  const zk = await onFreePorts(3 * count, (ports, attempt) => startLocalZooKeeper({ ...options, dir: path.join(dir, `attempt-${attempt}`), ports, count }));
  started.push(zk);
  return { ...zk, dir };
}

/** Registers a server the code under test started (by its data dir), so {@link stopAllZooKeeper} stops it. */
export function trackZooKeeper(dataDir: string): void {
  dataDirs.add(dataDir);
}

/** Stops every server the harness started or was told about, and removes the temp dirs. */
export async function stopAllZooKeeper(): Promise<void> {
  for (const zk of started.splice(0)) await zk.stop().catch(() => undefined);
  for (const dataDir of dataDirs) await stopZooKeeperMember(dataDir).catch(() => undefined);
  dataDirs.clear();
  await tempDirs.removeAll();
}

/** A raw client, connected. */
export async function connectRaw(connectString: string, auth: Array<{ scheme: string; credential: string }> = []): Promise<RawClient> {
  // response_counter_limit: the binding otherwise drops a session whose 900 KB reply arrives in pieces (client.ts).
  const client = new ZooKeeper.Promise({
    connect: connectString, timeout: 20_000, debug_level: 0, host_order_deterministic: false, response_counter_limit: 2 ** 31 - 1,
  });
  client.setLogger(false);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no connection to ZooKeeper at ${connectString}`)), 30_000);
    client.once('connect', () => { clearTimeout(timer); resolve(); });
    client.init({});
  });
  for (const { scheme, credential } of auth) {
    // add_auth has no promise form: (scheme, credential, (rc, error) => ...).
    await new Promise<void>((resolve, reject) => client.add_auth(scheme, credential, (rc: number, error: string) => (rc === 0 ? resolve() : reject(new Error(`add_auth ${scheme}: ${error}`)))));
  }
  return client as RawClient;
}

/** The digest ACL id of `user:password` (ZooKeeper's DigestAuthenticationProvider: base64 sha1). */
export function digestId(userPassword: string): string {
  const user = userPassword.slice(0, userPassword.indexOf(':'));
  return `${user}:${createHash('sha1').update(userPassword).digest('base64')}`;
}

/** The credential the seeded tree's protected nodes need. */
export const SEED_AUTH = { scheme: 'digest', credential: 'backup:right' };
/** The environment variable configs name it by: a config carries a secret by reference only. */
export const SEED_AUTH_ENV = { DBBACKUP_TEST_ZK_CREDENTIAL: SEED_AUTH.credential };
/** {@link SEED_AUTH} as a config or restore target names it. */
export const SEED_AUTH_REF = { scheme: 'digest', credential: { $secret: 'env:DBBACKUP_TEST_ZK_CREDENTIAL' } };

/**
 * Seeds a tree: `count` nodes under /app (some binary), a 900 KB node, a digest-protected
 * subtree, sequential children, a container with a child, a TTL node, and an ephemeral node (its
 * session is returned: close it to let the node go). Returns the client holding the ephemeral.
 */
export async function seedTree(connectString: string, count = 300): Promise<RawClient> {
  const client = await connectRaw(connectString, [SEED_AUTH]);
  const world = [{ perms: 31, scheme: 'world', auth: 'anyone' }];
  await client.create('/app', 'root of the app', flags.persistent);
  for (let i = 0; i < count; i += 50) {
    await Promise.all(Array.from({ length: Math.min(50, count - i) }, (_, j) => {
      const n = i + j;
      const data = n % 7 === 0 ? randomBytes(64) : Buffer.from(`value ${n}`);
      return client.create(`/app/n-${String(n).padStart(5, '0')}`, data, flags.persistent);
    }));
  }
  await client.create('/app/big', randomBytes(900 * 1024), flags.persistent);
  await client.create('/app/empty', '', flags.persistent);
  await client.create('/queue', '', flags.persistent);
  for (let i = 0; i < 5; i += 1) await client.create('/queue/item-', `job ${i}`, flags.sequential);
  await client.create('/locks', '', flags.container);
  await client.create('/locks/held', 'x', flags.persistent);
  await client.create('/expiring', 'ttl', flags.ttl, 3_600_000);
  await client.create('/session', 'ephemeral', flags.ephemeral);
  const secret = await client.create('/secret', 'top', flags.persistent);
  await client.create(`${secret}/inner`, 'hidden', flags.persistent);
  const acl = [{ perms: 31, scheme: 'digest', auth: digestId(SEED_AUTH.credential) }, { perms: 1, scheme: 'world', auth: 'anyone' }];
  await (client as unknown as { set_acl(p: string, v: number, a: unknown): Promise<unknown> }).set_acl(`${secret}/inner`, -1, [acl[0]]);
  await (client as unknown as { set_acl(p: string, v: number, a: unknown): Promise<unknown> }).set_acl(secret, -1, acl);
  void world;
  return client;
}

/** One node as the harness reads it: independent of the driver's walk and digest. */
export interface ReadNode {
  path: string;
  dataSha256: string;
  acl: string;
  owner: string;
}

/**
 * Every node but the ephemeral ones and /zookeeper, sorted by path: data (as sha256), ACL and the
 * kind-bearing `ephemeralOwner` (container and TTL encode their kind there).
 */
export async function readTree(connectString: string, auth: Array<{ scheme: string; credential: string }> = [SEED_AUTH]): Promise<ReadNode[]> {
  // A session the busy machine let time out (-7 operation timeout, -4 connection loss) reads again on a new one.
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await readTreeOnce(connectString, auth);
    } catch (error) {
      if (attempt >= 3 || !/^-(7|4) /.test(String((error as Error).message ?? error))) throw error;
    }
  }
}

async function readTreeOnce(connectString: string, auth: Array<{ scheme: string; credential: string }>): Promise<ReadNode[]> {
  const client = await connectRaw(connectString, auth);
  try {
    const nodes: ReadNode[] = [];
    const visit = async (at: string): Promise<void> => {
      if (at === '/zookeeper') return;
      const [stat, data] = await client.get(at, false);
      const owner = BigInt(`0x${stat.ephemeralOwner}`);
      const ephemeral = owner !== 0n && owner !== 0x8000000000000000n && (owner >> 56n) !== 0xffn;
      if (ephemeral) return;
      const [acl] = await client.get_acl(at);
      const bytes = data === null ? Buffer.alloc(0) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      nodes.push({ path: at, dataSha256: createHash('sha256').update(bytes).digest('hex'), acl: acl.map((a) => `${a.perms}:${a.scheme}:${a.auth}`).join(','), owner: owner.toString(16) });
      const children = (await client.get_children(at, false)).sort();
      for (const child of children) await visit(at === '/' ? `/${child}` : `${at}/${child}`);
    };
    await visit('/');
    return nodes.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  } finally {
    client.close();
  }
}

/** One node as ZooKeeper's own SnapshotFormatter prints it. */
export interface FormattedNode {
  path: string;
  /** sha256 (hex) of the node's data. */
  dataSha256: string;
  /** `ephemeralOwner` as printed, e.g. `0x00000000000000`, `0x8000000000000000` (container), `0xff…` (TTL). */
  owner: bigint;
}

/**
 * The nodes of a snapshot file as ZooKeeper's own `SnapshotFormatter -d` reads them: an independent
 * reader of the files (not the driver's).
 */
export async function formatSnapshot(file: string): Promise<FormattedNode[]> {
  const { stdout } = await promisify(execFile)('java', ['-cp', `${ZOOKEEPER_JAR}:/usr/share/java/slf4j-simple.jar`, 'org.apache.zookeeper.server.SnapshotFormatter', '-d', file], { maxBuffer: 1 << 30 });
  const details = stdout.slice(stdout.indexOf('ZNode Details'));
  const nodes: FormattedNode[] = [];
  for (const block of details.split('\n----\n').slice(1)) {
    const lines = block.split('\n');
    const field = (name: string) => lines.find((l) => l.trimStart().startsWith(`${name} = `))?.trimStart().slice(name.length + 3);
    if (!lines[0].startsWith('/')) continue;
    nodes.push({
      path: lines[0].trim(),
      dataSha256: createHash('sha256').update(Buffer.from(field('data') ?? '', 'base64')).digest('hex'),
      owner: BigInt(field('ephemeralOwner') ?? '0'),
    });
  }
  return nodes;
}
