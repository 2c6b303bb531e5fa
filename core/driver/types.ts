/**
 * The contract every database driver implements. Each method is one stateless step: it may run in a
 * different process (a Lambda, an SSM command on the database host, a CLI) from the step before it,
 * so everything passed between steps is small JSON (ids, paths, keys, positions — never data).
 * Every step must be idempotent: calling it again after a crash must be safe.
 *
 * Errors: throw `TransientError` for what a retry can cure and `PermanentError` for the rest
 * (see core/errors.ts); the plugin's `mapError` translates the engine client's native errors.
 */
import type { BlobStore } from '../store/blob-store';
import type { ArtifactEncoding, KeyOpener, StoredForm } from '../crypto/artifact-encoding';
import type { PoolEncoding } from '../crypto/pool-key';
import type { Logger } from '../logger';
import type { RestoreCleanup, RestoreProgress } from './restore-cleanup';
import type { NodeRecord } from '../catalog/manifest';

/**
 * Version of this contract. A plugin built for another version is refused at load time.
 * 2: core empties the spool before `createSnapshot` and fills the snapshot's envelope (a driver
 * returns its artifacts, consistency point and facts); capabilities are those core acts on
 * (`host-local` is gone; `multi-node` is declared exactly when the driver lists nodes); optional
 * `recordSchemas`; `RestoreContext.chain`. Since added, without a new version because a plugin
 * that does not use them is unaffected: the `incremental` capability with `BackupContext.previous`
 * and `RestoreContext.bases` (an older dbbackup refuses a plugin declaring it as INVALID_MANIFEST);
 * the optional `BackupDriver.checkNodes` (an older dbbackup does not call it); the optional
 * `RecordSchemas.artifactsNamed` (an older dbbackup's `verify` does not ask it).
 */
export const DRIVER_API_VERSION = 2;

/** Anything with zod's `safeParse` shape; plugins may bring their own zod copy. */
export interface SchemaLike<T> {
  safeParse(data: unknown): { success: true; data: T } | { success: false; error: { message: string } };
}

export type Capability =
  | 'backup'
  | 'restore'
  /** Records a consistency point (revision, binlog position, zxid...): a snapshot without one is refused. */
  | 'consistency-point'
  /** Lists the nodes a backup takes (`BackupDriver.listNodes`); without it a backup has one node. */
  | 'multi-node'
  | 'point-in-time'
  /**
   * Takes incremental backups: a backup requested `incremental` is given the newest verified backup
   * of the instance as {@link BackupContext.previous} and records only what changed since; its
   * manifest `extends` that backup, and a restore of it is given the chain as {@link RestoreContext.bases}.
   */
  | 'incremental';

export interface DriverManifest {
  /** Engine name users type: `etcd`, `mysql`, ... Lower-case, unique in a registry. */
  name: string;
  /** Driver version (semver), recorded in every backup manifest. */
  version: string;
  /** The {@link DRIVER_API_VERSION} the driver implements. */
  apiVersion: number;
  capabilities: Capability[];
  description?: string;
  /** Validates an instance's connection config (secrets are references, resolved before use). */
  configSchema: SchemaLike<unknown>;
  /** Validates a restore target description. */
  restoreTargetSchema: SchemaLike<unknown>;
  /**
   * What the driver records of each node in a manifest: its consistency point and its facts. Core
   * checks a snapshot's record against them before anything is uploaded, and a manifest's before a
   * restore uses it (an edited or foreign manifest is refused, naming the field); the driver reads
   * them back through the same schemas, typed. Every built-in declares them.
   */
  recordSchemas?: RecordSchemas;
}

/** The schemas of a node's recorded consistency point and facts (see {@link DriverManifest.recordSchemas}). */
export interface RecordSchemas {
  consistency: SchemaLike<unknown>;
  facts: SchemaLike<unknown>;
  /**
   * The artifact names a node's record names (its facts: tables' chunks, schema files...), each of
   * which its manifest must list: `verify` fails a manifest that lost one, though every artifact it
   * does list is intact (a restore would refuse it). Names as the node's snapshot gave them (a
   * manifest of several nodes lists them under the node's name). Optional.
   */
  artifactsNamed?(record: { consistency: unknown; facts: unknown }): string[];
}

/** One file of a backup, as written to the spool (and later the store). */
export interface ArtifactRef {
  /** Relative name inside the backup, e.g. `snapshot.db`. Plain relative path, no `..`. */
  name: string;
  size: number;
  /** Lower-case hex sha256 of the content. */
  sha256: string;
  /** Set when the artifact was written straight to the store (not to the spool): its object key. */
  key?: string;
  /**
   * Written straight to a store that keeps its own checksum of what it received (S3's CRC32,
   * BlobStore `ObjectInfo.checksum`): that checksum, which the object's head reports while it is
   * still the bytes written — validation compares it instead of reading the object back. Kept
   * between a backup's steps only: the manifest does not carry it.
   */
  storeChecksum?: string;
  /**
   * How it is stored when that is not as its plain bytes (compressed, encrypted:
   * core/crypto/artifact-encoding.ts); `size` and `sha256` above are always the plain bytes'. Set by
   * the artifact path (sinks, upload), never by a driver; a driver copying an artifact keeps it.
   */
  stored?: StoredForm;
}

export interface StoredArtifact extends ArtifactRef {
  /** Object key in the blob store. */
  key: string;
}

export interface ValidationCheck {
  name: string;
  ok: boolean;
  detail?: string;
  /**
   * A failed check that could not look (the target's credentials do not let it read what it
   * checks): it proves nothing either way. A restore failed only by such checks is not proven
   * (`RESTORE_UNPROVEN`, not `RESTORE_INVALID`), and a drill of it records nothing against the backup.
   */
  inconclusive?: boolean;
}

export interface ValidationReport {
  ok: boolean;
  checks: ValidationCheck[];
}

/** JSON-only value, so step results can cross process boundaries. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** What a driver's `createSnapshot` returns: its artifacts, consistency point and facts (core fills the rest: {@link SnapshotRef}). */
export type SnapshotTaken = Pick<SnapshotRef, 'artifacts' | 'consistency' | 'facts' | 'pooledSentBytes'>;

/** A snapshot as the steps pass it on: the driver's {@link SnapshotTaken} in the envelope core fills (core/driver/take-snapshot.ts). */
export interface SnapshotRef {
  backupId: string;
  engine: string;
  instance: string;
  /** Host-local directory holding the artifacts until `cleanup`. */
  spoolDir: string;
  artifacts: ArtifactRef[];
  /** The engine's consistency point (etcd revision, binlog file/pos + GTID, zxid, snapshot tag...). */
  consistency: JsonObject;
  /** Facts restore validation compares against (key counts, digests, row counts...). */
  facts: JsonObject;
  /** Bytes the snapshot itself sent into the instance's pool (objects the pool lacked): a pooled artifact may be an earlier backup's object, so only the driver knows. */
  pooledSentBytes?: number;
  createdAt: string;
}

export interface StepContext {
  backupId: string;
  instance: string;
  logger: Logger;
  signal?: AbortSignal;
}

/** One place a backup is taken from: a member, replica or partition. Single-node engines have one, `default`. */
export interface NodeRef {
  /** Unique within the backup; used in spool paths and artifact keys. */
  name: string;
  /** Where host-local steps run for this node (an SSM managed instance id); absent = wherever the step runs. */
  host?: string;
}

/** The node's place in the store, for drivers that stream artifacts straight there (artifact-sink.ts). */
export type ArtifactDestination = Omit<TransferOptions, 'onProgress'>;

export interface BackupContext<C = unknown> extends StepContext {
  /** Parsed instance config, secrets resolved. */
  config: C;
  /** The node this step works on. */
  node: NodeRef;
  /** Empty-or-partial per-backup directory on this host where artifacts are spooled. */
  spoolDir: string;
  /**
   * Where this node's artifacts belong in the store. A driver may write artifacts there directly
   * (`artifactSink(ctx, true)`), returning them with their `key`; `upload` then only confirms them.
   * Absent when the step has no store (then everything goes through the spool).
   */
  destination?: ArtifactDestination;
  /**
   * Where this instance's pooled artifacts go: its content-addressed pool in the same store
   * (prefix `pool/<engine>/<instance>`, catalog/layout.ts), with the node's rate limit. For files
   * the database never changes once written (SSTable components): `putPooled(ctx.pool, file, name,
   * { spoolDir: ctx.spoolDir })` (pool-upload.ts) uploads one only when the pool lacks its bytes, and
   * returns the artifact with its pool key, which a manifest may list beside the backup's own keys.
   * Pool in `upload` (returning the sum of `putPooled`'s `sentBytes` as {@link UploadResult.sentBytes}),
   * or in `createSnapshot` (its pooled artifacts then count as not sent). Objects no manifest lists
   * are swept by prune after a grace period. Absent exactly when `destination` is (the step has no store).
   */
  pool?: ArtifactDestination;
  /**
   * For an incremental backup (driver capability `incremental`, request `incremental: true`): the
   * backup this one extends — the instance's newest verified backup, full or incremental, its
   * records checked against the driver's record schemas. The driver reads its node's record of it
   * (`nodeRecords`, catalog/manifest.ts) and takes only what changed since. Absent for a full
   * backup (also when an incremental was asked for and the instance has no verified backup yet:
   * it becomes a full one).
   */
  previous?: BackupRecord;
}

export interface TransferOptions {
  store: BlobStore;
  /** Key prefix under which this node's artifacts are stored (no trailing slash): `<backup prefix>/data/<node>`. */
  prefix: string;
  /** Bytes per second; 0 or undefined = unlimited. */
  rateLimit?: number;
  /** Backing up: how new artifacts are stored (compressed, encrypted); absent: as their plain bytes. */
  encoding?: ArtifactEncoding;
  /** Restoring: opens the data keys of encrypted artifacts (downloads need it; pass it on with the store). */
  openKey?: KeyOpener;
  /** A pool (`BackupContext.pool`): how pooled objects are encoded, with the pool's own data key (core/crypto/pool-key.ts), made on first use. */
  poolEncoding?: () => Promise<PoolEncoding | undefined>;
  onProgress?: (transferredBytes: number, totalBytes: number) => void;
}

export interface UploadResult {
  artifacts: StoredArtifact[];
  bytes: number;
  durationMs: number;
  /**
   * Bytes this upload actually sent: less than `bytes` when artifacts were already in the store
   * (written by the snapshot, uploaded by an earlier attempt, or pooled by an earlier backup) or an
   * interrupted upload resumed.
   */
  sentBytes?: number;
}

/** Whether a later process may continue a node's backup that a killed run left. */
export interface ResumeVerdict {
  resumable: boolean;
  /** Shown to the user: what can be kept, or what died with the killed run. */
  reason: string;
}

/**
 * Backup side of a driver. Most drivers extend `SpoolBackupDriver`, which implements `upload` and
 * `cleanup` once for all engines.
 */
export interface BackupDriver<C = unknown> {
  /**
   * What this config connects to, e.g. `10.0.0.5:3306`, `unix:/run/mysqld.sock` or a list of
   * client URLs: the circuit breaker is kept per endpoint, so a corrected config is not held back by
   * failures of a wrong one. Optional: the framework uses a digest of the config (secrets masked).
   */
  endpoint?(config: C): string;
  /**
   * Multi-node engines list the nodes to snapshot (the state machine fans out over them with a Map).
   * Optional: without it the backup has one node, `default`, on the request's host.
   */
  listNodes?(ctx: Omit<BackupContext<C>, 'node' | 'spoolDir'>): Promise<NodeRef[]>;
  /**
   * The hosts the nodes {@link listNodes} returns may be on, read from the config alone (no
   * connection): the stack gives each the instance's backup rights (infra/host-policies.ts).
   * Optional: without it the backup's steps run on the instance's `host` only.
   */
  configHosts?(config: C): string[];
  /**
   * Takes a consistent snapshot and writes its artifacts into `ctx.spoolDir` or, when the driver
   * streams them, straight to `ctx.destination` (artifact-sink.ts), hashing as it writes; returns
   * them with the consistency point and facts. Core empties the spool before (a retry starts
   * clean), fills the envelope (backup id, engine, instance, spool, time: take-snapshot.ts), checks
   * the record against the driver's `recordSchemas`, and removes objects no manifest lists.
   * @throws TransientError when the database is unreachable or busy; PermanentError on auth/config errors.
   */
  createSnapshot(ctx: BackupContext<C>): Promise<SnapshotTaken>;
  /**
   * Checks the snapshot's artifacts, where they were written (spool or store), are intact and
   * usable (engine checksums, headers, sha256 of each artifact). Returns a report; a failed report
   * stops the backup. Read-only, so always idempotent.
   */
  validateSnapshot(ctx: BackupContext<C>, snapshot: SnapshotRef): Promise<ValidationReport>;
  /**
   * Streams every spooled artifact to the store under `options.prefix`, rate limited, re-checking
   * sha256; artifacts already written to the store are only confirmed there (present, same size),
   * and so are spooled ones an earlier attempt already uploaded whole (same size and sha256).
   * Resumable: a restarted upload continues from the last acknowledged part.
   * @throws TransientError on network/throttling; PermanentError when the spool no longer matches its sha256.
   */
  upload(ctx: BackupContext<C>, snapshot: SnapshotRef, options: TransferOptions): Promise<UploadResult>;
  /** Removes the spool and any engine-side snapshot (e.g. Cassandra snapshot tags). Idempotent. */
  cleanup(ctx: BackupContext<C>, snapshot: Pick<SnapshotRef, 'spoolDir' | 'consistency'>): Promise<void>;
  /**
   * Optional capability (resume of a killed backup): may a later process continue this node's
   * backup? `snapshot` is the snapshot the killed run completed — a resume then re-validates its
   * artifacts where they are (spool or store) and uploads only what the store lacks, from the last
   * acknowledged part — or undefined when the run was killed before its snapshot completed.
   * Answer `{ resumable: false, reason }` for what died with the killed process (a logical dump's
   * read view, a server-side backup session); the reason is shown to the user, and a new backup is
   * taken instead. Pure: no I/O, called where the backup is planned (not on the database host).
   * Without it: a completed snapshot is resumable, an interrupted one is not.
   */
  resumeVerdict?(config: C, snapshot: SnapshotRef | undefined): ResumeVerdict;
  /**
   * Optional capability (multi-node engines): checks every node's record (consistency and facts)
   * together when the backup is finalized, before it is marked complete — nodes read at their own
   * points in time may not restore together (a Docstore schema table changed between two servers'
   * snapshots). Throw a PermanentError to refuse the backup: it is then never complete, and its
   * objects go as any failed backup's. Pure: no I/O (a promise it returns is awaited all the same).
   * Without it, nodes are checked one by one only.
   */
  checkNodes?(nodes: NodeRecord[]): void | Promise<void>;
}

/** What a finished backup says about itself; the subset of the manifest a restore needs. */
export interface BackupRecord {
  backupId: string;
  engine: string;
  instance: string;
  consistency: JsonObject;
  facts: JsonObject;
  artifacts: StoredArtifact[];
}

export interface RestoreContext<T = unknown> extends StepContext {
  backup: BackupRecord;
  /** Parsed restore target. */
  target: T;
  /**
   * The node this step works on: one of {@link RestoreDriver.targetNodes} (the first for the
   * validate step), or `default` for a driver without them.
   */
  node: NodeRef;
  /** This node's host-local scratch directory for the restore (downloads land here). */
  spoolDir: string;
  /**
   * Overwrite a non-empty target. Without it, prepareTarget must refuse. The framework lets it
   * through only when every path {@link RestoreDriver.replacedPaths} names lies inside this host's
   * restore roots (core/host/restore-roots.ts).
   */
  force: boolean;
  /** This restore (the same for every step and retry of it): whatever it starts on the host is recorded as its own. */
  restoreId: string;
  /**
   * The restore's rate limit (bytes per second; absent: none): downloads get it through their
   * TransferOptions; a step that sends data by other means honours it too (a loader streaming
   * into the cluster).
   */
  rateLimit?: number;
  /**
   * The later complete backups of the same engine and instance, oldest first, that the restore may
   * read too (a point-in-time restore replays their archived logs), resolved once by the fetch
   * manifest step for a driver with the `point-in-time` capability (when
   * {@link RestoreDriver.readsLaterBackups} says this restore reads them); empty for any other.
   * Drivers never open the catalog themselves.
   */
  chain?: readonly BackupRecord[];
  /**
   * For a restore of an incremental backup: the backups it extends, the full backup first, then
   * each incremental up to (not including) {@link backup}, resolved and checked (complete,
   * verified, every artifact in the store at its size) by the fetch manifest step. The driver
   * applies them in order, then `backup`. Empty for a full backup.
   */
  bases?: readonly BackupRecord[];
}

export interface PreparedTarget {
  /** Engine-specific facts the restore step needs (data dir chosen, member name...). */
  details: JsonObject;
}

export interface RestoreResult {
  /** How to reach the restored database, for validation and for the operator. */
  endpoint: JsonObject;
  bytes: number;
  durationMs: number;
}

/** What a node's {@link RestoreDriver.stage} put in its spool. */
export interface StagedFiles {
  /** Bytes downloaded (or found intact from an earlier attempt). */
  bytes: number;
}

/**
 * Restore side of a driver. A restore runs as steps, each on every node of the target at once
 * (a Map in the state machine), and each waits for the step before it to finish on EVERY node:
 *
 *     prepareTarget → stage? → restore → start? → validateRestore, afterValidation? (once, on the first node)
 *
 * So a target spread over hosts (an ensemble's members on their own machines) is restored as one:
 * no node's target is touched before every node has the backup verified (`stage`), and no node
 * starts a server before every node's data is replaced (`start`).
 */
export interface RestoreDriver<T = unknown> {
  /**
   * The hosts a restore of `target` works on, one node each (members of an ensemble on their own
   * machines): every host step runs once per node, on `node.host`, or on the request's host when
   * a node has none. Optional: without it the restore has one node, `default`, on the request's host.
   * The restore plans its nodes before any host step, with the target's secrets unread: each secret
   * field then holds `SECRET_STAND_IN` (core/secrets.ts), so neither this method, {@link readsLaterBackups}
   * nor the target schema's checks may rest on a secret's value (the host steps get it resolved).
   */
  targetNodes?(target: T): NodeRef[];
  /** What this restore target connects to (see {@link BackupDriver.endpoint}). Optional. */
  endpoint?(target: T): string;
  /**
   * The host paths a forced restore of `target` replaces on `node`'s host (a data dir), `[]` when
   * it replaces none (data sent to a server over the network). A forced restore is refused unless
   * each lies inside that host's restore roots; a driver without this method cannot be forced at all.
   */
  replacedPaths?(target: T, node: NodeRef): string[];
  /**
   * The servers (endpoints, as {@link endpoint} names them) on which a forced restore of `target`
   * replaces data over the network (a logical restore dropping databases). A forced restore is
   * refused unless the host allows each (`DBBACKUP_RESTORE_SERVERS`).
   */
  replacedServers?(target: T): string[];
  /**
   * Whether a restore to `target` reads the later backups ({@link RestoreContext.chain}: a
   * point-in-time replay does). For a drill into a scratch target, `target` is only the settings
   * the drill sets on it (`--target-settings`; undefined without). Optional: without it, every
   * restore by a driver with the `point-in-time` capability is given them — their manifests read,
   * as many as the instance has since the backup restored.
   */
  readsLaterBackups?(target: Partial<T> | undefined): boolean;
  /**
   * Why `backup` cannot serve a restore to `target` when `latest` is asked for (a point-in-time
   * target before the backup was taken), or undefined when it can: `restore latest` passes over
   * such backups to the newest one that can, and names them. `target` as for
   * {@link readsLaterBackups} (the request's, not yet parsed: a driver reads it defensively).
   * Optional: without it, the newest backup is taken.
   */
  passesOver?(backup: BackupRecord, target: Partial<T> | undefined): string | undefined;
  /**
   * Checks the target exists and is empty (refuses a non-empty one with PermanentError
   * `TARGET_NOT_EMPTY` unless `ctx.force`) and makes it ready to receive data. Idempotent and
   * never destructive: with `force`, existing data is replaced by `restore`, only after the backup
   * has been downloaded and verified, so a corrupt backup never costs the target its data.
   */
  prepareTarget(ctx: RestoreContext<T>): Promise<PreparedTarget>;
  /**
   * Optional: downloads into `ctx.spoolDir` and proves (sha256, the engine's own checks) what
   * this node's `restore` needs, touching nothing of the target. Every node stages before any node
   * restores, so a backup that fails to download or verify on one host leaves every host's target
   * as it was. Idempotent (a retry keeps the files that hash as recorded: core/driver/download.ts).
   */
  stage?(ctx: RestoreContext<T>, transfer: TransferOptions): Promise<StagedFiles>;
  /**
   * Applies the backup to this node's part of the target: downloads the artifacts (sha256
   * re-checked, rate limited), or takes what `stage` put in the spool. Idempotent: a retry starts
   * from the prepared target again.
   */
  restore(ctx: RestoreContext<T>, prepared: PreparedTarget, transfer: TransferOptions): Promise<RestoreResult>;
  /**
   * Optional: starts the servers this node's `restore` put in place and returns its result with
   * them. Called on every node at once, only after `restore` finished on every node: members that
   * only form a quorum together wait for each other, and none meets a peer still running on the
   * old data. Idempotent: a retry finds the servers it started.
   */
  start?(ctx: RestoreContext<T>, result: RestoreResult): Promise<RestoreResult>;
  /**
   * Proves the restore worked: compares the restored database with the backup's consistency point
   * and facts (revision, counts, digests). Read-only. Runs once, on the first node's host, with
   * every node's result merged (core/restore/node-results.ts).
   */
  validateRestore(ctx: RestoreContext<T>, result: RestoreResult): Promise<ValidationReport>;
  /**
   * Optional: right after {@link validateRestore}, in the same step and place, lets go of what
   * the restore held back so that nothing would change the target before it was proven (MySQL:
   * its events, created held so none runs before the rows are counted again) — when `report`
   * passed; when it failed, leaves it held. Returns checks added to the report, saying what it
   * did (what it leaves held, a failed check: the target is not yet as the source was); `[]` when
   * nothing was held; throws when the target cannot be reached (the step is retried). Idempotent:
   * a retried step finds what it already let go.
   */
  afterValidation?(ctx: RestoreContext<T>, result: RestoreResult, report: ValidationReport): Promise<ValidationCheck[]>;
  /**
   * After a failed restore, on each node's host: stops what THIS restore started (a member, a
   * server) and says what the target holds now. It recognises its own work by the markers the
   * restore left (same `ctx.spoolDir`) and never stops or removes what another restore or the
   * operator put there. Called with whatever the steps got to, at any point of the restore, any
   * number of times. Throw only when the target could not be looked at (it is then reported
   * `unknown`). Optional: without it the target is `untouched` when the restore step never ran
   * (prepareTarget changes nothing), `restored` when it finished, `unknown` otherwise.
   */
  cleanup?(ctx: RestoreContext<T>, progress: RestoreProgress): Promise<RestoreCleanup>;
  /**
   * Starts an empty target on this host for a restore drill (core/drill/scratch-target.ts).
   * Optional: a drill of a driver without it needs a drill target.
   */
  scratch?: import('../drill/scratch-target').ScratchTargets;
}

/** What a plugin module exports (as `plugin` or default). */
export interface DriverPlugin<C = any, T = any> {
  manifest: DriverManifest;
  backup?: BackupDriver<C>;
  restore?: RestoreDriver<T>;
  /** Maps the engine client's native errors to TransientError/PermanentError. */
  mapError?: (error: unknown) => import('../errors').ClassifiedError | undefined;
}
