/**
 * Bounded concurrency: run a list of jobs at most `limit` at a time (p-limit does the queueing).
 *
 * The failure rule is the one every caller wants for a backup or a restore: after the first job
 * fails no further job starts, the jobs already running are waited for (so none is still writing
 * or holding a connection when the caller cleans up), and then that first failure is thrown as it
 * was — not an AggregateError, so its type and code reach the caller's error handling unchanged.
 */
import pLimit from 'p-limit';

/**
 * Calls `fn` on every item, at most `limit` (at least 1) at a time, in item order; resolves with
 * the results in item order.
 * @throws the first error `fn` threw, once the calls already running have settled.
 */
export async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const run = pLimit(Math.max(1, limit));
  const results: R[] = new Array(items.length);
  let failure: { error: unknown } | undefined;
  await Promise.all(items.map((item, index) => run(async function runUnlessFailed() {
    if (failure) return;
    try {
      results[index] = await fn(item, index);
    } catch (error) {
      failure ??= { error };
    }
  })));
  if (failure) throw failure.error;
  return results;
}

/**
 * Runs every one of `jobs` at once and resolves with their results, in order. Each gets a signal
 * that aborts when another fails (or `parent` aborts), so that it can stop early; the first failure
 * is thrown once all have settled (nothing keeps running behind the caller's back).
 */
export async function allTogether<T>(jobs: ReadonlyArray<(signal: AbortSignal) => Promise<T>>, parent?: AbortSignal): Promise<T[]> {
  const stop = new AbortController();
  const onParent = () => stop.abort(parent?.reason);
  if (parent?.aborted) onParent();
  else parent?.addEventListener('abort', onParent, { once: true });
  let failure: { error: unknown } | undefined;
  const run = (job: (signal: AbortSignal) => Promise<T>) => Promise.resolve().then(() => job(stop.signal)).catch((error: unknown) => {
    failure ??= { error };
    stop.abort(error);
    throw error;
  });
  try {
    const settled = await Promise.allSettled(jobs.map(run));
    if (failure) throw failure.error;
    return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
  } finally {
    parent?.removeEventListener('abort', onParent);
  }
}

/** {@link allTogether} of two jobs of their own types. */
export async function both<A, B>(a: (signal: AbortSignal) => Promise<A>, b: (signal: AbortSignal) => Promise<B>, parent?: AbortSignal): Promise<[A, B]> {
  const [ra, rb] = await allTogether<A | B>([a, b], parent);
  return [ra as A, rb as B];
}

/** A resource each running job needs for itself, such as a database connection. */
export interface LaneResource<W> {
  open(): Promise<W>;
  /** Releases it; should not throw (a close failure must not hide the jobs' outcome). */
  close(resource: W): Promise<void>;
}

/**
 * {@link mapLimited} where each call gets a resource of its own for its duration: resources are
 * opened when a call needs one and none is free (so at most `limit`), reused by later calls, and
 * all closed at the end. A failure to open one counts as that call's failure.
 */
export async function mapLimitedWith<T, R, W>(
  items: readonly T[],
  limit: number,
  resource: LaneResource<W>,
  fn: (item: T, opened: W, index: number) => Promise<R>,
): Promise<R[]> {
  const free: W[] = [];
  try {
    return await mapLimited(items, limit, async function withResource(item, index) {
      const opened = free.pop() ?? await resource.open();
      try {
        return await fn(item, opened, index);
      } finally {
        free.push(opened);
      }
    });
  } finally {
    await Promise.all(free.map((opened) => resource.close(opened)));
  }
}

/**
 * Resources opened already (the connections of one read view) as a {@link LaneResource} for
 * {@link mapLimitedWith} with a limit of at most their number: handed out in turn, left open at the end.
 */
export function existingLanes<W>(resources: readonly W[]): LaneResource<W> {
  const unused = [...resources];
  return {
    async open() {
      const next = unused.shift();
      if (next === undefined) throw new Error(`only ${resources.length} lanes: the limit must not exceed them`);
      return next;
    },
    async close() {},
  };
}

/**
 * Things that arrive one by one while their producer runs (downloaded files, created tables), for
 * a consumer that starts on the first ones: {@link of} waits for one by name; the producer calls
 * {@link arrive} for each, and {@link fail} with its error should it fail, so that every wait,
 * present or future, fails with it rather than wait forever.
 */
export class Arrivals<T> {
  private readonly waits = new Map<string, { value: Promise<T>; arrive(value: T): void; fail(error: unknown): void }>();
  private failure: { error: unknown } | undefined;

  readonly arrive = (name: string, value: T): void => this.wait(name).arrive(value);

  /** `name`'s value, once it has arrived. */
  of(name: string): Promise<T> {
    return this.wait(name).value;
  }

  fail(error: unknown): void {
    this.failure ??= { error };
    for (const wait of this.waits.values()) wait.fail(error);
  }

  private wait(name: string) {
    let wait = this.waits.get(name);
    if (!wait) {
      let arrive!: (value: T) => void;
      let fail!: (error: unknown) => void;
      const value = new Promise<T>((resolve, reject) => { arrive = resolve; fail = reject; });
      value.catch(() => undefined); // a wait nobody took up must not be an unhandled rejection
      wait = { value, arrive, fail };
      this.waits.set(name, wait);
      if (this.failure) fail(this.failure.error);
    }
    return wait;
  }
}
