/**
 * Where things live in a store:
 *
 *     backups/<engine>/<instance>/<backupId>/manifest.json      written last: the backup is complete
 *     backups/<engine>/<instance>/<backupId>/data/<artifact>    the artifacts
 *     backups/<engine>/<instance>/<backupId>/verification.json  result of the latest `verify`
 *     state/...                                                 circuit breakers and other durable state
 *
 * Backup ids start with their UTC creation time to the millisecond, so they sort chronologically
 * (ids without milliseconds, from earlier versions, are still read).
 */
import { randomBytes } from 'node:crypto';
import { PermanentError } from '../errors';

/** The store prefix backups live under. */
export const BACKUPS_ROOT = 'backups';
/** The store prefix of durable state: circuit breakers, host-agent results. */
export const STATE_ROOT = 'state';
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const BACKUP_ID = /^(\d{8}T\d{6})(\d{3})?Z-[0-9a-f]{6,}$/;

/** Refuses engine/instance names that could not be a single key segment. */
export function assertName(kind: 'engine' | 'instance', value: string): void {
  if (!NAME.test(value) || value.includes('..')) {
    throw new PermanentError(`${kind} name '${value}' is invalid: use letters, digits, '.', '_' or '-'`, { code: 'INVALID_NAME' });
  }
}

/** A new sortable backup id, e.g. `20261121T112233456Z-3f9a1c` (UTC, to the millisecond). */
export function newBackupId(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.(\d{3})Z$/, '$1Z');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

/** The creation time encoded in a backup id, or undefined when the id is not ours. */
export function backupIdTime(backupId: string): Date | undefined {
  const match = BACKUP_ID.exec(backupId);
  if (!match) return undefined;
  const s = match[1];
  const ms = match[2] ?? '000';
  return new Date(`${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}T${s.slice(9, 11)}:${s.slice(11, 13)}:${s.slice(13, 15)}.${ms}Z`);
}

export function assertBackupId(backupId: string): void {
  if (!BACKUP_ID.test(backupId)) {
    throw new PermanentError(`'${backupId}' is not a backup id (expected e.g. 20261121T112233456Z-3f9a1c)`, { code: 'INVALID_BACKUP_ID' });
  }
}

export function backupPrefix(engine: string, instance: string, backupId: string): string {
  assertName('engine', engine);
  assertName('instance', instance);
  assertBackupId(backupId);
  return `${BACKUPS_ROOT}/${engine}/${instance}/${backupId}`;
}

export const manifestKey = (prefix: string): string => `${prefix}/manifest.json`;
export const verificationKey = (prefix: string): string => `${prefix}/verification.json`;

/** Splits `backups/<engine>/<instance>/<backupId>/...` into its parts. */
export function parseBackupKey(key: string): { engine: string; instance: string; backupId: string; rest: string } | undefined {
  const parts = key.split('/');
  if (parts.length < 5 || parts[0] !== BACKUPS_ROOT) return undefined;
  const [, engine, instance, backupId, ...rest] = parts;
  return { engine, instance, backupId, rest: rest.join('/') };
}
