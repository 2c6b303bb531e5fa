/**
 * The process's circuit breakers as the steps use them: one breaker per target (endpoint), whose
 * state is durable, and the operator reset that lets one run try an open circuit again.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { TransientError } from '../../../core/errors';
import { silentLogger } from '../../../core/logger';
import { circuitGuard } from '../../../core/resilience/circuit-guard';
import { fileState, type DurableState } from '../../../core/resilience/durable-state';

let dir: string;
let state: DurableState;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dbbackup-guard-'));
  state = fileState(dir);
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const unavailable = async (): Promise<never> => { throw new TransientError('connection refused', { code: 'MYSQL_UNAVAILABLE' }); };
const options = { logger: silentLogger, failureThreshold: 2, halfOpenAfterMs: 60_000 };

describe('circuitGuard', () => {
  it('keeps one circuit per target: a failing endpoint does not hold back another', async () => {
    // Prepare
    const guard = circuitGuard({ state, ...options, override: (key) => `delete ${key}` });
    for (let i = 0; i < 2; i++) await guard('mysql@127.0.0.1:1', unavailable).catch(() => undefined);

    // Act
    const wrong = guard('mysql@127.0.0.1:1', async () => 'not called');
    const corrected = await guard('mysql@127.0.0.1:3306', async () => 'ran');

    // Assess
    await expect(wrong).rejects.toMatchObject({ code: 'CIRCUIT_OPEN', message: expect.stringMatching(/to try now: delete circuit-breakers\/mysql_127.0.0.1_1-[0-9a-f]{12}/) });
    expect(corrected).toBe('ran');
  });

  it('with resetFirst, lets the first call of this process through an open circuit, once per target', async () => {
    // Prepare: a circuit opened by an earlier process.
    const earlier = circuitGuard({ state, ...options });
    for (let i = 0; i < 2; i++) await earlier('etcd@http://10.0.0.1:2379', unavailable).catch(() => undefined);
    const guard = circuitGuard({ state: fileState(dir), ...options, resetFirst: true });
    let calls = 0;
    const counted = async () => { calls += 1; return unavailable(); };

    // Act: the reset lets two failures through, which open it again; the third call fails fast.
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await guard('etcd@http://10.0.0.1:2379', counted).catch((e: { code: string }) => e.code));

    // Assess
    expect(results).toEqual(['MYSQL_UNAVAILABLE', 'MYSQL_UNAVAILABLE', 'CIRCUIT_OPEN']);
    expect(calls).toBe(2);
  });
});
