/**
 * The client sessions a restored server brings back. A snapshot keeps every live session and the
 * ephemeral nodes it owns, so a restored ensemble would serve the source's ephemeral nodes (locks,
 * leader znodes) until each session expired. No client of the restored ensemble will ever resume
 * them, so the restore closes them at once: it reattaches to each session — ZooKeeper derives a
 * session's password from its id and a fixed secret (ZooKeeperServer.generatePasswd) — and
 * closes it, which deletes its ephemeral nodes.
 */
import type { Logger } from '../../../core/logger';
import { closeZooKeeper, openZooKeeper } from '../client';

/** ZooKeeperServer.superSecret. */
const SUPER_SECRET = 0xb3415c00n;
/** java.util.Random's multiplier, addend and mask. */
const MULTIPLIER = 0x5deece66dn;
const ADDEND = 0xbn;
const MASK = (1n << 48n) - 1n;

/** A session's password as the server checks it: `new Random(id ^ superSecret).nextBytes(new byte[16])`. */
export function sessionPassword(sessionId: bigint): Buffer {
  let seed = (BigInt.asUintN(64, sessionId ^ SUPER_SECRET) ^ MULTIPLIER) & MASK;
  const nextInt = (): number => {
    seed = (seed * MULTIPLIER + ADDEND) & MASK;
    return Number(BigInt.asIntN(32, seed >> 16n));
  };
  const password = Buffer.alloc(16);
  for (let i = 0; i < password.length;) {
    let random = nextInt();
    for (let n = Math.min(password.length - i, 4); n > 0; n -= 1, random >>= 8) password[i++] = random & 0xff;
  }
  return password;
}

/**
 * Closes each session on the restored ensemble (its ephemeral nodes go with it). One that is gone
 * already is fine: it expired, and its nodes with it.
 * @returns the sessions closed
 */
export async function closeRestoredSessions(connectString: string, sessions: readonly bigint[], logger: Logger): Promise<number> {
  let closed = 0;
  for (const id of sessions) {
    // The binding reads the password's hex digits in upper case only.
    const session = { id: BigInt.asUintN(64, id).toString(16), password: sessionPassword(id).toString('hex').toUpperCase() };
    try {
      closeZooKeeper(await openZooKeeper({ connectString, session, connectTimeoutMs: 15_000 }));
      closed += 1;
    } catch (error) {
      logger.warn('zookeeper restore: a restored session could not be resumed to close it (it expires by itself)', { session: session.id, error: (error as Error).message });
    }
  }
  return closed;
}
