import { setTimeout as sleep } from 'node:timers/promises';
import { allTogether, both, mapLimited, mapLimitedWith } from '../../core/concurrency';
import { PermanentError } from '../../core/errors';

/** Counts the calls running at once and the highest count seen. */
function inFlightGauge() {
  const gauge = { now: 0, most: 0 };
  return {
    gauge,
    async during<R>(work: () => Promise<R>): Promise<R> {
      gauge.now += 1;
      gauge.most = Math.max(gauge.most, gauge.now);
      try {
        return await work();
      } finally {
        gauge.now -= 1;
      }
    },
  };
}

describe('mapLimited', () => {
  it('returns the results in item order, whatever order the calls finish in', async () => {
    // Prepare
    const delays = [30, 5, 20, 1, 10];

    // Act
    const results = await mapLimited(delays, 3, async (ms, index) => {
      await sleep(ms);
      return `${index}:${ms}`;
    });

    // Assess
    expect(results).toEqual(['0:30', '1:5', '2:20', '3:1', '4:10']);
  });

  it('never runs more than the limit at once, and does reach it', async () => {
    // Prepare
    const { gauge, during } = inFlightGauge();

    // Act
    await mapLimited(Array.from({ length: 12 }, (_, i) => i), 3, (i) => during(() => sleep(2 + (i % 4) * 3)));

    // Assess
    expect(gauge.most).toBe(3);
  });

  it('treats a limit below 1 as 1', async () => {
    // Prepare
    const { gauge, during } = inFlightGauge();

    // Act
    await mapLimited([1, 2, 3], 0, () => during(() => sleep(2)));

    // Assess
    expect(gauge.most).toBe(1);
  });

  it('resolves with [] for no items without calling fn', async () => {
    // Prepare
    const fn = jest.fn(async () => 1);

    // Act
    const results = await mapLimited([], 4, fn);

    // Assess
    expect(results).toEqual([]);
    expect(fn).not.toHaveBeenCalled();
  });

  it('after the first failure starts nothing new, waits for the running calls, then throws that failure itself', async () => {
    // Prepare
    const first = new PermanentError('item 1 is broken', { code: 'BROKEN' });
    const started: number[] = [];
    let slowFinished = false;

    // Act
    const outcome = mapLimited([0, 1, 2, 3, 4, 5], 2, async (i) => {
      started.push(i);
      if (i === 0) {
        await sleep(50);
        slowFinished = true;
        throw new Error('a later failure of a call already running');
      }
      if (i === 1) throw first;
      return i;
    });

    // Assess: items 2-5 were still queued when item 1 failed, and never started.
    await expect(outcome).rejects.toBe(first);
    expect(slowFinished).toBe(true);
    expect(started).toEqual([0, 1]);
  });
});

describe('mapLimitedWith', () => {
  it('opens no more resources than the limit, reuses them, and closes every one', async () => {
    // Prepare
    let opened = 0;
    const closed: number[] = [];
    const resource = { open: async () => ++opened, close: async (id: number) => { closed.push(id); } };

    // Act
    const used = await mapLimitedWith([1, 2, 3, 4, 5, 6, 7, 8], 3, resource, async (_item, id) => {
      await sleep(2);
      return id;
    });

    // Assess
    expect(opened).toBeLessThanOrEqual(3);
    expect(new Set(used).size).toBe(opened);
    expect(closed.sort()).toEqual(Array.from({ length: opened }, (_, i) => i + 1));
  });

  it('closes what it opened and throws the first failure when opening a resource fails', async () => {
    // Prepare
    const refused = new Error('connection refused');
    let opens = 0;
    const closed: string[] = [];
    const resource = {
      open: async () => {
        opens += 1;
        if (opens === 2) throw refused;
        return `connection ${opens}`;
      },
      close: async (c: string) => { closed.push(c); },
    };

    // Act
    const outcome = mapLimitedWith([1, 2, 3, 4], 2, resource, () => sleep(10));

    // Assess
    await expect(outcome).rejects.toBe(refused);
    expect(closed).toEqual(['connection 1']);
  });

  it('opens nothing for no items', async () => {
    // Prepare
    const resource = { open: jest.fn(async () => 1), close: jest.fn(async () => undefined) };

    // Act
    const results = await mapLimitedWith([], 2, resource, async () => 1);

    // Assess
    expect(results).toEqual([]);
    expect(resource.open).not.toHaveBeenCalled();
  });
});

describe('allTogether', () => {
  it('stops every other job when one fails, and throws its failure only once all have settled', async () => {
    // Prepare: three servers' loads, the second of which fails
    const failed = new PermanentError('server 2 went away', { code: 'X' });
    const settledBeforeThrow: number[] = [];
    const load = (index: number) => async (signal: AbortSignal) => {
      if (index === 1) { await sleep(5); throw failed; }
      await new Promise((resolve) => (signal.aborted ? resolve(undefined) : signal.addEventListener('abort', resolve, { once: true })));
      await sleep(10 * index); // a statement in flight finishing
      settledBeforeThrow.push(index);
      throw new Error('restore aborted');
    };

    // Act
    const outcome = allTogether([load(0), load(1), load(2)]);

    // Assess
    await expect(outcome).rejects.toBe(failed);
    expect(settledBeforeThrow.sort()).toEqual([0, 2]);
  });

  it('resolves with every result, in order', async () => {
    expect(await allTogether([async () => 'a', async () => { await sleep(5); return 'b'; }, async () => 'c'])).toEqual(['a', 'b', 'c']);
  });
});

describe('both', () => {
  it('runs the two at once and resolves with both results', async () => {
    // Prepare
    const { gauge, during } = inFlightGauge();

    // Act
    const results = await both(() => during(async () => { await sleep(20); return 'a'; }), () => during(async () => { await sleep(20); return 2; }));

    // Assess
    expect(results).toEqual(['a', 2]);
    expect(gauge.most).toBe(2);
  });

  it('aborts the other when one fails, and throws the first failure once the other has settled', async () => {
    // Prepare
    const failed = new PermanentError('digest failed', { code: 'X' });
    let otherSawAbort = false;
    let otherDone = false;

    // Act
    const outcome = both(async () => { await sleep(5); throw failed; }, async (signal) => {
      await new Promise((resolve) => (signal.aborted ? resolve(undefined) : signal.addEventListener('abort', resolve, { once: true })));
      otherSawAbort = true;
      await sleep(10);
      otherDone = true;
      throw new Error('stopped');
    });

    // Assess
    await expect(outcome).rejects.toBe(failed);
    expect(otherSawAbort).toBe(true);
    expect(otherDone).toBe(true);
  });

  it('aborts both when the parent signal aborts, and treats a synchronous throw as a failure', async () => {
    // Prepare
    const parent = new AbortController();
    const waitForAbort = (signal: AbortSignal) => new Promise<never>((_, reject) => {
      if (signal.aborted) reject(signal.reason);
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    });

    // Act
    const outcome = both(waitForAbort, waitForAbort, parent.signal);
    parent.abort(new Error('step aborted'));
    const sync = both(() => { throw new Error('sync'); }, async () => 1);

    // Assess
    await expect(outcome).rejects.toThrow('step aborted');
    await expect(sync).rejects.toThrow('sync');
  });
});
