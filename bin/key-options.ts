/**
 * The CLI's options for compressed and encrypted backups (core/crypto/encoding-settings.ts): keys
 * and passphrases by secret reference (`file:/etc/dbbackup/backup.key`, `env:DBBACKUP_PASSPHRASE`,
 * `ssm:/…`), never as values on the command line.
 */
import type { Command } from 'commander';
import { PermanentError } from '../core/errors';

/** `{ "$secret": ref }` for an option's reference, or a clear error for anything else. */
function secretRef(ref: string, option: string): { $secret: string } {
  if (!/^(env:\S+|file:\S+|ssm:\/\S+|secretsmanager:\S+)$/.test(ref)) {
    throw new PermanentError(`${option} takes a secret reference (file:/path, env:NAME, ssm:/name or secretsmanager:id), not the secret itself`, { code: 'INVALID_INPUT' });
  }
  return { $secret: ref };
}

/** Adds the backup side's options: `--compress [level]`, `--encrypt-kms`, `--encrypt-key`, `--encrypt-passphrase`. */
export function withEncodingOptions(command: Command): Command {
  return command
    .option('--compress [level]', 'compress every artifact not compressed already with zstd (level 1-19, default 3)')
    .option('--encrypt-kms <key>', 'encrypt every artifact on the host that takes the backup, data keys from this KMS key (id, ARN or alias)')
    .option('--encrypt-key <ref>', 'encrypt every artifact on this host, data keys wrapped by the 32-byte key this secret reference holds, e.g. file:/etc/dbbackup/backup.key (make one: openssl rand -base64 32)')
    .option('--encrypt-passphrase <ref>', 'encrypt every artifact on this host, data keys wrapped by a key derived from the passphrase this secret reference holds, e.g. env:DBBACKUP_PASSPHRASE');
}

export interface EncodingOptions {
  compress?: string | boolean;
  encryptKms?: string;
  encryptKey?: string;
  encryptPassphrase?: string;
}

/** The options naming a key to encrypt with: the backup's, or `rekey`'s (`--to-…`). */
export interface KeyOptionNames { kms: string; key: string; passphrase: string }

const ENCRYPT: KeyOptionNames = { kms: '--encrypt-kms', key: '--encrypt-key', passphrase: '--encrypt-passphrase' };

/**
 * The `encryption` setting `options` name (at most one way), or undefined; errors name the options
 * as `names` does.
 */
export function encryptionRequest(options: { kms?: string; key?: string; passphrase?: string }, names: KeyOptionNames = ENCRYPT): Record<string, unknown> | undefined {
  const ways = (['kms', 'key', 'passphrase'] as const).filter((way) => options[way] !== undefined);
  if (ways.length > 1) throw new PermanentError(`give one of ${names.kms}, ${names.key} and ${names.passphrase}`, { code: 'INVALID_INPUT' });
  if (options.kms !== undefined) return { kms: options.kms };
  if (options.key !== undefined) return { key: secretRef(options.key, names.key) };
  if (options.passphrase !== undefined) return { passphrase: secretRef(options.passphrase, names.passphrase) };
  return undefined;
}

/** The backup request's `compression` and `encryption` from {@link withEncodingOptions}' options. */
export function encodingRequest(options: EncodingOptions): Record<string, unknown> {
  const encryption = encryptionRequest({ kms: options.encryptKms, key: options.encryptKey, passphrase: options.encryptPassphrase });
  const request: Record<string, unknown> = {};
  if (options.compress !== undefined) {
    const level = options.compress === true ? 3 : /^[0-9]+$/.test(String(options.compress)) ? Number(options.compress) : Number.NaN; // not 0x3, 1e1 or ' 3'
    if (!Number.isInteger(level) || level < 1 || level > 19) throw new PermanentError(`--compress takes a zstd level from 1 to 19, not ${String(options.compress)}`, { code: 'INVALID_INPUT' });
    request.compression = { codec: 'zstd', level };
  }
  if (encryption) request.encryption = encryption;
  return request;
}

/** Adds the restoring side's options: `--key`, `--passphrase` (a backup whose keys KMS wraps needs neither). */
export function withKeyOptions(command: Command): Command {
  return command
    .option('--key <ref>', 'for backups encrypted with a key: the secret reference holding it, e.g. file:/etc/dbbackup/backup.key')
    .option('--passphrase <ref>', 'for backups encrypted with a passphrase: the secret reference holding it, e.g. env:DBBACKUP_PASSPHRASE');
}

/** The restore request's `keys` from {@link withKeyOptions}' options (none given: nothing). */
export function keysRequest(options: { key?: string; passphrase?: string }): Record<string, unknown> {
  const keys = {
    ...(options.key !== undefined ? { key: secretRef(options.key, '--key') } : {}),
    ...(options.passphrase !== undefined ? { passphrase: secretRef(options.passphrase, '--passphrase') } : {}),
  };
  return Object.keys(keys).length > 0 ? { keys } : {};
}

/** The key options of the other side: a backup encrypts with `--encrypt-*`, a restore opens with `--key`/`--passphrase`. */
const OTHER_SIDE: Record<string, string> = {
  '--key': '--encrypt-key', '--passphrase': '--encrypt-passphrase', '--encrypt-key': '--key', '--encrypt-passphrase': '--passphrase',
};

/**
 * A usage error with a hint where the mistake is not where commander saw it: `--compress [level]`
 * before an argument takes the argument as its level (`backup --compress etcd …`); a key option of
 * the other side (`backup --key`, `restore --encrypt-key`).
 */
export function usageHint(text: string, argv: readonly string[]): string {
  const unknown = /unknown option '([^']+)'/.exec(text)?.[1];
  if (unknown !== undefined && OTHER_SIDE[unknown]) {
    return text.replace(/\n?$/, ` (did you mean ${OTHER_SIDE[unknown]}? backups are encrypted with --encrypt-key/--encrypt-passphrase, restores opened with --key/--passphrase)\n`);
  }
  const at = argv.indexOf('--compress');
  const taken = at >= 0 ? argv[at + 1] : undefined;
  if (!/missing required argument/.test(text) || taken === undefined || taken.startsWith('-') || /^\d+$/.test(taken)) return text;
  return text.replace(/\n?$/, ` (--compress took '${taken}' as its level: put --compress after the arguments, or give it a level: --compress 3)\n`);
}
