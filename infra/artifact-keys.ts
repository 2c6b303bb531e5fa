/**
 * Client-side compression and encryption of each instance's artifacts in the stack
 * (core/crypto/encoding-settings.ts): on by default — zstd level 3, and data keys from the stack's
 * KMS key (or the instance's own, by ARN) — off with `"compression": false` / `"encryption": false`.
 *
 * Every data key is bound to its instance by its KMS encryption context (`engine`, `instance`), and
 * each host may use a key only under the contexts of its instances: `kms:GenerateDataKey` for those
 * it backs up (what a backup calls, and `kms:Decrypt` for its pool's key, core/crypto/pool-key.ts),
 * `kms:Decrypt` for those and the ones it may restore. Nothing else in the stack touches data keys:
 * the functions move no artifact bytes.
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
 * A host's use of data keys, per instance under that instance's encryption context only:
 * generating them (with the instance's current key) for those it backs up; unwrapping them for
 * those and the ones it may restore (the hosts of an instance restore it too) — with the stack's key
 * and the instance's own, whatever the current setting, so backups made before encryption was
 * turned off or moved to another key still restore.
 */
export function artifactKeyStatements(
  scope: { own: readonly InstanceConfig[]; restoreOnly: readonly InstanceConfig[] },
  stackKeyArn: string,
  onlyThisHost: Record<string, Record<string, string>>,
): iam.PolicyStatement[] {
  const context = (instance: InstanceConfig) => ({ ...onlyThisHost, StringEquals: { 'kms:EncryptionContext:engine': instance.engine, 'kms:EncryptionContext:instance': instance.name } });
  const generate = scope.own.flatMap((instance, i) => {
    const key = artifactKeyArn(instance, stackKeyArn);
    return key === undefined ? [] : [new iam.PolicyStatement({ sid: `GenerateDataKeys${i}`, actions: ['kms:GenerateDataKey'], resources: [key], conditions: context(instance) })];
  });
  const unwrap = [...scope.own, ...scope.restoreOnly].map((instance, i) => new iam.PolicyStatement({
    sid: `UnwrapDataKeys${i}`,
    actions: ['kms:Decrypt'],
    resources: [...new Set([stackKeyArn, ...(instance.encryption ? [instance.encryption.kms] : [])])],
    conditions: context(instance),
  }));
  return [...generate, ...unwrap];
}
