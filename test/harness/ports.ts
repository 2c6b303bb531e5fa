/**
 * Ports for the servers tests start. A port the OS picks (port 0) lies in the ephemeral range, where
 * every outgoing connection on this busy machine also takes its local port, so such a port chosen
 * now and bound by a server a moment later is sometimes taken already. Test servers get ports
 * below that range instead (Linux's starts at 32768), each jest worker from a slice of its own (two
 * workers never hand out the same port), each checked free when handed out and never handed out
 * twice by one test file.
 */
import { canBind, onFreePorts as onFreePortsPicked } from '../../core/host/ports';

const FIRST_PORT = 20_000;
const SLICE = 500;
/** Slices that fit below the ephemeral range. */
const SLICES = 25;

const slice = Number(process.env.JEST_WORKER_ID ?? 0) % SLICES;
let handedOut = 0;

/** A port of this worker's slice that nothing listens on now, not handed out before by this file. */
export async function freePort(): Promise<number> {
  for (let tried = 0; tried < SLICE; tried += 1) {
    const port = FIRST_PORT + slice * SLICE + (handedOut++ % SLICE);
    if (await canBind(port)) return port;
  }
  throw new Error(`no free port in ${FIRST_PORT + slice * SLICE}–${FIRST_PORT + (slice + 1) * SLICE - 1}`);
}

/** core's onFreePorts, on ports from {@link freePort}. */
export function onFreePorts<T>(count: number, start: (ports: number[], attempt: number) => Promise<T>, attempts = 3): Promise<T> {
  return onFreePortsPicked(count, start, attempts, freePort);
}
