/**
 * Least privilege in the synthesized stack (no bundling, cdk-nag applied): each database host gets
 * a policy of its own that reaches only its instances' backups, state and secrets, holds only for
 * that host's credentials, and can never delete a backup or complete one; the functions resolve
 * secrets only where a step does, and no function carries a spool-sized /tmp.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Stack } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { buildApp, type BuiltApp } from '../../../infra/build-app';
import type { InstanceInput } from '../../../infra/instances';

const MAIN_HOST = 'i-0aaaaaaaaaaaaaaaa';
const SHOP_HOST = 'mi-0bbbbbbbbbbbbbbbb';
const SCRATCH_HOST = 'i-0cccccccccccccccc';
/** The hosts of a ZooKeeper ensemble's other two members, named only in its config. */
const ZK_HOST = 'i-0ffffffffffffffff';
const ZK_MEMBER_HOSTS = ['i-0dddddddddddddddd', 'i-0eeeeeeeeeeeeeeee'];
const INSTANCES: InstanceInput[] = [
  {
    name: 'main', engine: 'etcd', host: MAIN_HOST, restoreHosts: [SCRATCH_HOST],
    config: { endpoints: ['https://etcd-0:2379'], username: 'backup', password: { $secret: 'ssm:/dbbackup/etcd/main/password' } },
    schedule: 'cron(0 3 * * ? *)', rpoHours: 26, retention: { keepLast: 7 },
  },
  {
    name: 'shop', engine: 'mysql', host: SHOP_HOST,
    config: { host: 'db', user: 'backup', password: { $secret: 'secretsmanager:dbbackup/shop#password' } },
    schedule: 'rate(6 hours)', rpoHours: 8, retention: { maxAgeDays: 14 },
  },
  {
    name: 'coord', engine: 'zookeeper', host: ZK_HOST,
    config: { members: [{ address: '10.0.1.11:2181', host: ZK_HOST }, ...ZK_MEMBER_HOSTS.map((host, i) => ({ address: `10.0.1.${12 + i}:2181`, host }))] },
    schedule: 'rate(6 hours)', rpoHours: 8, retention: { keepLast: 7 },
  },
];

interface Statement { Sid?: string; Effect: 'Allow' | 'Deny'; Action: string | string[]; Resource: string | string[]; Condition?: Record<string, Record<string, unknown>> }

const outdir = mkdtempSync(path.join(os.tmpdir(), 'dbbackup-cdk-hosts-'));
let built: BuiltApp;
beforeAll(() => {
  built = buildApp({ instances: INSTANCES, skipBundling: true, appProps: { outdir } });
});
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

/** CloudFormation values as plain strings: `Fn::Join` joined, a reference as `<LogicalId>`. */
function flat(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(flat);
  if (value === null || typeof value !== 'object') return value;
  const v = value as Record<string, unknown>;
  if ('Fn::Join' in v) return ((v['Fn::Join'] as [string, unknown[]])[1]).map((part) => String(flat(part))).join((v['Fn::Join'] as [string])[0]);
  if ('Fn::GetAtt' in v) return `<${(v['Fn::GetAtt'] as string[]).join('.')}>`;
  if ('Ref' in v) return `<${String(v.Ref)}>`;
  return Object.fromEntries(Object.entries(v).map(([k, c]) => [k, flat(c)]));
}

const list = (value: string | string[]): string[] => (Array.isArray(value) ? value : [value]);

function statementsOf(policy: iam.ManagedPolicy | iam.IPolicy | { document: iam.PolicyDocument }): Statement[] {
  const stack = Stack.of(built.stack);
  return (flat(stack.resolve((policy as { document: iam.PolicyDocument }).document.toJSON())) as { Statement: Statement[] }).Statement;
}

function hostStatements(host: string): Statement[] {
  const policy = built.stack.hostPolicies.byHost.get(host);
  if (!policy) throw new Error(`no policy for ${host}`);
  return statementsOf(policy);
}

/** The resources `host` is allowed `action` on. */
function allowed(host: string, action: string): string[] {
  return hostStatements(host).filter((s) => s.Effect === 'Allow' && list(s.Action).includes(action)).flatMap((s) => list(s.Resource));
}

const objects = (key: string): string => `<StoreBucket4FBDE984.Arn>/${key}`;

describe('database host policies', () => {
  it('are one per host named in the instances file, restore-only hosts included; no policy covers every host', () => {
    expect([...built.stack.hostPolicies.byHost.keys()].sort()).toEqual([MAIN_HOST, SCRATCH_HOST, SHOP_HOST, ZK_HOST, ...ZK_MEMBER_HOSTS].sort());
    expect(built.stack.node.tryFindChild('DbHostPolicy')).toBeUndefined();
  });

  it("give the hosts a multi-node instance's config names (a ZooKeeper member's host) that instance's backups, and nothing else", () => {
    for (const host of [ZK_HOST, ...ZK_MEMBER_HOSTS]) {
      expect(allowed(host, 's3:PutObject').filter((r) => r.includes('/backups/'))).toEqual([objects('backups/zookeeper/coord/*')]);
      expect(allowed(host, 's3:GetObject').filter((r) => r.includes('/backups/'))).toEqual([objects('backups/zookeeper/coord/*')]);
    }
  });

  it("reach only the host's own instances' backups: read and write its own, read those it may restore", () => {
    expect(allowed(MAIN_HOST, 's3:GetObject')).toEqual(expect.arrayContaining([objects('backups/etcd/main/*')]));
    expect(allowed(MAIN_HOST, 's3:GetObject').filter((r) => r.includes('/backups/'))).toEqual([objects('backups/etcd/main/*')]);
    expect(allowed(MAIN_HOST, 's3:PutObject').filter((r) => r.includes('/backups/'))).toEqual([objects('backups/etcd/main/*')]);
    expect(allowed(SHOP_HOST, 's3:PutObject').filter((r) => r.includes('/backups/'))).toEqual([objects('backups/mysql/shop/*')]);
    expect(allowed(SCRATCH_HOST, 's3:GetObject').filter((r) => r.includes('/backups/'))).toEqual([objects('backups/etcd/main/*')]);
    expect(allowed(SCRATCH_HOST, 's3:PutObject').filter((r) => r.includes('/backups/'))).toEqual([]);
    const listing = hostStatements(MAIN_HOST).find((s) => list(s.Action).includes('s3:ListBucket'))!;
    expect(listing.Condition!.StringLike['s3:prefix']).toEqual(['backups/etcd/main/*', 'state/circuit-breakers/etcd/main/*', 'pool/etcd/main/*']);
  });

  it("reach only the pools of the host's own instances: list, read and write its own, list and read those it may restore, never delete", () => {
    const pools = (host: string, action: string) => allowed(host, action).filter((r) => r.includes('/pool/'));
    expect(pools(MAIN_HOST, 's3:PutObject')).toEqual([objects('pool/etcd/main/*')]);
    expect(pools(MAIN_HOST, 's3:GetObject')).toEqual([objects('pool/etcd/main/*')]);
    expect(pools(SHOP_HOST, 's3:PutObject')).toEqual([objects('pool/mysql/shop/*')]);
    expect(pools(SCRATCH_HOST, 's3:GetObject')).toEqual([objects('pool/etcd/main/*')]);
    expect(pools(SCRATCH_HOST, 's3:PutObject')).toEqual([]);
    const listing = hostStatements(SCRATCH_HOST).find((s) => list(s.Action).includes('s3:ListBucket'))!;
    expect(listing.Condition!.StringLike['s3:prefix']).toContain('pool/etcd/main/*');
    for (const host of [MAIN_HOST, SHOP_HOST, SCRATCH_HOST]) {
      expect(hostStatements(host)).toContainEqual(expect.objectContaining({ Effect: 'Deny', Action: ['s3:DeleteObject', 's3:DeleteObjectVersion'], Resource: objects('pool/*') }));
    }
  });

  it("reach only the host's own state: its instances' circuit breakers and restore records, its own agent results (write only)", () => {
    expect(allowed(MAIN_HOST, 's3:PutObject').filter((r) => r.includes('/state/'))).toEqual([
      objects('state/circuit-breakers/etcd/main/*'), objects('state/restores/etcd/main/*'), objects(`state/agent-results/${MAIN_HOST}/*`),
    ]);
    expect(allowed(MAIN_HOST, 's3:GetObject').filter((r) => r.includes('/state/'))).toEqual([
      objects('state/circuit-breakers/etcd/main/*'), objects('state/restores/etcd/main/*'),
    ]);
    // A host that may restore an instance hands the restore's records on as its own restores do.
    expect(allowed(SCRATCH_HOST, 's3:PutObject').filter((r) => r.includes('/state/restores/'))).toEqual([objects('state/restores/etcd/main/*')]);
  });

  it("use the data keys of the host's own instances only: generated for those it backs up, unwrapped for those and those it may restore, each under its instance's encryption context and for this host only", () => {
    const dataKeys = (host: string) => hostStatements(host).filter((s) => s.Condition?.StringEquals?.['kms:EncryptionContext:engine'] !== undefined);
    const scoped = (host: string, engine: string, instance: string) => ({
      ArnEquals: { 'ec2:SourceInstanceARN': `arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:instance/${host}` },
      StringEquals: { 'kms:EncryptionContext:engine': engine, 'kms:EncryptionContext:instance': instance },
    });
    const key = '<StoreKey7A3C02BD.Arn>';

    expect(dataKeys(MAIN_HOST)).toEqual([
      expect.objectContaining({ Effect: 'Allow', Action: 'kms:GenerateDataKey', Resource: key, Condition: scoped(MAIN_HOST, 'etcd', 'main') }),
      expect.objectContaining({ Effect: 'Allow', Action: 'kms:Decrypt', Resource: key, Condition: scoped(MAIN_HOST, 'etcd', 'main') }),
    ]);
    expect(dataKeys(SHOP_HOST).map((s) => s.Action)).toEqual(['kms:GenerateDataKey', 'kms:Decrypt']);
    expect(dataKeys(SCRATCH_HOST)).toEqual([expect.objectContaining({ Effect: 'Allow', Action: 'kms:Decrypt', Resource: key, Condition: scoped(SCRATCH_HOST, 'etcd', 'main') })]);
    // Any other use of a KMS key: the bucket key through S3, secrets through SSM and Secrets Manager.
    for (const host of [MAIN_HOST, SHOP_HOST, SCRATCH_HOST]) {
      const others = hostStatements(host).filter((s) => list(s.Action).some((a) => a.startsWith('kms:')) && s.Condition?.StringEquals?.['kms:EncryptionContext:engine'] === undefined);
      expect(others.map((s) => Object.keys(s.Condition?.StringEquals ?? {}))).toEqual(others.map(() => ['kms:ViaService']));
    }
  });

  it('can never delete a backup or write a manifest, verification or drill record, whatever else the role allows', () => {
    for (const host of [MAIN_HOST, SHOP_HOST, SCRATCH_HOST]) {
      const statements = hostStatements(host);
      expect(statements.filter((s) => s.Effect === 'Allow').flatMap((s) => list(s.Action)).filter((a) => /Delete/.test(a))).toEqual([]);
      expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Deny', Action: ['s3:DeleteObject', 's3:DeleteObjectVersion'], Resource: objects('backups/*') }));
      expect(statements).toContainEqual(expect.objectContaining({
        Effect: 'Deny', Action: 's3:PutObject', Resource: [objects('backups/*/manifest.json'), objects('backups/*/verification.json'), objects('backups/*/drill.json')],
      }));
    }
  });

  it("read only the secrets the host's instances reference, the host's own prefix, and the restore prefix of each instance it may restore", () => {
    const arn = (service: string, resource: string) => `arn:<AWS::Partition>:${service}:<AWS::Region>:<AWS::AccountId>:${resource}`;
    expect(allowed(MAIN_HOST, 'ssm:GetParameter')).toEqual([
      arn('ssm', 'parameter/dbbackup/etcd/main/password'), arn('ssm', `parameter/dbbackup/hosts/${MAIN_HOST}/*`), arn('ssm', 'parameter/dbbackup/restore/etcd/main/*'),
    ]);
    expect(allowed(MAIN_HOST, 'secretsmanager:GetSecretValue')).toEqual([arn('secretsmanager', `secret:dbbackup/hosts/${MAIN_HOST}/*`), arn('secretsmanager', 'secret:dbbackup/restore/etcd/main/*')]);
    expect(allowed(SHOP_HOST, 'secretsmanager:GetSecretValue')).toEqual([
      arn('secretsmanager', 'secret:dbbackup/shop-??????'), arn('secretsmanager', `secret:dbbackup/hosts/${SHOP_HOST}/*`), arn('secretsmanager', 'secret:dbbackup/restore/mysql/shop/*'),
    ]);
    // A host that may only restore main reads main's restore credentials, and nothing of the others'.
    expect(allowed(SCRATCH_HOST, 'ssm:GetParameter')).toEqual([arn('ssm', `parameter/dbbackup/hosts/${SCRATCH_HOST}/*`), arn('ssm', 'parameter/dbbackup/restore/etcd/main/*')]);
    // Every member host of the ensemble reads its restore credentials: a target across them resolves on each.
    for (const host of ZK_MEMBER_HOSTS) expect(allowed(host, 'ssm:GetParameter')).toContain(arn('ssm', 'parameter/dbbackup/restore/zookeeper/coord/*'));
  });

  it("hold only for the host's own credentials, so all of them may sit on one shared instance role", () => {
    const arn = (service: string, resource: string) => `arn:<AWS::Partition>:${service}:<AWS::Region>:<AWS::AccountId>:${resource}`;
    for (const [host, key, resource] of [
      [MAIN_HOST, 'ec2:SourceInstanceARN', arn('ec2', `instance/${MAIN_HOST}`)],
      [SHOP_HOST, 'ssm:SourceInstanceARN', arn('ssm', `managed-instance/${SHOP_HOST}`)],
    ]) {
      const allows = hostStatements(host).filter((s) => s.Effect === 'Allow');
      expect(allows.length).toBeGreaterThan(5);
      for (const statement of allows) expect(statement.Condition?.ArnEquals).toEqual({ [key]: resource });
    }
  });
});

describe('step functions', () => {
  it('resolve secrets only where a step uses them (prepare, which connects to the databases): fetch-manifest and drill-start parse targets with their secrets unread, host steps resolve them on the host', () => {
    const withSecrets = built.stack.functions.all()
      .filter(([, fn]) => statementsOf(fn.role!.node.tryFindChild('DefaultPolicy') as iam.Policy).some((s) => list(s.Action).includes('ssm:GetParameter')))
      .map(([id]) => id);
    expect(withSecrets.sort()).toEqual(['backup/prepare']);
  });

  it('carry no spool-sized /tmp, run as DBBACKUP_PLATFORM=aws, and the stack passes cdk-nag', () => {
    const template = built.app.synth().getStackByName(built.stack.stackName).template as { Resources: Record<string, { Type: string; Properties: Record<string, any> }> };
    const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    expect(functions.length).toBeGreaterThan(0);
    for (const fn of functions) {
      expect(fn.Properties.EphemeralStorage).toBeUndefined();
      expect(fn.Properties.Environment.Variables.DBBACKUP_PLATFORM).toBe('aws');
    }
  });
});
