/**
 * The execution inputs the CLI sends to the deployed state machines, checked here before anything
 * is sent, as the state machines' first steps would check them: the request's shape, a known
 * engine, the driver's config or target schema (references standing in for their secrets), a host
 * to run on, and only the secret references AWS resolves (SSM Parameter Store, Secrets Manager).
 */
import { backupRequestSchema, type BackupRequest } from '../backup/backup-state';
import { secretSchemesOn } from '../config/platform';
import type { DriverRegistry } from '../driver/registry';
import { PermanentError } from '../errors';
import { restoreRequestSchema, type RestoreRequest } from '../restore/restore-state';
import { secretRefs, withSecretPlaceholders } from '../secrets';
import { parseInput } from '../steps/step-deps';

/** Refuses a secret reference AWS would not resolve (`env:`, `file:`). */
function onlyAwsSecrets(value: unknown, field: string): void {
  const schemes = secretSchemesOn('aws');
  const refused = secretRefs(value).find((ref) => !schemes.some((scheme) => ref.startsWith(`${scheme}:`)));
  if (refused !== undefined) {
    throw new PermanentError(`${field}: secret reference '${refused}' is refused: in AWS secrets come from SSM Parameter Store (ssm:/...) or Secrets Manager (secretsmanager:...)`, { code: 'SECRET_REF_REFUSED' });
  }
}

/** In AWS host steps run through SSM: the request must name the host (the request schema checks it is a managed instance id). */
function checkHost(host: string | undefined, what: string): void {
  if (!host) throw new PermanentError(`${what} in AWS runs on a host: give its SSM managed instance id (--host i-…)`, { code: 'INVALID_INPUT' });
}

/** The backup state machine's input, checked. */
export function remoteBackupInput(request: unknown, registry: DriverRegistry): BackupRequest {
  const input = parseInput(backupRequestSchema, request, 'backup request');
  checkHost(input.host, 'a backup');
  const plugin = registry.get(input.engine);
  parseInput(plugin.manifest.configSchema, withSecretPlaceholders(input.config), `${input.engine} config`);
  onlyAwsSecrets(input.config, 'config');
  onlyAwsSecrets(input.encryption, 'encryption');
  return input;
}

/** The restore state machine's input (a restore, or a drill), checked. */
export function remoteRestoreInput(request: unknown, registry: DriverRegistry): RestoreRequest {
  const input = parseInput(restoreRequestSchema, request, 'restore request');
  checkHost(input.host, 'a restore');
  if (input.engine) registry.get(input.engine);
  if (input.backupId === 'latest' && !(input.engine && input.instance)) {
    throw new PermanentError('restoring `latest` needs engine and instance', { code: 'INVALID_INPUT' });
  }
  const target = input.target && { ...input.target, ...input.drill?.targetSettings };
  if (target && input.engine) parseInput(registry.get(input.engine).manifest.restoreTargetSchema, withSecretPlaceholders(target), `${input.engine} restore target`);
  onlyAwsSecrets({ target: input.target, drill: input.drill }, 'target');
  return input;
}
