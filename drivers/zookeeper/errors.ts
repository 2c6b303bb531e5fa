/**
 * Maps the `zookeeper` client's errors to the framework's two error names, so the state machine
 * knows whether to retry. The client's promise API rejects with a plain Error whose message starts
 * with the C client's return code (`-101 no node`), or, when a call is refused before it is sent,
 * names the constant (`result: "ZBADARGUMENTS -8"`); both carry the code, which is what we match.
 */
import { PermanentError, TransientError, authFailed, unknownHost, type ClassifiedError } from '../../core/errors';
import { namesThatDoNotResolve } from '../../core/host/host-names';

export const ENGINE = 'zookeeper';

/** The C client's return codes this driver tells apart (zookeeper.h, `ZOO_ERRORS`). */
export const ZK_RC = {
  SYSTEMERROR: -1,
  RUNTIMEINCONSISTENCY: -2,
  DATAINCONSISTENCY: -3,
  CONNECTIONLOSS: -4,
  MARSHALLINGERROR: -5,
  UNIMPLEMENTED: -6,
  OPERATIONTIMEOUT: -7,
  BADARGUMENTS: -8,
  INVALIDSTATE: -9,
  NEWCONFIGNOQUORUM: -13,
  RECONFIGINPROGRESS: -14,
  SSLCONNECTIONERROR: -15,
  APIERROR: -100,
  NONODE: -101,
  NOAUTH: -102,
  BADVERSION: -103,
  NOCHILDRENFOREPHEMERALS: -108,
  NODEEXISTS: -110,
  NOTEMPTY: -111,
  SESSIONEXPIRED: -112,
  INVALIDCALLBACK: -113,
  INVALIDACL: -114,
  AUTHFAILED: -115,
  CLOSING: -116,
  NOTHING: -117,
  SESSIONMOVED: -118,
  NOTREADONLY: -119,
  EPHEMERALONLOCALSESSION: -120,
  NOWATCHER: -121,
  RECONFIGDISABLED: -123,
  SESSIONCLOSEDREQUIRESASLAUTH: -124,
  THROTTLEDOP: -127,
} as const;

/** Codes worth retrying: the connection or the session broke, or the ensemble could not answer in time. */
const TRANSIENT_CODES = new Set<number>([
  ZK_RC.CONNECTIONLOSS, ZK_RC.OPERATIONTIMEOUT, ZK_RC.SESSIONEXPIRED, ZK_RC.SESSIONMOVED, ZK_RC.CLOSING,
  ZK_RC.INVALIDSTATE, ZK_RC.NOTHING, ZK_RC.NOTREADONLY, ZK_RC.NEWCONFIGNOQUORUM, ZK_RC.RECONFIGINPROGRESS,
  ZK_RC.THROTTLEDOP, ZK_RC.SSLCONNECTIONERROR,
]);

/** Codes that mean the credentials are missing or refused. */
const AUTH_CODES = new Set<number>([ZK_RC.NOAUTH, ZK_RC.AUTHFAILED, ZK_RC.SESSIONCLOSEDREQUIRESASLAUTH]);

/** The C client's return code an error of the `zookeeper` client carries, if it carries one. */
export function zooKeeperReturnCode(error: unknown): number | undefined {
  if (!(error instanceof Error)) return undefined;
  const ownCode = (error as { zkCode?: unknown }).zkCode;
  if (typeof ownCode === 'number') return ownCode;
  const leading = /^(-\d+) /.exec(error.message);
  if (leading) return Number(leading[1]);
  const refused = /result: "\w+ (-\d+)"/.exec(error.message);
  return refused ? Number(refused[1]) : undefined;
}

/** True when `error` is the client's "no node" (the node is not there, or was deleted meanwhile). */
export function isNoNode(error: unknown): boolean {
  return zooKeeperReturnCode(error) === ZK_RC.NONODE;
}

/**
 * Classifies a `zookeeper` client error, or returns undefined when it is not one this driver
 * recognises (the framework then treats it as permanent).
 *
 * - connection loss, session expired or moved, operation timeout, a closing or not yet connected
 *   handle → TransientError `ZK_UNREACHABLE`
 * - no auth / auth failed → PermanentError `AUTH_FAILED` (`ZK_AUTH` in the message)
 * - anything else the server or client answered with a code (bad arguments, no node, node exists,
 *   not empty, invalid ACL, unimplemented...) → PermanentError `ZK_<NAME>`, e.g. `ZK_BADARGUMENTS`
 */
export function mapZooKeeperError(raw: unknown): ClassifiedError | undefined {
  if (raw instanceof TransientError || raw instanceof PermanentError) return raw;
  const code = zooKeeperReturnCode(raw);
  if (code === undefined) return undefined;
  const message = (raw as Error).message;
  if (TRANSIENT_CODES.has(code)) {
    return new TransientError(`ZooKeeper is unreachable or did not answer: ${message}`, { code: 'ZK_UNREACHABLE', engine: ENGINE, cause: raw });
  }
  if (AUTH_CODES.has(code)) {
    return authFailed(`ZooKeeper refused the operation to this client's credentials: ${message}`, { driverCode: 'ZK_AUTH', engine: ENGINE, cause: raw });
  }
  const name = Object.entries(ZK_RC).find(([, value]) => value === code)?.[0] ?? 'ERROR';
  return new PermanentError(`ZooKeeper refused the operation: ${message}`, { code: `ZK_${name}`, engine: ENGINE, cause: raw });
}

/**
 * The classified error of a failed call, its message naming what was attempted (`creating /a/b`);
 * an error the mapper does not recognise is returned unchanged.
 */
export function zooKeeperCallFailed(error: unknown, what: string): unknown {
  const mapped = mapZooKeeperError(error);
  if (!mapped) return error;
  const Ctor = mapped instanceof TransientError ? TransientError : PermanentError;
  return new Ctor(`${what}: ${mapped.message}`, { code: mapped.code, engine: ENGINE, cause: error });
}

/**
 * Refuses an ensemble none of whose members' host names resolve: no retry would reach it.
 * @throws PermanentError `UNKNOWN_HOST` (`ZK_UNKNOWN_HOST` in the message)
 */
export async function assertSomeNameResolves(hosts: readonly string[], resolve?: Parameters<typeof namesThatDoNotResolve>[1]): Promise<void> {
  const missing = await namesThatDoNotResolve(hosts, resolve);
  if (missing.length < new Set(hosts).size) return;
  throw unknownHost(`no ZooKeeper member's host name resolves: ${missing.join(', ')}`, { driverCode: 'ZK_UNKNOWN_HOST', engine: 'zookeeper' });
}
