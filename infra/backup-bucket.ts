/**
 * The store: an S3 bucket no one can make public, readable only over TLS, encrypted with a
 * customer-managed KMS key that rotates, versioned (a deleted or overwritten backup stays
 * recoverable for a while), with its access logged to a second bucket, and lifecycle rules that
 * abort forgotten multipart uploads, expire the host agents' step results and expire old versions.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { AGENT_RESULTS_PREFIX } from '../core/host-runner/agent-result';

/** Lifecycle and retention of the store. */
export interface BackupBucketProps {
  /** Abort multipart uploads not completed after this many days. @default 7 */
  readonly abortIncompleteMultipartUploadDays?: number;
  /** Delete noncurrent (deleted or overwritten) object versions after this many days. @default 30 */
  readonly noncurrentVersionExpirationDays?: number;
  /** Delete the host agents' step results (`state/agent-results/`, read once right away) after this many days. @default 7 */
  readonly agentResultExpirationDays?: number;
  /** Delete server access logs after this many days. @default 365 */
  readonly accessLogExpirationDays?: number;
  /** What happens to the buckets and key when the stack is deleted. @default RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/** The backup bucket, its key and its access-log bucket. */
export class BackupBucket extends Construct {
  /** Where backups and state live (the functions' `s3://<bucket>` store). */
  public readonly bucket: s3.Bucket;
  /** The customer-managed key of `bucket`. */
  public readonly key: kms.Key;
  /** Server access logs of `bucket`. */
  public readonly accessLogs: s3.Bucket;

  constructor(scope: Construct, id: string, props: BackupBucketProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.key = new kms.Key(this, 'Key', {
      description: 'dbbackup: encrypts the backup bucket',
      enableKeyRotation: true,
      removalPolicy,
    });
    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      // Server access log delivery supports SSE-S3 only.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(props.accessLogExpirationDays ?? 365) }],
      removalPolicy,
    });
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'backup-bucket/',
      lifecycleRules: [
        {
          id: 'abort-incomplete-multipart-uploads',
          abortIncompleteMultipartUploadAfter: Duration.days(props.abortIncompleteMultipartUploadDays ?? 7),
        },
        {
          id: 'expire-agent-results',
          prefix: AGENT_RESULTS_PREFIX,
          expiration: Duration.days(props.agentResultExpirationDays ?? 7),
        },
        {
          id: 'expire-noncurrent-versions',
          noncurrentVersionExpiration: Duration.days(props.noncurrentVersionExpirationDays ?? 30),
          expiredObjectDeleteMarker: true,
        },
      ],
      removalPolicy,
    });
  }
}
