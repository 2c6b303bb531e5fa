/**
 * Client-side compression and encryption of each instance's artifacts in the stack
 * (core/crypto/encoding-settings.ts): on by default — zstd level 3, and data keys from the stack's
 * KMS key (or the instance's own, by ARN) — off with `"compression": false` / `"encryption": false`.
 *
 * Every data key is bound to its instance by its KMS encryption context (`engine`, `instance`), and
 * each host may use the key only under the contexts of its instances: `kms:GenerateDataKey` for those
 * it backs up, `kms:Decrypt` for those it backs up (their pools' keys, core/crypto/pool-key.ts) or
 * may restore. Nothing else in the stack touches data keys: the functions move no artifact bytes.
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import type { CompressionSettings, EncryptionSettings } from '../core/crypto/encoding-settings';
import type { InstanceConfig } from './instances';

/** The backup request's `compression` and `encryption` for `instance`, its data keys from `stackKeyArn` unless it names its own key. */
export function encodingInput(instance: InstanceConfig, stackKeyArn: string): { compression?: CompressionSettings; encryption?: EncryptionSettings } {
  return {
    ...(instance.compression !== false ? { compression: instance.compression } : {}),
    ...(instance.encryption !== false ? { encryption: { kms: instance.encryption?.kms ?? stackKeyArn } } : {}),
  };
}

/** The KMS key the data keys of `instance` come from, or undefined when it is not encrypted. */
export function artifactKeyArn(instance: InstanceConfig, stackKeyArn: string): string | undefined {
  return instance.encryption === false ? undefined : instance.encryption?.kms ?? stackKeyArn;
}

/**
 * A host's use of data keys: per instance, its key under that instance's encryption context only;
 * generating them for `own` (backed up there), unwrapping them for `own` and `restoreOnly`.
 */
export function artifactKeyStatements(
  scope: { own: readonly InstanceConfig[]; restoreOnly: readonly InstanceConfig[] },
  stackKeyArn: string,
  onlyThisHost: Record<string, Record<string, string>>,
): iam.PolicyStatement[] {
  const statement = (instance: InstanceConfig, actions: string[]) => {
    const key = artifactKeyArn(instance, stackKeyArn);
    return key === undefined ? [] : [new iam.PolicyStatement({
      sid: `DataKeys${actions.length > 1 ? 'Own' : 'Restore'}${instance.engine}${instance.name}`.replace(/[^A-Za-z0-9]/g, ''),
      actions,
      resources: [key],
      conditions: { ...onlyThisHost, StringEquals: { 'kms:EncryptionContext:engine': instance.engine, 'kms:EncryptionContext:instance': instance.name } },
    })];
  };
  return [
    ...scope.own.flatMap((instance) => statement(instance, ['kms:GenerateDataKey', 'kms:Decrypt'])),
    ...scope.restoreOnly.flatMap((instance) => statement(instance, ['kms:Decrypt'])),
  ];
}
