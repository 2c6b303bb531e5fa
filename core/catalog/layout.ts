/**
 * Where things live in a store:
 *
 *     backups/<engine>/<instance>/<backupId>/manifest.json      written last: the backup is complete
 *     backups/<engine>/<instance>/<backupId>/data/<artifact>    the artifacts
 *     backups/<engine>/<instance>/<backupId>/verification.json  result of the latest `verify`
 *     pool/<engine>/<instance>/<sha256>                         immutable artifacts shared by the instance's backups
 *     state/...                                                 circuit breakers and other durable state
 *
 * Backup ids start with their UTC creation time to the millisecond, so they sort chronologically
 * (ids without milliseconds, from earlier versions, are still read).
 *
 * The pool is content-addressed: an object's key is the sha256 of its bytes, so a file a later
 * backup finds unchanged (an SSTable component) is uploaded once and listed by every manifest that
 * needs it. A manifest may list its own backup's objects and its own instance's pool objects,
 * nothing else; prune deletes a pool object once no manifest lists it (catalog/pool-sweep.ts).
 */
import { randomBytes } from 'node:crypto';
import { PermanentError } from '../errors';

/** The store prefix backups live under. */
export const BACKUPS_ROOT = 'backups';
/** The store prefix of the content-addressed pools, one per engine/instance. */
export const POOL_ROOT = 'pool';
/** The store prefix of durable state: circuit breakers, host-agent results. */
export const STATE_ROOT = 'state';
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const SHA256 = /^[0-9a-f]{64}$/;
const BACKUP_ID = /^(\d{8}T\d{6})(\d{3})?Z-[0-9a-f]{6,}$/;

/** True when `value` can be an engine or instance name: a single, safe key segment. */
export function isName(value: string): boolean {
  return NAME.test(value) && !value.includes('..');
}

/** Refuses engine/instance names that could not be a single key segment. */
export function assertName(kind: 'engine' | 'instance', value: string): void {
  if (!isName(value)) {
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

/**
 * The folder of a backup whose names were read from the store (not checked: a stray folder's are
 * passed on as they are, as a listing passes on a stray key); {@link backupPrefix} for names given.
 */
export function folderOfBackup(backup: { engine: string; instance: string; backupId: string }): string {
  return `${BACKUPS_ROOT}/${backup.engine}/${backup.instance}/${backup.backupId}`;
}

export const manifestKey = (prefix: string): string => `${prefix}/${MANIFEST_FILE}`;
/** The backup's newest verification (verification.ts), by `verify` or a restore that found damage. */
export const verificationKey = (prefix: string): string => `${prefix}/${VERIFICATION_FILE}`;
/** The backup's newest restore drill (drill-record.ts). */
export const drillKey = (prefix: string): string => `${prefix}/${DRILL_FILE}`;

/** The drill record's file name in a backup's folder. */
export const DRILL_FILE = 'drill.json';

/** The manifest's file name in a backup's folder: written last, it makes the backup complete. */
export const MANIFEST_FILE = 'manifest.json';

/** The verification record's file name in a backup's folder. */
export const VERIFICATION_FILE = 'verification.json';

/** Whether `value` is a backup id (what {@link newBackupId} makes). */
export const isBackupId = (value: string): boolean => BACKUP_ID.test(value);

/**
 * Splits `backups/<engine>/<instance>/<backupId>/...` into its parts; undefined for any other key —
 * one in a folder whose name no backup has (a file put there by hand is no backup of ours: not
 * listed, not pruned).
 */
export function parseBackupKey(key: string): { engine: string; instance: string; backupId: string; rest: string } | undefined {
  const parts = key.split('/');
  if (parts.length < 5 || parts[0] !== BACKUPS_ROOT) return undefined;
  const [, engine, instance, backupId, ...rest] = parts;
  if (!isBackupId(backupId)) return undefined;
  return { engine, instance, backupId, rest: rest.join('/') };
}

/** `pool/<engine>/<instance>`: where the instance's pooled artifacts live (no trailing slash). */
export function poolPrefix(engine: string, instance: string): string {
  assertName('engine', engine);
  assertName('instance', instance);
  return `${POOL_ROOT}/${engine}/${instance}`;
}

/**
 * `pool/<engine>/<instance>/<sha256>`: the pool object holding the bytes that hash to `sha256`.
 * @throws PermanentError `INVALID_NAME` for a bad engine/instance, `INVALID_SHA256` unless `sha256`
 *   is 64 lower-case hex digits.
 */
export function poolKey(engine: string, instance: string, sha256: string): string {
  if (!SHA256.test(sha256)) {
    throw new PermanentError(`'${sha256}' is not a sha256 (expected 64 lower-case hex digits)`, { code: 'INVALID_SHA256' });
  }
  return `${poolPrefix(engine, instance)}/${sha256}`;
}

/** Splits `pool/<engine>/<instance>/<sha256>` into its parts, or undefined when `key` is not a pool object's key. */
export function parsePoolKey(key: string): { engine: string; instance: string; sha256: string } | undefined {
  const parts = key.split('/');
  if (parts.length !== 4 || parts[0] !== POOL_ROOT) return undefined;
  const [, engine, instance, sha256] = parts;
  if (!isName(engine) || !isName(instance) || !SHA256.test(sha256)) return undefined;
  return { engine, instance, sha256 };
}

/**
 * True when `artifact` is stored as an object of its own instance's pool: the object named by its
 * plain bytes' sha256, or — encoded (compressed, encrypted: it has a stored form) — an object of
 * that pool named by a keyed hash (core/crypto/pool-key.ts), whose bytes its stored sha256 proves.
 */
export function isOwnPoolObject(artifact: { key: string; sha256: string; stored?: unknown }, engine: string, instance: string): boolean {
  if (artifact.stored === undefined) return isPoolKeyOf(artifact.key, engine, instance, artifact.sha256);
  const parsed = parsePoolKey(artifact.key);
  return parsed !== undefined && parsed.engine === engine && parsed.instance === instance;
}

/** True when `key` is exactly the pool object of `engine`/`instance` holding the bytes of `sha256`. */
export function isPoolKeyOf(key: string, engine: string, instance: string, sha256: string): boolean {
  const parsed = parsePoolKey(key);
  return parsed !== undefined && parsed.engine === engine && parsed.instance === instance && parsed.sha256 === sha256;
}
