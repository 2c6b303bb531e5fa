/** The instances file: the shipped sample loads, and every malformed field is named with its file. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BUILTIN_DRIVERS } from '../../../drivers';
import { DEFAULT_INSTANCES_FILE, InstancesConfigError, loadInstances, parseInstances, secretRefs } from '../../../infra/instances';

const projectRoot = path.resolve(__dirname, '../../..');

const valid = {
  name: 'main',
  engine: 'etcd',
  config: { endpoints: ['http://127.0.0.1:2379'], username: 'root', password: { $secret: 'ssm:/dbbackup/etcd/main/password' } },
  host: 'i-0123456789abcdef0',
  schedule: 'cron(0 3 * * ? *)',
  rpoHours: 26,
  retention: { keepLast: 7 },
};

function problems(json: unknown): string[] {
  try {
    parseInstances(json, 'instances.json');
  } catch (error) {
    expect(error).toBeInstanceOf(InstancesConfigError);
    // The first line names the file, the field and the problem.
    expect((error as Error).message).toMatch(/^instances\.json is not a valid instances file: \S+: /);
    expect((error as Error).message).not.toContain('\n');
    return [...(error as InstancesConfigError).problems];
  }
  throw new Error('expected the file to be refused');
}

describe('instances file', () => {
  it('ships a sample with one etcd instance whose password is a secret reference', () => {
    const instances = loadInstances(DEFAULT_INSTANCES_FILE, projectRoot);
    expect(instances).toHaveLength(1);
    expect(instances[0]).toMatchObject({ engine: 'etcd', schedule: expect.stringMatching(/^cron\(/), rpoHours: expect.any(Number) });
    expect(secretRefs(instances[0].config)).toEqual([expect.stringMatching(/^ssm:\/dbbackup\//)]);
  });

  it('accepts cron and rate schedules, a hybrid host, restore hosts and a rate limit', () => {
    const parsed = parseInstances(
      { instances: [valid, { ...valid, name: 'second', schedule: 'rate(6 hours)', host: 'mi-0123456789abcdef0', restoreHosts: ['i-0fedcba9876543210'], rateLimit: 1048576 }] },
      'x.json',
    );
    expect(parsed.map((i) => i.name)).toEqual(['main', 'second']);
    expect(parsed[0]).toMatchObject({ restoreHosts: [], retention: { keepLast: 7, schedule: 'rate(1 day)' } });
    expect(parsed[1]).toMatchObject({ host: 'mi-0123456789abcdef0', restoreHosts: ['i-0fedcba9876543210'], rateLimit: 1048576 });
  });

  it('requires the host and a retention, and names what is wrong with them', () => {
    const { host: _, ...hostless } = valid;
    const { retention: __, ...forever } = valid;
    expect(problems({ instances: [hostless] })).toEqual(['instances[0].host: required (expected string)']);
    expect(problems({ instances: [forever] })).toEqual(['instances[0].retention: required (expected object)']);
    expect(problems({ instances: [{ ...valid, retention: {} }] })).toEqual(['instances[0].retention: give keepLast and/or maxAgeDays']);
    expect(problems({ instances: [{ ...valid, retention: { keepLast: 0, schedule: 'daily' } }] })).toEqual([
      'instances[0].retention.keepLast: must be a whole number ≥ 1', expect.stringMatching(/^instances\[0\]\.retention\.schedule: must be an EventBridge expression/),
    ]);
    expect(problems({ instances: [{ ...valid, restoreHosts: ['scratch-db'] }] })).toEqual([expect.stringMatching(/^instances\[0\]\.restoreHosts\[0\]: must be an EC2 instance id/)]);
  });

  it('refuses an incrementalSchedule for an engine whose driver takes no incremental backups, and one that is no EventBridge expression', () => {
    expect(problems({ instances: [{ ...valid, incrementalSchedule: 'rate(6 hours)' }] })).toEqual([
      "instances[0].incrementalSchedule: engine 'etcd' takes no incremental backups (its driver lacks the incremental capability)",
    ]);
    expect(problems({ instances: [{ ...valid, incrementalSchedule: 'hourly' }] })).toContainEqual(expect.stringMatching(/^instances\[0\]\.incrementalSchedule: must be an EventBridge expression/));
  });

  it('compresses and encrypts by default (the stack\'s key), with a KMS key of the instance\'s by ARN, or not at all, and names a key given otherwise', () => {
    const key = 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555';
    const [defaults] = parseInstances({ instances: [valid] }, 'instances.json');
    const [own] = parseInstances({ instances: [{ ...valid, encryption: { kms: key }, compression: { level: 9 } }] }, 'instances.json');
    const [off] = parseInstances({ instances: [{ ...valid, encryption: false, compression: false }] }, 'instances.json');

    expect([defaults.compression, defaults.encryption]).toEqual([{ codec: 'zstd', level: 3 }, undefined]);
    expect([own.compression, own.encryption]).toEqual([{ codec: 'zstd', level: 9 }, { kms: key }]);
    expect([off.compression, off.encryption]).toEqual([false, false]);
    expect(problems({ instances: [{ ...valid, encryption: { kms: 'alias/dbbackup' } }] })).toContainEqual(expect.stringMatching(/^instances\[0\]\.encryption\.kms: must be a KMS key ARN/));
    expect(problems({ instances: [{ ...valid, compression: { level: 30 } }] })).toContainEqual(expect.stringMatching(/^instances\[0\]\.compression\.level: /));
  });

  it('accepts a drill on a host of its own, into a scratch target or a target given, and names what is wrong with one', () => {
    const drill = { schedule: 'cron(0 5 ? * SUN *)', host: 'i-0fedcba9876543210', maxAgeHours: 168 };
    expect(parseInstances({ instances: [{ ...valid, drill }] }, 'instances.json')[0].drill).toEqual(drill);
    const target = { dataDir: '/var/lib/etcd-drill', clientUrl: 'http://127.0.0.1:23790', peerUrl: 'http://127.0.0.1:23800' };
    expect(parseInstances({ instances: [{ ...valid, drill: { ...drill, target } }] }, 'instances.json')[0].drill?.target).toEqual(target);
    expect(problems({ instances: [{ ...valid, drill: { ...drill, schedule: 'weekly', host: 'drill-box', maxAgeHours: 200 } }] })).toEqual([
      expect.stringMatching(/^instances\[0\]\.drill\.schedule: must be an EventBridge expression/),
      expect.stringMatching(/^instances\[0\]\.drill\.host: must be an EC2 instance id/),
      expect.stringMatching(/^instances\[0\]\.drill\.maxAgeHours: must be at most 168/),
    ]);
    expect(problems({ instances: [{ ...valid, drill: { ...drill, target: { dataDir: 'relative' } } }] })).toContainEqual(expect.stringMatching(/^instances\[0\]\.drill\.target\.dataDir: /));
    expect(problems({ instances: [{ ...valid, drill: { ...drill, targetSettings: { password: 'hunter2' } } }] })).toContainEqual(expect.stringMatching(/^instances\[0\]\.drill\.targetSettings\.password: must be a \{ "\$secret"/));
  });

  it('refuses a node host the config names that is no managed instance: the stack could not give it rights', () => {
    const ensemble = { ...valid, engine: 'zookeeper', config: { members: [{ address: '10.0.1.11:2181', host: 'i-0123456789abcdef0' }, { address: '10.0.1.12:2181', host: 'zk-2' }] } };
    expect(problems({ instances: [ensemble] })).toEqual([expect.stringMatching(/^instances\[0\]\.config: names host 'zk-2', which is not an SSM managed instance id/)]);
  });

  it("checks each config against its driver's schema, references standing in for their secrets", () => {
    expect(problems({ instances: [{ ...valid, config: { endpoints: ['ftp://x'], port: 1 } }] })).toEqual([
      'instances[0].config.endpoints[0]: must be an http:// or https:// URL', 'instances[0].config.port: unknown field',
    ]);
    expect(problems({ instances: [{ ...valid, engine: 'mysql', config: { port: '3306', user: 'backup', password: { $secret: 'ssm:/dbbackup/m' } } }] })).toEqual([
      'instances[0].config.port: expected number, received string',
    ]);
    const builtins = BUILTIN_DRIVERS.map((d) => d.plugin.manifest.name).join(', ');
    expect(problems({ instances: [{ ...valid, engine: 'nosuch' }] })).toEqual([
      `instances[0].engine: unknown engine 'nosuch' (the functions carry the built-in drivers: ${builtins})`,
    ]);
  });

  it('names each malformed field', () => {
    expect(problems({ instances: [{ ...valid, schedule: '0 3 * * *' }] })).toEqual([expect.stringMatching(/^instances\[0\]\.schedule: must be an EventBridge expression/)]);
    expect(problems({ instances: [{ ...valid, rpoHours: 0 }] })).toEqual([expect.stringMatching(/^instances\[0\]\.rpoHours: must be at least 1/)]);
    expect(problems({ instances: [{ ...valid, rpoHours: 200 }] })).toEqual([expect.stringMatching(/^instances\[0\]\.rpoHours: must be at most 168/)]);
    expect(problems({ instances: [{ ...valid, host: 'db-1.internal' }] })).toEqual([expect.stringMatching(/^instances\[0\]\.host: must be an EC2 instance id/)]);
    expect(problems({ instances: [{ ...valid, name: '../etc' }] })).toEqual([expect.stringMatching(/^instances\[0\]\.name: /)]);
    expect(problems({ instances: [{ ...valid, extra: true }] })).toEqual(['instances[0].extra: unknown field']);
    expect(problems({ instances: [] })).toEqual(['instances: list at least one instance']);
    expect(problems({ instances: [valid, valid] })).toEqual(['instances[1].name: duplicates instances[0] (etcd/main)']);
  });

  it('refuses plain-text secrets and secret references the functions cannot resolve', () => {
    expect(problems({ instances: [{ ...valid, config: { ...valid.config, password: 'hunter2' } }] })).toEqual([
      expect.stringMatching(/^instances\[0\]\.config\.password: must be a \{ "\$secret": "ssm:\/\.\.\." \} reference/),
    ]);
    // (etcd's schema has no tls or s3 either: those fields are refused as unknown too)
    expect(problems({ instances: [{ ...valid, config: { ...valid.config, tls: { clientSecret: 'x' } } }] })).toEqual(expect.arrayContaining([
      expect.stringMatching(/^instances\[0\]\.config\.tls\.clientSecret: must be a/),
    ]));
    expect(problems({ instances: [{ ...valid, config: { ...valid.config, s3: { secretAccessKey: 'x', access_key: 'y' } } }] })).toEqual(expect.arrayContaining([
      expect.stringMatching(/^instances\[0\]\.config\.s3\.secretAccessKey: must be a/), expect.stringMatching(/^instances\[0\]\.config\.s3\.access_key: must be a/),
    ]));
    expect(problems({ instances: [{ ...valid, config: { ...valid.config, endpoints: [{ $secret: 'ssm:/dbbackup/url' }] } }] })).toEqual(expect.arrayContaining([
      'instances[0].config.endpoints[0]: a { "$secret": ... } reference is accepted only in a field that holds a secret (password, token, secret, apiKey, …), and this field is none (its name misspelt?)',
    ]));
    expect(problems({ instances: [{ ...valid, config: { ...valid.config, password: { $secret: 'env:ETCD_PASSWORD' } } }] })).toEqual([
      expect.stringMatching(/^instances\[0\]\.config\.password\.\$secret: must be "ssm:\/<parameter>" or "secretsmanager:/),
    ]);
    // Not secrets: a user name, a path to a password file.
    expect(problems({ instances: [{ ...valid, config: { ...valid.config, passwordFile: '/etc/pw' } }] })).toEqual(['instances[0].config.passwordFile: unknown field']);
  });

  it('names the file when it is missing or not JSON', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'instances-'));
    expect(() => loadInstances('nope.json', dir)).toThrow(new RegExp(`${path.join(dir, 'nope.json').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is not a valid instances file: cannot be read \\(ENOENT\\)`));
    writeFileSync(path.join(dir, 'bad.json'), '{ "instances": [ ');
    expect(() => loadInstances('bad.json', dir)).toThrow(/bad\.json is not a valid instances file: is not JSON/);
  });
});
