/**
 * Creates a tree's nodes over several sessions at once, parents before children: a session's
 * requests are answered in order, but two sessions' are not, so a node goes to the session of its
 * parent's path (siblings share one) and its create is sent once its parent's create — on any
 * session — has been answered. Feed nodes in pre-order; memory holds the chain of open ancestors.
 * One session tops out at a few thousand creates a second on a busy 2-core host; four reach about
 * half as many again.
 */
import type { ZooKeeperClient } from '../client';
import { RequestWindow } from './request-window';

/** FNV-1a of a path: which session its children go to. */
function sessionOf(parent: string, sessions: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < parent.length; i += 1) hash = Math.imul(hash ^ parent.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % sessions;
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash === 0 ? '/' : path.slice(0, slash);
}

export class ParallelCreates {
  private readonly windows: RequestWindow[];
  /** Creates sent and not yet answered, by path: a child waits for its parent's (one answered is gone). */
  private readonly inFlight = new Map<string, Promise<unknown>>();

  /** @param window requests in flight per session */
  constructor(private readonly clients: readonly ZooKeeperClient[], window: number) {
    this.windows = clients.map(() => new RequestWindow(window));
  }

  /**
   * Sends `create` for `path` (parents before children, `/` itself never) once a slot of its
   * session is free. The first failure anywhere is thrown by a later call or by {@link drain}, once every
   * session's requests in flight have been answered.
   */
  async submit(path: string, create: (client: ZooKeeperClient) => Promise<unknown>): Promise<void> {
    const parent = parentOf(path);
    // Not in flight: created already (or the root), since parents come first.
    const parentCreated = this.inFlight.get(parent) ?? Promise.resolve();
    const index = sessionOf(parent, this.clients.length);
    let settle!: { resolve: (v: unknown) => void; reject: (e: unknown) => void };
    const created = new Promise((resolve, reject) => { settle = { resolve, reject }; });
    created.then(() => this.inFlight.delete(path), () => undefined); // a failure is reported by the request itself
    this.inFlight.set(path, created);
    try {
      await this.windows[index].submit(() => parentCreated.then(() => create(this.clients[index])).then(settle.resolve, (error: unknown) => {
        settle.reject(error);
        throw error;
      }));
    } catch (error) {
      await this.settle();
      throw error;
    }
  }

  /** Waits for every request of every session; throws the first failure. */
  async drain(): Promise<void> {
    const outcomes = await Promise.allSettled(this.windows.map((w) => w.drain()));
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Every session's requests in flight answered, failures aside (before a failure is thrown). */
  private async settle(): Promise<void> {
    await Promise.allSettled(this.windows.map((w) => w.drain()));
  }
}
