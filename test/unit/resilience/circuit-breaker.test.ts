import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { PermanentError, TransientError } from '../../../core/errors';
import { silentLogger } from '../../../core/logger';
import { circuitStateKey, PersistentCircuitBreaker, type CircuitBreakerOptions } from '../../../core/resilience/circuit-breaker';
import { blobStoreState, fileState, type DurableState } from '../../../core/resilience/durable-state';
import type { BlobStore } from '../../../core/store/blob-store';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function unavailable(): TransientError {
  return new TransientError('connection refused by db1:2379', { code: 'ETCD_UNAVAILABLE', engine: 'etcd' });
}

describe('PersistentCircuitBreaker', () => {
  let dir: string;
  let state: DurableState;
  // Open for a minute unless a case waits for the half-open probe: a case that checks the circuit
  // is open must not find it half-open because a busy machine took the delay to get there.
  const options = (overrides: Partial<CircuitBreakerOptions> = {}): CircuitBreakerOptions => ({
    target: 'etcd/prod', state, failureThreshold: 3, halfOpenAfterMs: 60_000, engine: 'etcd', ...overrides,
  });

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'dbbackup-breaker-'));
    state = fileState(dir);
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('opens after N consecutive transient failures and then fails fast without calling the target', async () => {
    // Prepare
    const breaker = new PersistentCircuitBreaker(options());
    let calls = 0;
    const failing = async () => { calls += 1; throw unavailable(); };

    // Act
    for (let i = 0; i < 3; i++) await expect(breaker.execute(failing)).rejects.toMatchObject({ code: 'ETCD_UNAVAILABLE' });
    const fast = breaker.execute(failing);

    // Assess
    await expect(fast).rejects.toBeInstanceOf(PermanentError); // fails fast: no retry policy waits on an open circuit
    await expect(fast).rejects.toMatchObject({ code: 'CIRCUIT_OPEN', engine: 'etcd' });
    await expect(fast).rejects.toThrow(/target 'etcd\/prod' is open after 3 consecutive transient failures; it stays open 60s, failing fast until \d{4}-\d\d-\d\dT.*ETCD_UNAVAILABLE/);
    expect(calls).toBe(3);
    expect(await breaker.status()).toMatchObject({ state: 'open', consecutiveFailures: 3, lastFailure: { code: 'ETCD_UNAVAILABLE' } });
  });

  it('stays open for a new breaker built from the same durable state, as another process would', async () => {
    // Prepare
    const first = new PersistentCircuitBreaker(options());
    for (let i = 0; i < 3; i++) await first.execute(async () => { throw unavailable(); }).catch(() => undefined);
    const saved = JSON.parse(await readFile(path.join(dir, `${circuitStateKey('etcd/prod')}.json`), 'utf8')) as {
      policy: { ownState: { openedAt: number } };
    };
    let called = false;

    // Act
    const second = new PersistentCircuitBreaker(options({ state: fileState(dir) }));
    const outcome = second.execute(async () => { called = true; return 'reached the database'; });

    // Assess
    await expect(outcome).rejects.toMatchObject({ name: 'PermanentError', code: 'CIRCUIT_OPEN' }); // no retry policy waits on it
    const retryAt = /failing fast until (\S+) /.exec(((await outcome.catch((e: Error) => e)) as Error).message)?.[1];
    expect(retryAt).toBe(new Date(saved.policy.ownState.openedAt + 60_000).toISOString());
    expect(called).toBe(false);
  });

  it('half-opens after the delay: a successful probe from another instance closes the circuit for everyone', async () => {
    // Prepare
    const first = new PersistentCircuitBreaker(options({ halfOpenAfterMs: 300 }));
    for (let i = 0; i < 3; i++) await first.execute(async () => { throw unavailable(); }).catch(() => undefined);
    await expect(new PersistentCircuitBreaker(options({ state: fileState(dir) })).execute(async () => 'too soon')).rejects.toMatchObject({ code: 'CIRCUIT_OPEN' });
    await sleep(350);

    // Act
    const probe = await new PersistentCircuitBreaker(options({ state: fileState(dir), halfOpenAfterMs: 300 })).execute(async () => 'recovered');
    const afterwards = await first.execute(async () => 'normal service');

    // Assess
    expect(probe).toBe('recovered');
    expect(afterwards).toBe('normal service');
    expect(await first.status()).toEqual({ target: 'etcd/prod', state: 'closed', consecutiveFailures: 0 });
  });

  it('re-opens when the half-open probe fails', async () => {
    // Prepare
    const breaker = new PersistentCircuitBreaker(options({ failureThreshold: 1, halfOpenAfterMs: 100 }));
    await breaker.execute(async () => { throw unavailable(); }).catch(() => undefined);
    await sleep(150);
    let calls = 0;

    // Act
    const probe = breaker.execute(async () => { calls += 1; throw unavailable(); });
    await expect(probe).rejects.toMatchObject({ code: 'ETCD_UNAVAILABLE' });
    // Asked through a breaker that stays open a minute: however long the machine took since, it is open again.
    const next = new PersistentCircuitBreaker(options({ state: fileState(dir), failureThreshold: 1 })).execute(async () => { calls += 1; return 'x'; });

    // Assess
    await expect(next).rejects.toMatchObject({ code: 'CIRCUIT_OPEN' });
    expect(calls).toBe(1);
  });

  it('is not tripped by permanent failures (bad input), and writes no state for them', async () => {
    // Prepare
    const breaker = new PersistentCircuitBreaker(options({ failureThreshold: 2 }));
    let calls = 0;

    // Act
    for (let i = 0; i < 4; i++) {
      await expect(breaker.execute(async () => { calls += 1; throw new PermanentError('bad password', { code: 'AUTH' }); }))
        .rejects.toMatchObject({ code: 'AUTH' });
    }
    const unknown = breaker.execute(async () => { calls += 1; throw new Error('a bug'); });
    await expect(unknown).rejects.toMatchObject({ name: 'PermanentError', code: 'UNKNOWN', engine: 'etcd' });
    const result = await breaker.execute(async () => { calls += 1; return 'fine'; });

    // Assess
    expect(result).toBe('fine');
    expect(calls).toBe(6);
    expect(await readdir(dir)).toEqual([]);
  });

  it('counts only consecutive failures: a success in between resets the count', async () => {
    // Prepare
    const breaker = new PersistentCircuitBreaker(options({ failureThreshold: 2 }));
    const fail = async () => { throw unavailable(); };

    // Act
    await breaker.execute(fail).catch(() => undefined);
    await breaker.execute(async () => 'ok');
    await breaker.execute(fail).catch(() => undefined);
    const status = await breaker.status();

    // Assess
    expect(status).toMatchObject({ state: 'closed', consecutiveFailures: 1 });
  });

  it('classifies native errors with the mapper, so network errors trip it', async () => {
    // Prepare
    const breaker = new PersistentCircuitBreaker(options({ failureThreshold: 2, mapError: () => undefined }));
    const reset = async () => { throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }); };

    // Act
    await expect(breaker.execute(reset)).rejects.toMatchObject({ name: 'TransientError', code: 'NETWORK' });
    await expect(breaker.execute(reset)).rejects.toMatchObject({ name: 'TransientError', code: 'NETWORK' });
    const fast = breaker.execute(reset);

    // Assess
    await expect(fast).rejects.toMatchObject({ code: 'CIRCUIT_OPEN' });
  });

  it('says how long it stays open and how to try sooner, and reset() closes it for every process', async () => {
    // Prepare
    const breaker = new PersistentCircuitBreaker(options({ halfOpenAfterMs: 60_000, override: 'set X=reset' }));
    for (let i = 0; i < 3; i++) await breaker.execute(async () => { throw unavailable(); }).catch(() => undefined);

    // Act
    const fast = await breaker.execute(async () => 'not called').catch((e: unknown) => e as Error);
    await breaker.reset();
    const other = new PersistentCircuitBreaker(options({ state: fileState(dir), halfOpenAfterMs: 60_000 }));
    const after = await other.execute(async () => 'called');

    // Assess
    expect(fast).toMatchObject({ code: 'CIRCUIT_OPEN' });
    expect((fast as Error).message).toMatch(/it stays open 60s, failing fast until \S+ \(in (59|60)s\), then lets one attempt through; to try now: set X=reset; last failure: ETCD_UNAVAILABLE: /);
    expect(after).toBe('called');
    expect(await other.status()).toMatchObject({ state: 'closed', consecutiveFailures: 0 });
  });

  it('fails open, with a warning, when its state is corrupt', async () => {
    // Prepare
    const warnings: string[] = [];
    const breaker = new PersistentCircuitBreaker(options({ logger: { ...silentLogger, warn: (m: string) => { warnings.push(m); } } }));
    await fileState(dir).write(breaker.key, { placeholder: true });
    await writeFile(path.join(dir, `${breaker.key}.json`), '{ not json');

    // Act
    const result = await breaker.execute(async () => 'ran');

    // Assess
    expect(result).toBe('ran');
    expect(warnings).toEqual(['circuit breaker state unreadable; treating the circuit as closed']);
  });
});

describe('circuitStateKey', () => {
  it('sanitizes targets into safe, distinct keys', () => {
    // Act
    const keys = ['mysql://db1:3306/prod', 'mysql://db1:3306_prod', '../../etc/passwd', 'etcd-prod'].map(circuitStateKey);

    // Assess
    expect(keys[3]).toBe('circuit-breakers/etcd-prod');
    for (const key of keys) expect(key).toMatch(/^circuit-breakers\/[A-Za-z0-9_-][A-Za-z0-9._-]*$/);
    expect(new Set(keys).size).toBe(4);
  });
});

describe('blobStoreState', () => {
  it('keeps JSON under state/<key>.json and reads a missing object as undefined', async () => {
    // Prepare
    const objects = new Map<string, string>();
    const store: Pick<BlobStore, 'url' | 'get' | 'put'> = {
      url: 'memory://',
      async get(key) {
        const body = objects.get(key);
        if (body === undefined) throw new PermanentError(`${key} not found`, { code: 'NOT_FOUND' });
        return Readable.from([Buffer.from(body)]);
      },
      async put(key, body) {
        objects.set(key, String(body));
        return { key, size: String(body).length, sha256: '' };
      },
    };
    const durable = blobStoreState(store);

    // Act
    const before = await durable.read('circuit-breakers/etcd-prod');
    await durable.write('circuit-breakers/etcd-prod', { open: true });
    const after = await durable.read('circuit-breakers/etcd-prod');

    // Assess
    expect(before).toBeUndefined();
    expect([...objects.keys()]).toEqual(['state/circuit-breakers/etcd-prod.json']);
    expect(after).toEqual({ open: true });
  });
});
