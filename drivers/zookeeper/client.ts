/**
 * Opening and closing clients of the native `zookeeper` package (the C client under a promise
 * API): one session per client, its credentials added before it is used, the C client's logging
 * turned off (it writes to stderr otherwise), a bounded wait for the first connection.
 *
 * Hazards of this client, version 7:
 * - a `get_acl` that fails (no node, no auth, connection loss, or still in flight when the session
 *   closes) crashes the process (node-zk.cpp `acl_completion` frees a null ACL vector). Callers
 *   read a node's data first and its ACL only once that succeeded, which narrows the window to a
 *   node deleted (or a connection lost) between the two replies; it does not close it. Do not close
 *   a client while a walk is reading.
 * - the binding closes a session by itself after 10 socket wake-ups without a whole response
 *   (`response_counter_limit`), which a 900 KB reply on a busy host causes; {@link openZooKeeper}
 *   lifts the limit.
 */
import type ZooKeeperModule from 'zookeeper';
import { PermanentError, TransientError } from '../../core/errors';
import { assertSomeNameResolves, zooKeeperCallFailed } from './errors';

/** A connected client (the package's promise API). */
export type ZooKeeperClient = InstanceType<typeof ZooKeeperModule>;

let loaded: typeof ZooKeeperModule | undefined;

/**
 * The native package, loaded on first use: only the steps that talk to ZooKeeper through a client
 * load it (on the host, where it was built for the host's Node), never a Lambda function that
 * merely imports the driver.
 * @throws PermanentError `MISSING_TOOL` when it cannot be loaded here
 */
function zooKeeperPackage(): typeof ZooKeeperModule {
  if (!loaded) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      loaded = require('zookeeper') as typeof ZooKeeperModule;
    } catch (error) {
      throw new PermanentError(
        `the ZooKeeper client (the native npm package 'zookeeper') cannot be loaded on this host: ${(error as Error).message}; install or rebuild it for this host's Node (npm rebuild zookeeper)`,
        { code: 'MISSING_TOOL', engine: 'zookeeper', cause: error },
      );
    }
  }
  return loaded;
}

/** The package's constants: create flags (`ZOO_CONTAINER`, `ZOO_PERSISTENT_WITH_TTL`...), permissions. */
export function zooKeeperConstants(): (typeof ZooKeeperModule)['constants'] {
  return zooKeeperPackage().constants;
}

/** One credential a client presents after connecting, e.g. `{ scheme: 'digest', credential: 'user:password' }`. */
export interface ZooKeeperAuth {
  scheme: string;
  credential: string;
}

export interface ZooKeeperConnectOptions {
  /** `host:port,host:port/optional/chroot`. */
  connectString: string;
  /** The session timeout asked of the server (default 20 s; the server bounds it). */
  sessionTimeoutMs?: number;
  /** How long to wait for the first connection (default 15 s). */
  connectTimeoutMs?: number;
  auth?: readonly ZooKeeperAuth[];
  /** Reattach to this existing session (its id and 16-byte password, hex) instead of opening a new one. */
  session?: { id: string; password: string };
}

const DEFAULT_SESSION_TIMEOUT_MS = 20_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 15_000;
/** Dead servers are the session timeout's to detect, not this counter's. */
const RESPONSE_COUNTER_LIMIT = 2 ** 31 - 1;

/** The host names of a connect string (`host:port,host:port/chroot`). */
export function connectStringHosts(connectString: string): string[] {
  const servers = connectString.replace(/\/.*$/, '').split(',').filter(Boolean);
  return servers.map((server) => server.slice(0, server.lastIndexOf(':') < 0 ? undefined : server.lastIndexOf(':')).replace(/^\[|\]$/g, ''));
}

function waitForConnection(client: ZooKeeperClient, connectString: string, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      // A name that does not resolve is retried by the C client until this timeout: said as such.
      assertSomeNameResolves(connectStringHosts(connectString)).then(
        () => reject(new TransientError(`no ZooKeeper server of ${connectString} accepted a session in ${timeoutMs} ms`, { code: 'ZK_UNREACHABLE', engine: 'zookeeper' })),
        reject,
      );
    }, timeoutMs);
    const onConnect = () => { cleanup(); resolve(); };
    const onClose = () => {
      cleanup();
      reject(new TransientError(`the ZooKeeper session with ${connectString} closed before it connected`, { code: 'ZK_UNREACHABLE', engine: 'zookeeper' }));
    };
    function cleanup(): void {
      clearTimeout(timer);
      client.removeListener('connect', onConnect);
      client.removeListener('close', onClose);
    }
    client.once('connect', onConnect);
    client.once('close', onClose);
  });
}

function addAuth(client: ZooKeeperClient, auth: ZooKeeperAuth): Promise<void> {
  return new Promise((resolve, reject) => {
    const rc = client.add_auth(auth.scheme, auth.credential, (code: number, text: unknown) => {
      if (code === 0) resolve();
      else reject(zooKeeperCallFailed(Object.assign(new Error(`${code} ${String(text)}`), { zkCode: code }), `adding ${auth.scheme} credentials`));
    });
    if (typeof rc === 'number' && rc < 0) reject(zooKeeperCallFailed(Object.assign(new Error(`${rc} add_auth refused`), { zkCode: rc }), `adding ${auth.scheme} credentials`));
  });
}

/**
 * Opens a session and adds its credentials.
 * @example
 * const client = await openZooKeeper({ connectString: '127.0.0.1:2181', auth: [{ scheme: 'digest', credential: 'admin:secret' }] });
 * try { await client.get('/', false); } finally { closeZooKeeper(client); }
 * @throws TransientError `ZK_UNREACHABLE` when no server accepts a session in time;
 *   PermanentError `AUTH_FAILED` when the server refuses a credential
 */
export async function openZooKeeper(options: ZooKeeperConnectOptions): Promise<ZooKeeperClient> {
  const ZooKeeper = zooKeeperPackage();
  const client: ZooKeeperClient = new ZooKeeper({
    connect: options.connectString,
    timeout: options.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS,
    // 0 silences the C client's log (its default writes INFO and WARN lines to stderr).
    debug_level: 0,
    host_order_deterministic: false,
    // The binding closes the session as expired after this many socket wake-ups in a row without
    // a whole response (default 10): a large node's reply read in pieces, on a busy host, is that.
    response_counter_limit: RESPONSE_COUNTER_LIMIT,
    ...(options.session ? { client_id: options.session.id, client_password: options.session.password } : {}),
  });
  client.setLogger(false);
  const connected = waitForConnection(client, options.connectString, options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
  client.init({});
  try {
    await connected;
    for (const auth of options.auth ?? []) await addAuth(client, auth);
    return client;
  } catch (error) {
    closeZooKeeper(client);
    throw error;
  }
}

/** Closes the session (its ephemeral nodes go with it). Safe to call twice. */
export function closeZooKeeper(client: ZooKeeperClient): void {
  try {
    client.close();
  } catch {
    // already closed
  }
}
