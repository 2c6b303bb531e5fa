/**
 * What a process resolved never leaves it in a log line, an error message or a circuit breaker's
 * record, whatever a driver or its client library wrote there (a connection string, an echo).
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../../core/logger';
import { runStep } from '../../../core/steps/step-deps';
import { createTestRuntime, type TestRuntime } from '../../harness/runtime';

const SECRET = 'pw-that-must-not-leak';
let rt: TestRuntime;
const lines: string[] = [];
const capture: Logger = {
  debug: (m, e) => lines.push(JSON.stringify([m, e])),
  info: (m, e) => lines.push(JSON.stringify([m, e])),
  warn: (m, e) => lines.push(JSON.stringify([m, e])),
  error: (m, e) => lines.push(JSON.stringify([m, e])),
};

beforeAll(async () => {
  rt = await createTestRuntime({ env: { DB_PW: SECRET }, logger: capture });
  await rt.deps.resolveSecrets({ password: { $secret: 'env:DB_PW' } });
});
afterAll(() => rt.dispose());

async function allFiles(dir: string): Promise<string> {
  const names = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = names.filter((d) => d.isFile()).map((d) => path.join(d.parentPath, d.name));
  return (await Promise.all(files.map((f) => readFile(f, 'utf8')))).join('\n');
}

describe('resolved secrets', () => {
  it('are masked in the message of an error leaving a step', async () => {
    // Act
    const error = await runStep(undefined, rt.deps, async () => {
      throw new Error(`cannot connect to mysql://root:${SECRET}@db:3306`);
    }).catch((e: Error) => e);

    // Assess
    expect(error).toMatchObject({ name: 'PermanentError', message: 'cannot connect to mysql://root:***@db:3306' });
  });

  it('are masked in log lines, message and fields', () => {
    // Act
    rt.deps.logger.warn(`server said: bad password ${SECRET}`, { dsn: `root:${SECRET}@db`, nested: [{ echo: SECRET }], count: 3 });

    // Assess
    expect(lines.at(-1)).toBe(JSON.stringify(['server said: bad password ***', { dsn: 'root:***@db', nested: [{ echo: '***' }], count: 3 }]));
  });

  it("are masked before a circuit breaker records the failure in the store", async () => {
    // Act
    await rt.deps.guard!('etcd@http://db:2379', async () => {
      throw Object.assign(new Error(`connect ECONNREFUSED (auth ${SECRET})`), { code: 'ECONNREFUSED' });
    }).catch(() => undefined);

    // Assess
    const stored = await allFiles(rt.storeDir);
    expect(stored).toContain('ECONNREFUSED (auth ***)');
    expect(stored).not.toContain(SECRET);
  });
});
