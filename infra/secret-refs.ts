/**
 * The secret references of the instances file, against what the stack lets the functions and
 * hosts read: SSM parameters under one path, Secrets Manager secrets under one name prefix.
 */
import { secretRefs, type InstanceConfig } from './instances';

/** Refuses secret references the functions would not be allowed to read. */
export function checkSecretRefs(instances: readonly InstanceConfig[], parameterPrefix: string, secretNamePrefix: string): void {
  for (const instance of instances) {
    for (const ref of [...secretRefs(instance.config), ...secretRefs(instance.drill ?? {})]) {
      const ok = ref.startsWith('ssm:')
        ? ref.slice('ssm:'.length).startsWith(parameterPrefix)
        : secretName(ref.slice('secretsmanager:'.length)).startsWith(secretNamePrefix);
      if (!ok) {
        throw new Error(
          `instance ${instance.engine}/${instance.name}: secret '${ref}' is outside what the functions may read ` +
            `(SSM parameters under '${parameterPrefix}', Secrets Manager names starting '${secretNamePrefix}')`,
        );
      }
    }
  }
}

/** The secret name of a Secrets Manager ref body (`name[#key]` or an ARN). */
export function secretName(body: string): string {
  const withoutKey = body.split('#')[0];
  const arn = /^arn:[^:]+:secretsmanager:[^:]*:[^:]*:secret:(.+)$/.exec(withoutKey);
  return arn ? arn[1] : withoutKey;
}
