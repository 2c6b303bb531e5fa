/**
 * Secrets are references, never inline: one rule for the CLI's --config/--target, the state
 * machines' input and the instances file (infra/instances.ts, tested with its own schemes).
 */
import { backupRequestSchema } from '../../../core/backup/backup-state';
import { formatIssues } from '../../../core/config/issues';
import { secretsByReferenceSchema } from '../../../core/config/secret-fields';
import { restoreRequestSchema } from '../../../core/restore/restore-state';

function problems(value: unknown): string | undefined {
  const parsed = secretsByReferenceSchema.safeParse(value);
  return parsed.success ? undefined : formatIssues(parsed.error);
}

describe('secretsByReferenceSchema', () => {
  it('refuses a secret value inline, naming the field, however deep', () => {
    expect(problems({ user: 'root', password: 'hunter2' })).toMatch(/^password: must be a \{ "\$secret": "<scheme>:<ref>" \} reference/);
    expect(problems({ tls: { clientSecret: 'x' }, nodes: [{ apiKey: 12345 }] })).toMatch(/^tls\.clientSecret: .*; nodes\[0\]\.apiKey: /);
  });

  it('accepts references of every scheme, an empty password, and keys that only mention a secret word', () => {
    for (const ref of ['env:DB_PASSWORD', 'file:/run/secrets/db', 'ssm:/db/password', 'secretsmanager:db#password']) {
      expect(problems({ password: { $secret: ref } })).toBeUndefined();
    }
    expect(problems({ user: 'root', password: '' })).toBeUndefined();
    expect(problems({ passwordFile: '/etc/pw', username: 'u' })).toBeUndefined();
  });

  it('refuses a URL carrying a password anywhere, and keeps URLs without one', () => {
    expect(problems({ endpoints: ['http://127.0.0.1:2379', 'http://root:s3cret@127.0.0.1:2380'] })).toMatch(/^endpoints\[1\]: a URL must not carry a password/);
    expect(problems({ password: 'https://u:p@x' })).toMatch(/^password: a URL must not carry a password/);
    expect(problems({ endpoints: ['http://user@127.0.0.1:2379', 'https://etcd.internal:2379'], note: 'mail me@example.com' })).toBeUndefined();
  });

  it('refuses a malformed or unknown reference before anything runs', () => {
    expect(problems({ password: { $secret: 'vault:db' } })).toMatch(/^password\.\$secret: must be "env:<NAME>"/);
    expect(problems({ password: { $secret: 'env:X', extra: 1 } })).toMatch(/^password\.extra: unknown field$/);
  });

  it('refuses a reference in a field that holds no secret, naming it: its value could come back in an output or a log', () => {
    expect(problems({ dataDir: { $secret: 'file:/etc/shadow' } })).toBe('dataDir: a { "$secret": ... } reference is accepted only in a field that holds a secret (password, token, secret, apiKey, …), and this field is none (its name misspelt?)');
    expect(problems({ endpoints: [{ $secret: 'env:URL' }], tls: { ca: { $secret: 'env:CA' } } })).toMatch(/^endpoints\[0\]: a \{ "\$secret".*; tls\.ca: a \{ "\$secret"/);
    expect(problems({ user: { $secret: 'env:USER' }, passwordFile: { $secret: 'env:F' } })).toMatch(/^user: .*; passwordFile: /);
  });

  it("takes etcd's clusterToken for what it is, a cluster's name: given inline, not by reference", () => {
    expect(problems({ clusterToken: 'restore-drill' })).toBeUndefined();
    expect(problems({ clusterToken: { $secret: 'env:T' } })).toMatch(/^clusterToken: a \{ "\$secret"/);
  });

  it('is what backup and restore requests check their config and target with', () => {
    const backup = backupRequestSchema.safeParse({ engine: 'mysql', instance: 'x', config: { user: 'root', password: 'hunter2' } });
    const restore = restoreRequestSchema.safeParse({ backupId: 'latest', target: { dataDir: '/d', password: 's3cret' } });

    expect(backup.success || formatIssues(backup.error)).toMatch(/^config\.password: must be a/);
    expect(restore.success || formatIssues(restore.error)).toMatch(/^target\.password: must be a/);
  });
});
