/**
 * Validation errors as one line that names every bad field: what a user reads first must say
 * what to fix. Checked with the real drivers' schemas through the registry.
 */
import { z } from 'zod';
import { createRegistry } from '../../../core/driver/create-registry';
import { builtinPlugins } from '../../../drivers';
import { formatIssues } from '../../../core/config/issues';
import { parseInput } from '../../../core/steps/step-deps';
import { restoreRequestSchema } from '../../../core/restore/restore-state';

describe('formatIssues', () => {
  it('puts every problem on one line as <field>: <problem>', () => {
    // Prepare
    const schema = z.strictObject({ port: z.number(), nested: z.object({ user: z.string() }), mode: z.enum(['a', 'b']) });

    // Act
    const parsed = schema.safeParse({ port: '3306', nested: {}, mode: 'c', porrt: 1 });

    // Assess
    expect(parsed.success).toBe(false);
    const line = formatIssues(parsed.error, 'config');
    expect(line).not.toContain('\n');
    expect(line.split('; ')).toEqual(expect.arrayContaining([
      'port: expected number, received string',
      'nested.user: required (expected string)',
      'mode: Invalid option: expected one of "a"|"b"',
      'porrt: unknown field',
    ]));
  });

  it('falls back to the message of an error without issues, on one line', () => {
    expect(formatIssues({ message: 'first\n  second' })).toBe('first second');
  });
});

describe('first line of validation errors', () => {
  it('names the field for an invalid MySQL config and etcd restore target', async () => {
    // Prepare
    const registry = await createRegistry(builtinPlugins());

    // Act + Assess
    expect(() => registry.parseConfig('mysql', { port: '3306', user: 'root' }))
      .toThrow(/^invalid config for engine 'mysql': port: expected number, received string$/);
    expect(() => registry.parseRestoreTarget('etcd', { dataDir: '/d', clientUrl: 'http://127.0.0.1:1' }))
      .toThrow(/^invalid restore target for engine 'etcd': peerUrl: /);
  });

  it('names the field for an invalid restore input', () => {
    expect(() => parseInput(restoreRequestSchema, { backupId: 'latest', target: {}, force: 'yes' }, 'restore request'))
      .toThrow(/^invalid restore request: force: expected boolean, received string$/);
  });
});
