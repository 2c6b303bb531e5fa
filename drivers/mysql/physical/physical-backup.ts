/**
 * Physical snapshots: mariabackup (MariaDB) or xtrabackup (MySQL) run on the database host with
 * `--stream=xbstream`. The tool's stdout goes through this process in one pass — every xbstream
 * chunk's CRC-32 checked and the backup's metadata files captured on the way (xbstream.ts),
 * sha256 computed — into the artifact sink: straight into the store under the node's prefix (no
 * local copy of the backup at all), or into the spool with `streamToStore: false`. A tool that
 * fails, even after writing its whole stream, fails the write before anything is committed, so no
 * partial or unproven object survives. The binlog position comes from the backup's own
 * `xtrabackup_binlog_info` (the tool's closing stderr line when the file is absent).
 *
 * The prepare check (`physical.prepareCheck`, on by default): the manifest's facts must let a
 * restore prove itself table by table, and they are fixed when the snapshot is taken, so the
 * snapshot step then reads the artifact back from where it was written (the store: exactly what
 * is stored, its sha256 re-checked), extracts it (`mbstream -x`) into a scratch copy in the spool,
 * `--prepare`s the copy (the prepare dry run), starts a throwaway server on it (loopback, free
 * port, `--skip-grant-tables` so no credentials or SELECT grants are needed) and reads every user
 * table's rows and digest, exactly as restore validation will later read them from the restored
 * server; the named views, triggers, routines and events are listed too. The copy is then
 * removed. So the facts describe the backup's own point in time (not the live source, which has
 * moved on), and the prepare dry run has passed on exactly the bytes whose sha256 the artifact
 * records. It needs scratch space for one extracted copy; with `prepareCheck: false` the snapshot
 * keeps nothing on the host, records no table facts (`facts.physical.prepared: false`), and the
 * first `--prepare` is the restore's.
 *
 * `validatePhysicalSnapshot` re-reads the stream where it was written, without extracting it
 * (every chunk's CRC-32, every file complete, and the artifact's sha256 in the same read), checks
 * the backup's own metadata and binlog position against the manifest, and ties the snapshot-time
 * prepare to the artifact's sha256.
 */
import { access, constants, mkdir, rm, statfs } from 'node:fs/promises';
import path from 'node:path';
import { createConnection, type Connection } from 'mysql2/promise';
import { mapLimitedWith } from '../../../core/concurrency';
import { openArtifact, type ArtifactReader, type ArtifactSink } from '../../../core/driver/artifact-sink';
import { resolveInside } from '../../../core/io/resolve-inside';
import type { ArtifactRef, BackupContext, SnapshotRef, ValidationCheck } from '../../../core/driver/types';
import { nameSome } from '../../../core/name-some';
import { PermanentError } from '../../../core/errors';
import {
  backupArgv, checkToolVersion, chooseBackupTool, LockTimer, parseBinlogInfo, parseBinlogPositionLine, parseKeyValues,
  type BackupTool, type BackupToolKind, type BinlogCoordinates,
} from './backup-tool';
import { withClientOptionFile } from '../shared/client-option-file';
import { toolOutput } from '../../../core/host/run-tool';
import { spawnStreamingTool } from '../../../core/host/streaming-tool';
import type { MysqlConfig } from '../config';
import { connectionOptions, openDataConnection, withConnection } from '../shared/connection';
import { isSystemDatabase, PHYSICAL_ARTIFACT, recordedConsistency, recordedFacts, type MysqlConsistency, type MysqlFacts, type TableFacts } from '../shared/layout';
import { startServer } from '../shared/local-server';
import { makePreparedCopy } from './prepared-copy';
import { objectsOnServer, type SchemaObjects } from '../shared/schema-objects';
import { digestTable } from '../shared/table-reader';
import { MYSQL_TOOLS } from '../shared/tool-errors';
import { assertSupportedVersion, parseServerVersion, type Flavor } from '../shared/version';
import { verifyXbstream, XbstreamError, XbstreamVerifier, type XbstreamSummary } from './xbstream';

/** Scratch directory inside the spool (never an artifact; removed before the step returns). */
const SNAPSHOT_WORK = '.physical-snapshot';

/** What a physical snapshot hands to the backup dispatcher. */
export interface PhysicalSnapshot {
  artifacts: ArtifactRef[];
  consistency: MysqlConsistency;
  facts: MysqlFacts;
}

/** `facts.physical` of a physical backup. */
export interface PhysicalFacts {
  [key: string]: unknown;
  tool: BackupToolKind;
  toolVersion: string;
  /**
   * True when the snapshot step extracted, prepared and digested the stream (`physical.prepareCheck`).
   * Absent in backups taken before the option existed, which were always prepared.
   */
  prepared?: boolean;
  /** sha256 of the stream that was extracted, prepared and digested at snapshot time (prepared only). */
  preparedSha256?: string;
  streamBytes: number;
  streamMs: number;
  /** What the stream held, as checked while it was written: chunks, files, bytes of data. */
  chunks?: number;
  files?: number;
  payloadBytes?: number;
  extractMs?: number;
  prepareMs?: number;
  digestMs?: number;
}

/** What the source server says about itself before the backup. */
interface SourceServer {
  flavor: Flavor;
  version: string;
  datadir: string;
  serverId: number;
  logBin: boolean;
}

/** Metadata files of the backup tool, captured from the stream. */
const METADATA = ['xtrabackup_checkpoints', 'xtrabackup_binlog_info', 'backup-my.cnf'];

/** What the prepare check learnt from the prepared copy. */
interface PreparedCopy {
  tables: TableFacts[];
  databases: string[];
  objects: Record<string, SchemaObjects>;
  extractMs: number;
  prepareMs: number;
  digestMs: number;
}

/** Detail of a check the configuration turned off. */
const PREPARE_SKIPPED = 'skipped (physical.prepareCheck=false)';

/**
 * Takes a physical snapshot of the configured server (which must be on this host): streams the
 * backup through `sink` (the store or the spool; CRC-32 of every chunk and sha256 checked on the
 * way), reads the binlog position from the backup, and — with `physical.prepareCheck` — reads the
 * written artifact back to prepare it and compute every user table's rows and digest (see the
 * module comment). On any failure the written artifact is removed.
 * @throws PermanentError `AUTH_FAILED`, `MYSQL_PRIVILEGES`, `MISSING_TOOL`, `UNSUPPORTED_VERSION`,
 *   `TOOL_VERSION_MISMATCH`, `NOT_ON_DATABASE_HOST`, `SNAPSHOT_CORRUPT` (a damaged stream, or no
 *   binlog position), `MYSQL_TOOL_FAILED` (the tool exited non-zero or was killed), `DISK_FULL` (no
 *   room for the prepare check's copy), `CHECKSUM_MISMATCH` (the artifact read back differs);
 *   TransientError `MYSQL_UNAVAILABLE`; the store's errors. Tool failures carry the tool's stderr.
 */
export async function takePhysicalSnapshot(ctx: BackupContext<MysqlConfig>, sink: ArtifactSink): Promise<PhysicalSnapshot> {
  const { config } = ctx;
  const source = await probeSource(config);
  const tool = chooseBackupTool({ flavor: source.flavor, version: source.version }, config.physical.tool);
  const toolVersion = checkToolVersion(tool, await toolOutput(tool.command, ['--version'], { errors: MYSQL_TOOLS }), source.version);
  const datadir = config.physical.datadir ?? source.datadir;
  await access(datadir, constants.R_OK).catch(() => {
    throw new PermanentError(
      `the server's data directory ${datadir} is not readable here: a physical backup runs on the database host (set the node's host, or physical.datadir if the path differs here)`,
      { code: 'NOT_ON_DATABASE_HOST', engine: 'mysql' },
    );
  });

  const work = path.join(ctx.spoolDir, SNAPSHOT_WORK);
  await rm(work, { recursive: true, force: true });
  await mkdir(path.join(work, 'tool'), { recursive: true });
  let artifact: ArtifactRef | undefined;
  try {
    const streamed = await withClientOptionFile(config, ctx.spoolDir, (optionFile) => streamBackup(ctx, tool, sink, backupArgv(tool, {
      optionFile, targetDir: path.join(work, 'tool'), datadir, parallel: config.physical.parallel,
    })));
    artifact = streamed.artifact;
    ctx.logger.info('mysql physical backup: streamed', { ms: streamed.streamMs, bytes: artifact.size, to: sink.where, tool: tool.command });
    const position = binlogPosition(streamed);
    if (source.logBin && !position) {
      throw new PermanentError(`${tool.command} did not record a binlog position although binary logging is on`, { code: 'SNAPSHOT_CORRUPT', engine: 'mysql' });
    }
    const copy = config.physical.prepareCheck ? await prepareCheck(ctx, tool, artifact, work, streamed.stream.payloadBytes) : undefined;
    return {
      artifacts: [artifact],
      consistency: consistencyOf(source, tool, toolVersion, streamed, position),
      facts: factsOf(tool, toolVersion, artifact, streamed, copy),
    };
  } catch (error) {
    if (artifact) await removeArtifact(ctx, artifact);
    throw error;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The backup's binlog position: its `xtrabackup_binlog_info`, else the tool's closing stderr line. */
function binlogPosition(streamed: StreamedBackup): BinlogCoordinates | undefined {
  return parseBinlogInfo(streamed.stream.captured.xtrabackup_binlog_info?.toString('utf8') ?? '') ?? streamed.position;
}

function consistencyOf(
  source: SourceServer, tool: BackupTool, toolVersion: string, streamed: StreamedBackup, position: BinlogCoordinates | undefined,
): MysqlConsistency {
  const { lock } = streamed;
  return {
    flavor: source.flavor,
    serverVersion: source.version,
    ...(position ?? {}),
    lockMs: lock.writeMs ?? 0,
    lock: lock.kind,
    lockMeasured: lock.writeMs !== undefined,
    ...(lock.ddlMs !== undefined ? { ddlLockMs: lock.ddlMs } : {}),
    /** When the point was fixed (commits blocked); at the latest, when the stream ended. */
    snapshotAt: new Date(lock.pointAt ?? streamed.endedAt).toISOString(),
    serverId: source.serverId,
    tool: tool.kind,
    toolVersion,
  };
}

function factsOf(tool: BackupTool, toolVersion: string, artifact: ArtifactRef, streamed: StreamedBackup, copy: PreparedCopy | undefined): MysqlFacts {
  const physical: PhysicalFacts = {
    tool: tool.kind,
    toolVersion,
    prepared: copy !== undefined,
    ...(copy ? { preparedSha256: artifact.sha256 } : {}),
    streamBytes: artifact.size,
    streamMs: streamed.streamMs,
    chunks: streamed.stream.chunks,
    files: streamed.stream.files,
    payloadBytes: streamed.stream.payloadBytes,
    ...(copy ? { extractMs: copy.extractMs, prepareMs: copy.prepareMs, digestMs: copy.digestMs } : {}),
  };
  return {
    mode: 'physical',
    tables: copy?.tables ?? [],
    databases: copy?.databases ?? [],
    schema: [],
    objects: copy?.objects ?? {},
    physical,
  };
}

/**
 * The prepare check: the artifact read back from where it was written, extracted into `work/data`,
 * verified and `--prepare`d ({@link makePreparedCopy}), and its tables digested through a
 * throwaway server.
 * @throws PermanentError `DISK_FULL` when the spool cannot hold the extracted copy,
 *   `CHECKSUM_MISMATCH` when the bytes read back are not the artifact; the tools' errors.
 */
async function prepareCheck(ctx: BackupContext<MysqlConfig>, tool: BackupTool, artifact: ArtifactRef, work: string, payloadBytes: number): Promise<PreparedCopy> {
  const { config } = ctx;
  const copyDir = path.join(work, 'data');
  await assertRoomForCopy(work, payloadBytes);
  const { extractMs, prepareMs } = await makePreparedCopy({
    tool,
    artifact,
    open: () => openArtifact(ctx.spoolDir, artifact, ctx.destination?.store),
    dir: copyDir,
    parallel: config.physical.parallel,
    purpose: 'prepare check of the written snapshot',
    signal: ctx.signal,
  });

  const started = Date.now();
  const digested = await digestPreparedCopy(copyDir, config, ctx.signal);
  const digestMs = Date.now() - started;
  ctx.logger.info('mysql physical backup: prepared and digested', { extractMs, prepareMs, digestMs, tables: digested.tables.length });
  const inMemory = digested.tables.filter((t) => t.engine.toLowerCase() === 'memory');
  if (inMemory.length > 0) {
    ctx.logger.warn('mysql physical backup: MEMORY tables are backed up without their rows (the server keeps them in memory only): they restore empty; a logical backup dumps them', {
      tables: inMemory.map((t) => `${t.database}.${t.table}`),
    });
  }
  return { ...digested, extractMs, prepareMs, digestMs };
}

/** Refuses to extract a copy the file system cannot hold (rather than failing half way). */
async function assertRoomForCopy(dir: string, bytes: number): Promise<void> {
  const space = await statfs(dir);
  const free = Number(space.bavail) * Number(space.bsize);
  if (free < bytes) {
    throw new PermanentError(
      `the prepare check needs room for one extracted copy of the backup (${bytes} bytes) in ${dir}, but only ${free} bytes are free: free space in the spool, or set physical.prepareCheck=false to skip the check`,
      { code: 'DISK_FULL', engine: 'mysql' },
    );
  }
}

/** Removes an artifact of a failed snapshot from wherever it was written (best effort: the failure is what matters). */
async function removeArtifact(ctx: BackupContext<MysqlConfig>, artifact: ArtifactRef): Promise<void> {
  try {
    if (artifact.key !== undefined) await ctx.destination?.store.delete([artifact.key]);
    else await rm(resolveInside(ctx.spoolDir, artifact.name), { force: true });
  } catch (error) {
    ctx.logger.warn('mysql physical backup: could not remove the failed snapshot\'s artifact', { artifact: artifact.key ?? artifact.name, error: (error as Error).message });
  }
}

/**
 * Re-checks a physical snapshot where it was written, reading it once through `reader` (which
 * checks its sha256 on the way) without extracting it: every xbstream chunk checksum and every file
 * complete (`xbstream-integrity`), the backup complete (`xtrabackup_checkpoints` says
 * `full-backuped`: `backup-metadata`), its binlog position the one recorded (`binlog-position`), the
 * snapshot-time `--prepare` run on exactly this artifact (`prepare-dry-run`), and table facts for
 * every configured database (`table-digests`). The last two pass with a detail saying so when the
 * snapshot was taken with `physical.prepareCheck: false`. Never throws for a damaged snapshot.
 */
export async function validatePhysicalSnapshot(ctx: BackupContext<MysqlConfig>, snapshot: SnapshotRef, reader: ArtifactReader): Promise<ValidationCheck[]> {
  const artifact = snapshot.artifacts.find((a) => a.name === PHYSICAL_ARTIFACT);
  if (!artifact) return [{ name: 'xbstream-integrity', ok: false, detail: `${PHYSICAL_ARTIFACT} is not among the artifacts` }];
  const consistency = recordedConsistency(snapshot);
  const facts = recordedFacts(snapshot);
  const physical = facts.physical as PhysicalFacts | undefined;

  const started = Date.now();
  let stream: XbstreamSummary;
  try {
    stream = await verifyXbstream(await reader.open(artifact), new Set(METADATA), ctx.signal);
  } catch (error) {
    return [{ name: 'xbstream-integrity', ok: false, detail: (error as Error).message }];
  }
  return [
    {
      name: 'xbstream-integrity',
      ok: true,
      detail: `${stream.chunks} chunks (every CRC-32 checked), ${stream.files} files complete, ${stream.payloadBytes} bytes of data, read in ${Date.now() - started} ms`,
    },
    metadataCheck(stream),
    binlogCheck(stream, consistency),
    prepareCheckResult(physical, artifact),
    tableDigestsCheck(ctx.config, facts, physical),
  ];
}

function metadataCheck(stream: XbstreamSummary): ValidationCheck {
  const checkpoints = parseKeyValues(stream.captured.xtrabackup_checkpoints?.toString('utf8') ?? '');
  const complete = checkpoints.backup_type === 'full-backuped' && stream.captured['backup-my.cnf'] !== undefined;
  return {
    name: 'backup-metadata',
    ok: complete,
    detail: complete
      ? `full backup, LSN ${checkpoints.from_lsn}..${checkpoints.last_lsn}`
      : `xtrabackup_checkpoints says backup_type=${checkpoints.backup_type ?? '(missing)'}${stream.captured['backup-my.cnf'] ? '' : ', backup-my.cnf missing'}`,
  };
}

function binlogCheck(stream: XbstreamSummary, consistency: MysqlConsistency): ValidationCheck {
  let recorded: BinlogCoordinates | undefined;
  try {
    recorded = parseBinlogInfo(stream.captured.xtrabackup_binlog_info?.toString('utf8') ?? '');
  } catch (error) {
    return { name: 'binlog-position', ok: false, detail: (error as Error).message };
  }
  const same = recorded?.binlogFile === consistency.binlogFile && recorded?.binlogPosition === consistency.binlogPosition
    && (recorded?.gtid ?? undefined) === (consistency.gtid ?? undefined);
  return {
    name: 'binlog-position',
    ok: same,
    detail: same
      ? (recorded ? `${recorded.binlogFile}:${recorded.binlogPosition}${recorded.gtid ? ` gtid ${recorded.gtid}` : ''}` : 'binary logging off')
      : `the backup says ${recorded ? `${recorded.binlogFile}:${recorded.binlogPosition} ${recorded.gtid ?? ''}` : 'nothing'}, the manifest ${consistency.binlogFile}:${consistency.binlogPosition} ${consistency.gtid ?? ''}`,
  };
}

function prepareCheckResult(physical: PhysicalFacts | undefined, artifact: ArtifactRef): ValidationCheck {
  if (physical?.prepared === false) {
    return {
      name: 'prepare-dry-run',
      ok: true,
      detail: `${PREPARE_SKIPPED}: the stream was CRC-checked but not extracted or prepared; the restore's --prepare will be its first`,
    };
  }
  const prepared = physical?.preparedSha256 === artifact.sha256;
  return {
    name: 'prepare-dry-run',
    ok: prepared,
    detail: prepared
      ? `${physical!.tool} --prepare succeeded on this artifact (sha256 ${artifact.sha256.slice(0, 12)}…) at snapshot time in ${physical!.prepareMs} ms`
      : 'the snapshot-time prepare did not run on this artifact',
  };
}

function tableDigestsCheck(config: MysqlConfig, facts: MysqlFacts, physical: PhysicalFacts | undefined): ValidationCheck {
  if (physical?.prepared === false) {
    return {
      name: 'table-digests',
      ok: true,
      detail: `${PREPARE_SKIPPED}: no table facts were computed, so a restore can show its tables are readable but not compare them with the source`,
    };
  }
  const wanted = config.databases ?? [];
  const missing = wanted.filter((db) => !facts.databases.includes(db));
  // A MEMORY table's rows live in the server's memory only: the data dir (and so this backup) holds its definition, no rows.
  const inMemory = facts.tables.filter((t) => t.engine.toLowerCase() === 'memory').map((t) => `${t.database}.${t.table}`);
  const memoryNote = inMemory.length > 0
    ? `; MEMORY tables restore empty (a physical backup holds no rows of them: the server keeps them in memory only): ${nameSome(inMemory)} — a logical backup dumps their rows`
    : '';
  return {
    name: 'table-digests',
    ok: missing.length === 0 && facts.tables.every((t) => /^[0-9a-f]{16,}$/.test(t.digest)),
    detail: missing.length
      ? `databases not in the backup: ${missing.join(', ')}`
      : `${facts.tables.length} tables in ${facts.databases.length} databases digested from the prepared snapshot${memoryNote}`,
  };
}


/** The tool a snapshot was taken with (the restore side needs the same). */
export function toolFor(consistency: Pick<MysqlConsistency, 'flavor' | 'serverVersion'> & { tool?: unknown }): BackupTool {
  return chooseBackupTool({ flavor: consistency.flavor, version: consistency.serverVersion }, consistency.tool as BackupToolKind | undefined);
}

async function probeSource(config: MysqlConfig): Promise<SourceServer> {
  return withConnection(config, { connecting: 'for a physical backup', doing: 'reading server facts' }, async (connection) => {
    const [rows] = await connection.query('SELECT VERSION() AS version, @@version_comment AS comment, @@datadir AS datadir, @@server_id AS serverId, @@log_bin AS logBin') as [
      Array<{ version: string; comment: string; datadir: string; serverId: string | number; logBin: string | number }>, unknown,
    ];
    const row = rows[0];
    const version = parseServerVersion(row.version, row.comment);
    assertSupportedVersion(version);
    return { flavor: version.flavor, version: row.version, datadir: row.datadir, serverId: Number(row.serverId), logBin: Number(row.logBin) === 1 };
  });
}

interface StreamedBackup {
  artifact: ArtifactRef;
  /** What the verifier saw in the stream, with the captured metadata files. */
  stream: XbstreamSummary;
  lock: ReturnType<LockTimer['result']>;
  /** The binlog position the tool printed on stderr. */
  position?: BinlogCoordinates;
  streamMs: number;
  endedAt: number;
}

/**
 * Runs the backup tool with its stdout piped through an exit gate (the tool must exit 0 before
 * the stream may end) and an {@link XbstreamVerifier} into `sink`, so the stream is CRC-checked,
 * hashed and written in one pass. Its stderr is read for the lock time and binlog position and
 * kept for the error message.
 * @throws the tool's failure ({@link toolExitError}), PermanentError `SNAPSHOT_CORRUPT` for a
 *   damaged stream, or the sink's error; the tool is stopped and has exited before it throws.
 */
async function streamBackup(ctx: BackupContext<MysqlConfig>, tool: BackupTool, sink: ArtifactSink, argv: string[]): Promise<StreamedBackup> {
  const lock = new LockTimer();
  let position: BinlogCoordinates | undefined;
  const what = `${tool.command} --backup`;
  const started = Date.now();
  const backup = spawnStreamingTool(tool.command, argv, {
    errors: MYSQL_TOOLS,
    what,
    signal: ctx.signal,
    onStderrLine: (line) => {
      lock.line(line, Date.now());
      position = parseBinlogPositionLine(line) ?? position;
    },
  });
  const verifier = new XbstreamVerifier(new Set(METADATA));
  try {
    const artifact = await sink.write(PHYSICAL_ARTIFACT, backup.stdout, backup.exitGate, verifier);
    const endedAt = Date.now();
    return { artifact, stream: verifier.summary(), lock: lock.result(), position, streamMs: endedAt - started, endedAt };
  } catch (error) {
    // The tool's own failure arrives through the exit gate; anything else failed downstream first
    // (damaged stream, store, abort), and the tool, left writing into a closed pipe, is stopped.
    backup.stop();
    await backup.exited;
    if (error instanceof XbstreamError) {
      throw new PermanentError(`the stream of ${what} is damaged: ${error.message}`, { code: 'SNAPSHOT_CORRUPT', engine: 'mysql', cause: error });
    }
    throw error;
  }
}


/** User tables and their facts, read from a throwaway server started on the prepared copy. */
async function digestPreparedCopy(
  copyDir: string, config: MysqlConfig, signal?: AbortSignal,
): Promise<{ tables: TableFacts[]; databases: string[]; objects: Record<string, SchemaObjects> }> {
  const tmpdir = `${copyDir}.tmp`;
  await mkdir(tmpdir, { recursive: true });
  const server = await startServer({
    dataDir: copyDir,
    port: 'socket-only', // no grant checks: reachable through its private socket only
    extraArgs: ['--skip-grant-tables', '--skip-slave-start', '--skip-log-bin', '--event-scheduler=DISABLED', `--tmpdir=${tmpdir}`],
  });
  try {
    const settings = { host: server.host, port: 0, socketPath: server.socket, user: 'root', password: '', connectTimeoutMs: 10_000 };
    const listing = await createConnection(connectionOptions(settings));
    let tables: Array<{ database: string; table: string; engine: string }>;
    let databases: string[];
    const objects: Record<string, SchemaObjects> = {};
    try {
      const [schemata] = await listing.query('SELECT schema_name AS name FROM information_schema.schemata ORDER BY schema_name') as [Array<{ name: string }>, unknown];
      databases = schemata.map((r) => r.name).filter((db) => selected(db, config));
      const [rows] = await listing.query(
        "SELECT table_schema AS db, table_name AS name, engine FROM information_schema.tables WHERE table_type IN ('BASE TABLE', 'SYSTEM VERSIONED') ORDER BY table_schema, table_name",
      ) as [Array<{ db: string; name: string; engine: string | null }>, unknown];
      tables = rows
        .map((r) => ({ database: r.db, table: r.name, engine: r.engine ?? '' }))
        .filter((t) => databases.includes(t.database));
      for (const database of databases) objects[database] = await objectsOnServer(listing, database, { grantTablesSkipped: true });
    } finally {
      await listing.end().catch(() => undefined);
    }

    const connections = { open: () => openDataConnection(settings), close: (c: Connection) => c.end().catch(() => undefined) };
    const facts = await mapLimitedWith(tables, config.parallelism, connections, async (table, connection) => {
      if (signal?.aborted) throw new PermanentError('physical snapshot aborted', { code: 'ABORTED', engine: 'mysql' });
      const { rows, digest } = await digestTable(connection, table);
      return { ...table, rows, digest, chunks: [] };
    });
    return { tables: facts, databases, objects };
  } finally {
    await server.stop();
  }
}

function selected(database: string, config: MysqlConfig): boolean {
  if (isSystemDatabase(database)) return false;
  if (config.databases && !config.databases.includes(database)) return false;
  return !config.excludeDatabases.includes(database);
}
