/**
 * The circuit breaker protects an endpoint, not an instance name: after a config with a wrong port
 * has opened the circuit, the corrected config of the same instance runs at once. The open
 * circuit's error says how long it stays open and how to try sooner; its state is in the store,
 * so it outlives the process that opened it.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { useEtcdCli } from '../../harness/cli';

const { dbbackup, etcd, work } = useEtcdCli('cli-breaker');

const backup = (endpoint: string, env: NodeJS.ProcessEnv = {}) =>
  dbbackup(['backup', 'etcd', '--instance', 'breaker', '--config', JSON.stringify({ endpoints: [endpoint], dialTimeoutMs: 300 })], env);

describe('the circuit breaker', () => {
  it('opens for the wrong endpoint only, says how long and how to override, and outlives the process', async () => {
    // Prepare: five runs against a closed port, each in its own process, open its circuit.
    const wrong = 'http://127.0.0.1:1';
    for (let i = 0; i < 5; i += 1) expect((await backup(wrong)).stderr).toContain('[ETCD_UNAVAILABLE]');

    // Act
    const fast = await backup(wrong);
    const corrected = await backup(etcd().clientUrl);
    const overridden = await backup(wrong, { DBBACKUP_CIRCUIT_BREAKER: 'reset' });
    const states = await readdir(path.join(work(), 'store', 'state', 'circuit-breakers', 'etcd', 'breaker'));

    // Assess
    expect(fast.code).toBe(3);
    expect(fast.stderr).toMatch(/circuit breaker for target 'etcd\/[^@']+@http:\/\/127\.0\.0\.1:1' is open after 5 consecutive transient failures; it stays open 60s, failing fast until \S+ \(in \d+s\), then lets one attempt through; to try now: run with DBBACKUP_CIRCUIT_BREAKER=reset \(or delete state\/circuit-breakers\/etcd\/breaker\/\S+\.json from .*\).*\[CIRCUIT_OPEN\]/);
    expect(corrected.code).toBe(0);
    expect(overridden.code).toBe(3);
    expect(overridden.stderr).toContain('[ETCD_UNAVAILABLE]');
    expect(states).toEqual([expect.stringMatching(/^http_127\.0\.0\.1_1-[0-9a-f]{12}\.json$/)]);
  });

  it('refuses an unknown DBBACKUP_CIRCUIT_BREAKER value', async () => {
    const run = await dbbackup(['list'], { DBBACKUP_CIRCUIT_BREAKER: 'off' });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/DBBACKUP_CIRCUIT_BREAKER must be 'reset' \(or unset\); got 'off'/);
  });
});
