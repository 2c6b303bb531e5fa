/**
 * The least-privilege IAM statements of the step functions' roles (the database hosts' policies,
 * scoped to their own instances, are host-policies.ts):
 *
 * - the store: objects under `backups/*` (read, read+write, or read+delete), `state/*`
 *   (read+write) and, for the functions that need it, the pools `pool/*` (read, or delete), and
 *   listing only those prefixes; the bucket key for SSE-KMS;
 * - the SSM host runner: `ssm:SendCommand` only with the stack's agent-step document and only to
 *   instances tagged `dbbackup:managed=true`; reading and cancelling command invocations;
 * - secrets: SSM parameters under one path and Secrets Manager secrets under one name prefix,
 *   and `kms:Decrypt` only when called through those two services.
 */
import { Arn, ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { BACKUPS_ROOT, DRILL_FILE, MANIFEST_FILE, POOL_ROOT, STATE_ROOT, VERIFICATION_FILE } from '../core/catalog/layout';


/** The tag (key and value) an instance must carry to receive commands. */
export interface ManagedTag {
  readonly key: string;
  readonly value: string;
}

/** Default {@link ManagedTag}: `dbbackup:managed=true`. */
export const DEFAULT_MANAGED_TAG: ManagedTag = { key: 'dbbackup:managed', value: 'true' };

/**
 * How much of `backups/*` a principal may touch. `readWrite`: read, write and delete what makes a
 * backup, never its records (manifest, verification, drill); `readWriteComplete`: that, and write
 * the manifest that completes it (finalize). `readDrills`: read, and write only drill records
 * (`drill.json` beside a manifest). `readVerifications`: read, and write only verification records
 * (`verification.json`: a failed restore records the damage it found, as `verify` would).
 */
export type BackupsAccess = 'read' | 'readWrite' | 'readWriteComplete' | 'readDelete' | 'readDrills' | 'readVerifications';

const READ_OBJECT_ACTIONS = ['s3:GetObject'];
const WRITE_OBJECT_ACTIONS = ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts', 's3:DeleteObject'];
const BACKUPS_ACTIONS: Record<BackupsAccess, { sid: string; actions: string[] }> = {
  read: { sid: 'ReadBackups', actions: READ_OBJECT_ACTIONS },
  readWrite: { sid: 'ReadWriteBackups', actions: [...READ_OBJECT_ACTIONS, ...WRITE_OBJECT_ACTIONS] },
  readWriteComplete: { sid: 'ReadWriteBackups', actions: [...READ_OBJECT_ACTIONS, ...WRITE_OBJECT_ACTIONS] },
  readDelete: { sid: 'ReadDeleteBackups', actions: [...READ_OBJECT_ACTIONS, 's3:DeleteObject'] },
  readDrills: { sid: 'ReadBackups', actions: READ_OBJECT_ACTIONS },
  readVerifications: { sid: 'ReadBackups', actions: READ_OBJECT_ACTIONS },
};

/** The one object of a backup each narrow writer may put beside its manifest, by access. */
const RECORD_WRITES: Partial<Record<BackupsAccess, { sid: string; file: string }>> = {
  readDrills: { sid: 'WriteDrillRecords', file: DRILL_FILE }, // a drill's verdict
  readVerifications: { sid: 'WriteVerificationRecords', file: VERIFICATION_FILE }, // the damage a restore found
};

/**
 * How much of the pools (`pool/*`) a principal may touch: `read` (finalize heads every pooled
 * artifact before it writes a manifest; listing makes a missing one 404, not 403), `delete` (the
 * prune function's sweep: list and delete, never read or write), or `none`.
 */
export type PoolAccess = 'none' | 'read' | 'delete';

const POOL_ACTIONS: Record<Exclude<PoolAccess, 'none'>, { sid: string; actions: string[] }> = {
  read: { sid: 'ReadPools', actions: READ_OBJECT_ACTIONS },
  delete: { sid: 'SweepPools', actions: ['s3:DeleteObject'] },
};

/** Store access: `backups/*` as `backups`, `state/*` read+write, `pool/*` as `pool`, listing those, the bucket key. */
export function storeStatements(bucket: s3.IBucket, key: kms.IKey, backups: BackupsAccess, pool: PoolAccess = 'none'): iam.PolicyStatement[] {
  const objects = (prefix: string) => bucket.arnForObjects(`${prefix}/*`);
  const listed = [BACKUPS_ROOT, STATE_ROOT, ...(pool === 'none' ? [] : [POOL_ROOT])];
  const statements = [
    new iam.PolicyStatement({
      sid: 'ListStorePrefixes',
      actions: ['s3:ListBucket'],
      resources: [bucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': listed.map((prefix) => `${prefix}/*`) } },
    }),
    new iam.PolicyStatement({
      sid: 'ReadWriteState',
      actions: [...READ_OBJECT_ACTIONS, ...WRITE_OBJECT_ACTIONS],
      resources: [objects(STATE_ROOT)],
    }),
    new iam.PolicyStatement({ ...BACKUPS_ACTIONS[backups], resources: [objects(BACKUPS_ROOT)] }),
    ...(pool === 'none' ? [] : [new iam.PolicyStatement({ ...POOL_ACTIONS[pool], resources: [objects(POOL_ROOT)] })]),
    // A record next to the manifest: the one object of a backup a narrow writer puts.
    ...recordWrite(bucket, RECORD_WRITES[backups]),
    // What writes backups may delete what a failed or re-run one left (finalize's strays, cleanup's
    // discard), never what makes a backup complete, verified or restore-verified: only prune removes
    // backups. Nor may it write those records: only finalize writes a manifest, only verify (the CLI),
    // a failed restore's cleanup and the drill record function the others.
    ...(backups === 'readWrite' || backups === 'readWriteComplete' ? [new iam.PolicyStatement({
      sid: 'NeverDeleteCompleteBackups',
      effect: iam.Effect.DENY,
      actions: ['s3:DeleteObject'],
      resources: recordFiles(bucket, BACKUP_RECORD_FILES),
    }), new iam.PolicyStatement({
      sid: 'NeverWriteBackupRecords',
      effect: iam.Effect.DENY,
      actions: ['s3:PutObject'],
      resources: recordFiles(bucket, BACKUP_RECORD_FILES.filter((file) => backups === 'readWrite' || file !== MANIFEST_FILE)),
    })] : []),
    new iam.PolicyStatement({
      sid: 'UseBucketKey',
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: [key.keyArn],
    }),
  ];
  return statements;
}

/** The objects beside each backup's artifacts that say what it is: complete, verified, restore-verified. */
export const BACKUP_RECORD_FILES: readonly string[] = [MANIFEST_FILE, VERIFICATION_FILE, DRILL_FILE];

/** Each of `files` in every backup folder of the bucket (`backups/<any>/<file>`). */
export function recordFiles(bucket: s3.IBucket, files: readonly string[]): string[] {
  return files.map((file) => bucket.arnForObjects(`${BACKUPS_ROOT}/*/${file}`));
}

function recordWrite(bucket: s3.IBucket, record: { sid: string; file: string } | undefined): iam.PolicyStatement[] {
  if (!record) return [];
  return [new iam.PolicyStatement({ sid: record.sid, actions: ['s3:PutObject'], resources: [bucket.arnForObjects(`${BACKUPS_ROOT}/*/${record.file}`)] })];
}

/** What the host runner may send, and where. */
export interface HostRunnerAccessProps {
  /** The one document it may send: the stack's agent-step document. */
  readonly documentName: string;
  /** Tag an instance must carry. @default DEFAULT_MANAGED_TAG */
  readonly managedTag?: ManagedTag;
}

/** SSM Run Command: send only the one document, only to tagged instances; follow and cancel commands. */
export function hostRunnerStatements(scope: Construct, props: HostRunnerAccessProps): iam.PolicyStatement[] {
  const stack = Stack.of(scope);
  const tag = props.managedTag ?? DEFAULT_MANAGED_TAG;
  const documentArn = Arn.format({ service: 'ssm', resource: 'document', resourceName: props.documentName }, stack);
  const instanceArns = [
    Arn.format({ service: 'ec2', resource: 'instance', resourceName: '*' }, stack),
    Arn.format({ service: 'ssm', resource: 'managed-instance', resourceName: '*' }, stack),
  ];
  return [
    new iam.PolicyStatement({ sid: 'SendAgentStepDocument', actions: ['ssm:SendCommand'], resources: [documentArn] }),
    new iam.PolicyStatement({
      sid: 'SendToManagedInstances',
      actions: ['ssm:SendCommand'],
      resources: instanceArns,
      conditions: { StringEquals: { [`ssm:resourceTag/${tag.key}`]: tag.value } },
    }),
    new iam.PolicyStatement({
      sid: 'FollowCommands',
      // These actions support no resource-level permissions.
      actions: ['ssm:GetCommandInvocation', 'ssm:CancelCommand'],
      resources: ['*'],
    }),
  ];
}

/** Where secrets may be read from. */
export interface SecretsAccessProps {
  /** SSM parameter path prefix, e.g. `/dbbackup/` (must start and end with `/`). */
  readonly parameterPrefix: string;
  /** Secrets Manager name prefix, e.g. `dbbackup/`. */
  readonly secretNamePrefix: string;
}

/** Reading secret references: parameters under one path, secrets under one prefix, and their KMS decryption. */
export function secretsStatements(scope: Construct, props: SecretsAccessProps): iam.PolicyStatement[] {
  const stack = Stack.of(scope);
  if (!/^\/(?:[A-Za-z0-9_.-]+\/)*$/.test(props.parameterPrefix)) {
    throw new Error(`parameterPrefix must be a path like /dbbackup/ (start and end with '/'), got '${props.parameterPrefix}'`);
  }
  const parameterArn = Arn.format({ service: 'ssm', resource: 'parameter', resourceName: `${props.parameterPrefix.slice(1)}*` }, stack);
  const secretArn = Arn.format(
    { service: 'secretsmanager', resource: 'secret', resourceName: `${props.secretNamePrefix}*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME },
    stack,
  );
  return [
    new iam.PolicyStatement({ sid: 'ReadParameters', actions: ['ssm:GetParameter'], resources: [parameterArn] }),
    new iam.PolicyStatement({ sid: 'ReadSecrets', actions: ['secretsmanager:GetSecretValue'], resources: [secretArn] }),
    new iam.PolicyStatement({
      sid: 'DecryptSecrets',
      actions: ['kms:Decrypt'],
      resources: [Arn.format({ service: 'kms', resource: 'key', resourceName: '*' }, stack)],
      conditions: { StringEquals: { 'kms:ViaService': [`ssm.${stack.region}.${stack.urlSuffix}`, `secretsmanager.${stack.region}.${stack.urlSuffix}`] } },
    }),
  ];
}

/** Adds `statements` to `principal`'s policy. */
export function addStatements(principal: iam.IGrantable, statements: readonly iam.PolicyStatement[]): void {
  for (const statement of statements) principal.grantPrincipal.addToPrincipalPolicy(statement);
}
