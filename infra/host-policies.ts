/**
 * One managed policy per database host, giving the agent there exactly what its instances need
 * (a host's instances: those it is the `host` of, or whose config names it for a node, e.g. a
 * ZooKeeper member's `host`):
 *
 * - its instances' backups (`backups/<engine>/<instance>/*`): read, write artifacts and run records,
 *   abort its own multipart uploads — never delete (an explicit Deny), never write a
 *   `manifest.json`, `verification.json` or `drill.json` (those say a backup is complete, verified,
 *   restore-verified: only the finalize step, verify and the drill record function write them);
 * - the backups of instances it may restore (`restoreHosts`, and the host of an instance's `drill`): read only;
 * - its instances' pools (`pool/<engine>/<instance>/*`, the objects their backups share): list,
 *   read and write (a backup heads an object before it uploads one) — never delete (an explicit
 *   Deny: only the prune function sweeps a pool); the pools of instances it may restore: list and
 *   read;
 * - its instances' circuit-breaker state (`state/circuit-breakers/<engine>/<instance>/*`), the
 *   records the restore steps on the host hand on to each other (`state/restores/<engine>/<instance>/*`:
 *   prepared target, result, validation; read and write, for the instances it backs up or may
 *   restore) and its own agent results (`state/agent-results/<host>/*`, write only);
 * - the secrets its instances' configs reference (exactly those), those of the drills it runs, anything under its own prefix
 *   (`/dbbackup/hosts/<host>/`, `dbbackup/hosts/<host>/`) for restore targets, and under the restore
 *   prefix of each instance it may restore (`/dbbackup/restore/<engine>/<instance>/`: the credentials
 *   of a target spread over several hosts, which each of them resolves);
 * - the bucket key, through S3 only;
 * - the data keys of its instances' artifacts (artifact-keys.ts): generated for those it backs up,
 *   unwrapped for those and the ones it may restore, each under its instance's encryption context only.
 *
 * Every Allow holds only for credentials of that host (`ec2:SourceInstanceARN`, or
 * `ssm:SourceInstanceARN` for a hybrid `mi-` host), so the policies may all be attached to one
 * instance role that several hosts share, and each host still gets only its own.
 *
 * Why not Object Lock: a completed backup is protected here by hosts having no delete right at all
 * (and the bucket being versioned, so an overwrite keeps the old version for the noncurrent-version
 * window); Object Lock would also bind the prune function, which must delete expired backups.
 */
import { Arn, ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { BACKUPS_ROOT, POOL_ROOT, STATE_ROOT } from '../core/catalog/layout';
import { AGENT_RESULTS_PREFIX } from '../core/host-runner/agent-result';
import { RESTORES_ROOT } from '../core/restore/restore-records';
import { backupHosts, secretRefs, type InstanceConfig } from './instances';
import { secretName } from './secret-refs';
import { BACKUP_RECORD_FILES, recordFiles } from './iam-statements';
import { artifactKeyStatements } from './artifact-keys';

/** Where a host's own secrets (restore targets' credentials) live, under the stack's prefixes. */
export function hostSecretPrefixes(host: string, prefixes: { parameterPrefix: string; secretNamePrefix: string }): { parameter: string; secret: string } {
  return { parameter: `${prefixes.parameterPrefix}hosts/${host}/`, secret: `${prefixes.secretNamePrefix}hosts/${host}/` };
}

/**
 * Where the credentials of an instance's restore targets live when every host that may restore it
 * must read them (a target spread over several hosts resolves its secrets on each).
 */
export function restoreSecretPrefixes(instance: Pick<InstanceConfig, 'engine' | 'name'>, prefixes: { parameterPrefix: string; secretNamePrefix: string }): { parameter: string; secret: string } {
  const tail = `restore/${instance.engine}/${instance.name}/`;
  return { parameter: `${prefixes.parameterPrefix}${tail}`, secret: `${prefixes.secretNamePrefix}${tail}` };
}

export interface HostPoliciesProps {
  readonly instances: readonly InstanceConfig[];
  readonly bucket: s3.IBucket;
  readonly key: kms.IKey;
  /** SSM parameter path of the stack's secrets, e.g. `/dbbackup/`. */
  readonly parameterPrefix: string;
  /** Secrets Manager name prefix of the stack's secrets, e.g. `dbbackup/`. */
  readonly secretNamePrefix: string;
  /** What every host needs besides its own instances (downloading the agent bundle). */
  readonly commonStatements?: readonly iam.PolicyStatement[];
}

/** The instances a host backs up and those it may only restore. */
export interface HostScope {
  readonly own: readonly InstanceConfig[];
  readonly restoreOnly: readonly InstanceConfig[];
}

/** The managed policies, one per host named in the instances file. */
export class HostPolicies extends Construct {
  /** Policies by host (instance id). */
  public readonly byHost: ReadonlyMap<string, iam.ManagedPolicy>;
  /** What each host's policy covers. */
  public readonly scopes: ReadonlyMap<string, HostScope>;

  constructor(scope: Construct, id: string, props: HostPoliciesProps) {
    super(scope, id);
    const byHost = new Map<string, iam.ManagedPolicy>();
    this.scopes = scopesByHost(props.instances);
    for (const [host, hostScope] of this.scopes) {
      byHost.set(host, new iam.ManagedPolicy(this, host, {
        description: `dbbackup: attach to the instance role of database host ${host} (its own instances' backups, state and secrets)`,
        statements: [...hostStatements(this, host, hostScope, props), ...(props.commonStatements ?? []).map((common) => forHost(this, common, host))],
      }));
    }
    this.byHost = byHost;
  }
}

function scopesByHost(instances: readonly InstanceConfig[]): Map<string, HostScope> {
  const scopes = new Map<string, { own: InstanceConfig[]; restoreOnly: InstanceConfig[] }>();
  const of = (host: string) => {
    if (!scopes.has(host)) scopes.set(host, { own: [], restoreOnly: [] });
    return scopes.get(host)!;
  };
  for (const instance of instances) for (const host of backupHosts(instance)) of(host).own.push(instance);
  for (const instance of instances) {
    const own = backupHosts(instance);
    const restoring = [...instance.restoreHosts, ...(instance.drill ? [instance.drill.host] : [])];
    for (const host of new Set(restoring)) if (!own.includes(host)) of(host).restoreOnly.push(instance);
  }
  return scopes;
}

/** The condition that makes an Allow hold only for credentials issued to `host`. */
export function sourceHostCondition(scope: Construct, host: string): Record<string, Record<string, string>> {
  const stack = Stack.of(scope);
  return host.startsWith('mi-')
    ? { ArnEquals: { 'ssm:SourceInstanceARN': Arn.format({ service: 'ssm', resource: 'managed-instance', resourceName: host }, stack) } }
    : { ArnEquals: { 'ec2:SourceInstanceARN': Arn.format({ service: 'ec2', resource: 'instance', resourceName: host }, stack) } };
}

/** A copy of `statement` that holds only for `host`'s credentials. */
function forHost(scope: Construct, statement: iam.PolicyStatement, host: string): iam.PolicyStatement {
  const copy = iam.PolicyStatement.fromJson(statement.toStatementJson());
  copy.addConditions(sourceHostCondition(scope, host));
  return copy;
}

const instancePrefix = (root: string, instance: InstanceConfig): string => `${root}/${instance.engine}/${instance.name}`;

function hostStatements(scope: Construct, host: string, { own, restoreOnly }: HostScope, props: HostPoliciesProps): iam.PolicyStatement[] {
  const stack = Stack.of(scope);
  const onlyThisHost = sourceHostCondition(scope, host);
  const readable = [...own, ...restoreOnly];
  const objects = (prefixes: string[]) => prefixes.map((prefix) => props.bucket.arnForObjects(`${prefix}/*`));
  const backups = (instances: readonly InstanceConfig[]) => instances.map((i) => instancePrefix(BACKUPS_ROOT, i));
  const pools = (instances: readonly InstanceConfig[]) => instances.map((i) => instancePrefix(POOL_ROOT, i));
  const breakers = readable.map((i) => instancePrefix(`${STATE_ROOT}/circuit-breakers`, i));
  const restoreRecords = readable.map((i) => instancePrefix(RESTORES_ROOT, i));
  const statements = [
    new iam.PolicyStatement({
      sid: 'ListOwnPrefixes',
      actions: ['s3:ListBucket'],
      resources: [props.bucket.bucketArn],
      conditions: { ...onlyThisHost, StringLike: { 's3:prefix': [...backups(readable), ...breakers, ...pools(readable)].map((p) => `${p}/*`) } },
    }),
    new iam.PolicyStatement({ sid: 'ReadBackups', actions: ['s3:GetObject'], resources: objects(backups(readable)), conditions: onlyThisHost }),
    new iam.PolicyStatement({ sid: 'ReadPools', actions: ['s3:GetObject'], resources: objects(pools(readable)), conditions: onlyThisHost }),
    new iam.PolicyStatement({
      sid: 'ReadWriteBreakers', actions: ['s3:GetObject', 's3:PutObject'], resources: objects(breakers), conditions: onlyThisHost,
    }),
    new iam.PolicyStatement({
      sid: 'ReadWriteRestoreRecords', actions: ['s3:GetObject', 's3:PutObject'], resources: objects(restoreRecords), conditions: onlyThisHost,
    }),
    new iam.PolicyStatement({
      sid: 'WriteAgentResults', actions: ['s3:PutObject'], resources: [props.bucket.arnForObjects(`${AGENT_RESULTS_PREFIX}${host}/*`)], conditions: onlyThisHost,
    }),
    new iam.PolicyStatement({
      sid: 'UseBucketKeyThroughS3',
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: [props.key.keyArn],
      conditions: { ...onlyThisHost, StringEquals: { 'kms:ViaService': `s3.${stack.region}.${stack.urlSuffix}` } },
    }),
    new iam.PolicyStatement({
      sid: 'NeverDeleteBackups',
      effect: iam.Effect.DENY,
      actions: ['s3:DeleteObject', 's3:DeleteObjectVersion'],
      resources: [props.bucket.arnForObjects(`${BACKUPS_ROOT}/*`)],
    }),
    new iam.PolicyStatement({
      sid: 'NeverDeletePools',
      effect: iam.Effect.DENY,
      actions: ['s3:DeleteObject', 's3:DeleteObjectVersion'],
      resources: [props.bucket.arnForObjects(`${POOL_ROOT}/*`)],
    }),
    new iam.PolicyStatement({
      sid: 'NeverCompleteBackups',
      effect: iam.Effect.DENY,
      actions: ['s3:PutObject'],
      resources: recordFiles(props.bucket, BACKUP_RECORD_FILES),
    }),
    ...secretStatements(scope, host, { own, restoreOnly }, props, onlyThisHost),
    ...artifactKeyStatements({ own, restoreOnly }, props.key.keyArn, onlyThisHost),
  ];
  if (own.length > 0) {
    statements.splice(2, 0, new iam.PolicyStatement({
      sid: 'WriteOwnBackups',
      actions: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
      resources: objects(backups(own)),
      conditions: onlyThisHost,
    }), new iam.PolicyStatement({
      sid: 'WriteOwnPools',
      actions: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
      resources: objects(pools(own)),
      conditions: onlyThisHost,
    }));
  }
  return statements;
}

/**
 * Reading exactly the secrets `own`'s configs reference, the host's own prefix, and the restore
 * prefix of every instance the host may restore.
 */
function secretStatements(
  scope: Construct, host: string, { own, restoreOnly }: HostScope, props: HostPoliciesProps, onlyThisHost: Record<string, Record<string, string>>,
): iam.PolicyStatement[] {
  const stack = Stack.of(scope);
  const drilledHere = [...own, ...restoreOnly].filter((i) => i.drill?.host === host);
  const refs = [...new Set([...own.flatMap((i) => secretRefs(i.config)), ...drilledHere.flatMap((i) => secretRefs(i.drill))])];
  const mine = hostSecretPrefixes(host, props);
  const restorable = [...own, ...restoreOnly].map((instance) => restoreSecretPrefixes(instance, props));
  const parameterArn = (name: string) => Arn.format({ service: 'ssm', resource: 'parameter', resourceName: name.replace(/^\//, '') }, stack);
  const secretArn = (name: string) => Arn.format({ service: 'secretsmanager', resource: 'secret', resourceName: name, arnFormat: ArnFormat.COLON_RESOURCE_NAME }, stack);
  const parameters = refs.filter((r) => r.startsWith('ssm:')).map((r) => parameterArn(r.slice('ssm:'.length)));
  const secrets = refs.filter((r) => r.startsWith('secretsmanager:')).map((r) => {
    const body = r.slice('secretsmanager:'.length).split('#')[0];
    // A name matches the secret's ARN with its random 6-character suffix; a full ARN is taken as it is.
    return body.startsWith('arn:') ? body : secretArn(`${secretName(body)}-??????`);
  });
  return [
    new iam.PolicyStatement({
      sid: 'ReadOwnParameters', actions: ['ssm:GetParameter'], resources: [...parameters, ...[mine, ...restorable].map((p) => parameterArn(`${p.parameter}*`))], conditions: onlyThisHost,
    }),
    new iam.PolicyStatement({
      sid: 'ReadOwnSecrets', actions: ['secretsmanager:GetSecretValue'], resources: [...secrets, ...[mine, ...restorable].map((p) => secretArn(`${p.secret}*`))], conditions: onlyThisHost,
    }),
    new iam.PolicyStatement({
      sid: 'DecryptOwnSecrets',
      actions: ['kms:Decrypt'],
      resources: [Arn.format({ service: 'kms', resource: 'key', resourceName: '*' }, stack)],
      conditions: { ...onlyThisHost, StringEquals: { 'kms:ViaService': [`ssm.${stack.region}.${stack.urlSuffix}`, `secretsmanager.${stack.region}.${stack.urlSuffix}`] } },
    }),
  ];
}
