/**
 * Opening etcd3 clients the way every step of this driver needs them: one endpoint per client (so
 * we know which member answered and took the snapshot), bounded dial time, a few quick retries of
 * recoverable calls, and no circuit breaker (each step is short-lived; the state machine retries).
 */
import { ExponentialBackoff, handleWhen, noop, retry } from 'cockatiel';
import { Etcd3, isRecoverableError, type IOptions, type IStatusResponse } from 'etcd3';
import type { Logger } from '../../core/logger';
import { DEFAULT_DIAL_TIMEOUT_MS } from './config';
import { mapEtcdError, messageOf } from './errors';

/** Credentials and timeouts for a client. */
export interface ClientOptions {
  username?: string;
  password?: string;
  dialTimeoutMs?: number;
  /** Attempts per call for recoverable errors (default 3). */
  attempts?: number;
}

/** Large enough for pages of big values; the kv digest halves its page size when a page is larger still. */
const MAX_RECEIVE_BYTES = 64 * 1024 * 1024;

/** A client for one endpoint. Close it when done. */
export function createEtcdClient(endpoint: string, options: ClientOptions = {}): Etcd3 {
  const attempts = Math.max(1, options.attempts ?? 3);
  const etcdOptions: IOptions = {
    hosts: [endpoint],
    dialTimeout: options.dialTimeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS,
    grpcOptions: { 'grpc.max_receive_message_length': MAX_RECEIVE_BYTES },
    faultHandling: {
      host: () => noop,
      global: attempts > 1
        ? retry(handleWhen((error) => isRecoverableError(error)), {
          maxAttempts: attempts - 1,
          backoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: 2_000 }),
        })
        : noop,
    },
  };
  if (options.username !== undefined && options.password !== undefined) {
    etcdOptions.auth = { username: options.username, password: options.password };
  }
  return new Etcd3(etcdOptions);
}

/** A connected client and what its member said about itself. */
export interface Connection {
  client: Etcd3;
  endpoint: string;
  status: IStatusResponse;
}

/**
 * Connects to the first endpoint that answers a status call, in the order given.
 * @throws the classified error of the last endpoint tried (TransientError `ETCD_UNAVAILABLE` when
 *   none is reachable, PermanentError `AUTH_FAILED` on bad credentials), naming every endpoint tried.
 */
export async function connectFirstAvailable(endpoints: string[], options: ClientOptions, logger?: Logger): Promise<Connection> {
  const failures: string[] = [];
  let lastError: unknown;
  for (const endpoint of endpoints) {
    const client = createEtcdClient(endpoint, options);
    try {
      const status = await client.maintenance.status();
      return { client, endpoint, status };
    } catch (error) {
      client.close();
      lastError = error;
      failures.push(`${endpoint}: ${messageOf(error)}`);
      logger?.warn('etcd endpoint did not answer', { endpoint, error: messageOf(error) });
    }
  }
  const mapped = mapEtcdError(lastError);
  // One endpoint's answer is the message itself: named once.
  const tried = endpoints.length === 1 ? `endpoint tried: ${endpoints[0]}` : `endpoints tried: ${failures.join('; ')}`;
  if (mapped) {
    // The classified message first (it says what went wrong: refused credentials, unavailable), then each endpoint's answer.
    const Ctor = mapped.constructor as new (message: string, options: { code: string; engine?: string; cause?: unknown }) => typeof mapped;
    throw new Ctor(`${mapped.message} (${tried})`, { code: mapped.code, engine: 'etcd', cause: lastError });
  }
  throw new Error(`no etcd endpoint answered (${tried})`, { cause: lastError });
}

/** etcd prints cluster and member ids in hex; etcd3 gives them as decimal uint64 strings. */
export function idHex(decimal: string): string {
  return BigInt(decimal).toString(16);
}
