/**
 * TCP ports on this host: a free one for a server to start on (and fresh ones when another process
 * took it first), and whether something already listens on one (a restore target's port).
 */
import { createServer, Socket } from 'node:net';

/** A TCP port free on `host` right now (the OS picks it). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return listenBriefly(0, host);
}

/** True when `port` can be bound on every address right now. */
export function canBind(port: number): Promise<boolean> {
  return listenBriefly(port, '0.0.0.0').then(() => true, () => false);
}

/** Listens on `port` (0: any) and closes again; resolves with the port bound. */
function listenBriefly(port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** What a server that could not bind its port says (etcd, MariaDB, Node). */
const PORT_TAKEN = /address already in use|EADDRINUSE/i;

/**
 * Runs `start` on `count` distinct free ports, and again on fresh ones (up to `attempts` in all)
 * when it fails because a port was taken between choosing it and binding it: another process on
 * this busy machine may have picked the same free port.
 * @param start gets the ports and the attempt number (from 0), e.g. for a fresh directory per attempt
 * @param pick chooses one free port (default: {@link freePort})
 * @throws the last attempt's error, or at once an error that is not about a taken port
 */
export async function onFreePorts<T>(count: number, start: (ports: number[], attempt: number) => Promise<T>, attempts = 3, pick: () => Promise<number> = freePort): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    const ports: number[] = [];
    while (ports.length < count) {
      const port = await pick();
      if (!ports.includes(port)) ports.push(port);
    }
    try {
      return await start(ports, attempt);
    } catch (error) {
      if (attempt + 1 >= attempts || !PORT_TAKEN.test((error as Error).message ?? '')) throw error;
    }
  }
}

/**
 * True when something accepts TCP connections on `host:port` (a wildcard host is asked on
 * loopback). A connect that does not finish in `timeoutMs` counts as nothing listening.
 */
export function isListening(address: { host: string; port: number }, timeoutMs = 1000): Promise<boolean> {
  const host = address.host === '0.0.0.0' ? '127.0.0.1' : address.host === '::' ? '::1' : address.host;
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (listening: boolean) => { socket.destroy(); resolve(listening); };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.connect(address.port, host);
  });
}
