/**
 * Physical snapshots: mariabackup (MariaDB) or xtrabackup (MySQL) run on the database host with
 * `--stream=xbstream`, the stream written straight into the spool artifact (hashed on the way, no
 * other copy while the tool talks to the server, so the backup window on the source is as short as
 * the plain tool's).
 *
 * The manifest's facts must let a restore prove itself table by table, and they are fixed when the
 * snapshot is taken, so the snapshot step then computes them from the snapshot itself: the spooled
 * stream is extracted (`mbstream -x`, every chunk checksum checked) into a scratch copy, the copy is
 * `--prepare`d (the prepare dry run), a throwaway server is started on it (loopback, free port,
 * `--skip-grant-tables` so no credentials or SELECT grants are needed) and every user table's rows
 * and digest are read, exactly as restore validation will later read them from the restored
 * server; the named views, triggers, routines and events are listed too. The copy is then removed.
 * So the facts describe the backup's own point in time (not the live source, which has moved on),
 * and the prepare dry run has passed on exactly the bytes whose sha256 the artifact records.
 *
 * `validatePhysicalSnapshot` re-reads the spooled stream without extracting it (xbstream.ts: every
 * chunk's CRC-32, every file complete), checks the backup's own metadata and binlog position
 * against the manifest, and ties the snapshot-time prepare to the artifact's sha256.
 */
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { access, constants, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import mysql from 'mysql2/promise';
import { PermanentError } from '../../core/errors';
import { freePort } from '../../core/host/ports';
import { HashingStream, resolveInside } from '../../core/driver/spool';
import type { ArtifactRef, BackupContext, SnapshotRef, ValidationCheck } from '../../core/driver/types';
import {
  backupArgv, checkToolVersion, chooseBackupTool, extractArgv, LockTimer, parseBinlogInfo, parseBinlogPositionLine,
  parseKeyValues, prepareArgv, runTool, spawnFailure, StderrLog, toolFailure, toolOutput,
  withClientOptionFile, type BackupTool, type BackupToolKind, type BinlogCoordinates,
} from './backup-tool';
import type { MysqlConfig } from './config';
import { connectionOptions, openDataConnection } from './connection';
import { toMysqlError } from './errors';
import { PHYSICAL_ARTIFACT, type MysqlConsistency, type MysqlFacts, type TableFacts } from './layout';
import { startServer } from './local-server';
import { objectsOnServer, type SchemaObjects } from './schema-objects';
import { digestTable } from './table-reader';
import { assertSupportedVersion, parseServerVersion, type Flavor } from './version';
import { XbstreamVerifier } from './xbstream';

/** Scratch directory inside the spool (never an artifact; removed before the step returns). */
const SNAPSHOT_WORK = '.physical-snapshot';

/** Databases that are the server's own, never user data. */
export const SYSTEM_DATABASES = ['mysql', 'information_schema', 'performance_schema', 'sys'];

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
  /** sha256 of the stream that was extracted, prepared and digested at snapshot time. */
  preparedSha256: string;
  streamBytes: number;
  streamMs: number;
  extractMs: number;
  prepareMs: number;
  digestMs: number;
}

/** What the source server says about itself before the backup. */
interface SourceServer {
  flavor: Flavor;
  version: string;
  datadir: string;
  serverId: number;
  logBin: boolean;
}

/** Metadata files of the backup tool, read from the stream during validation. */
const METADATA = ['xtrabackup_checkpoints', 'xtrabackup_binlog_info', 'backup-my.cnf'];

/**
 * Takes a physical snapshot of the configured server (which must be on this host): streams the
 * backup into the spool, reads the binlog position from the backup, and computes every user
 * table's rows and digest from a prepared copy of the stream (see the module comment).
 * @throws PermanentError `MYSQL_AUTH`, `MYSQL_PRIVILEGES`, `MISSING_TOOL`, `UNSUPPORTED_VERSION`,
 *   `TOOL_VERSION_MISMATCH`, `NOT_ON_DATABASE_HOST`, `SNAPSHOT_CORRUPT`; TransientError `MYSQL_UNAVAILABLE`. The message
 *   carries the tool's stderr.
 */
export async function takePhysicalSnapshot(ctx: BackupContext<MysqlConfig>): Promise<PhysicalSnapshot> {
  const { config } = ctx;
  const source = await probeSource(config);
  const tool = chooseBackupTool({ flavor: source.flavor, version: source.version }, config.physical.tool);
  const toolVersion = checkToolVersion(tool, await toolOutput(tool.command, ['--version']), source.version);
  const datadir = config.physical.datadir ?? source.datadir;
  await access(datadir, constants.R_OK).catch(() => {
    throw new PermanentError(
      `the server's data directory ${datadir} is not readable here: a physical backup runs on the database host (set the node's host, or physical.datadir if the path differs here)`,
      { code: 'NOT_ON_DATABASE_HOST', engine: 'mysql' },
    );
  });

  const work = path.join(ctx.spoolDir, SNAPSHOT_WORK);
  const copyDir = path.join(work, 'data');
  const artifactPath = resolveInside(ctx.spoolDir, PHYSICAL_ARTIFACT);
  const partial = `${artifactPath}.partial`;
  await rm(work, { recursive: true, force: true });
  await mkdir(path.join(work, 'tool'), { recursive: true });
  await mkdir(copyDir, { recursive: true });
  await mkdir(path.dirname(artifactPath), { recursive: true });
  try {
    let started = Date.now();
    const streamed = await withClientOptionFile(config, (optionFile) => streamBackup(ctx, tool, partial, backupArgv(tool, {
      optionFile, targetDir: path.join(work, 'tool'), datadir, parallel: config.physical.parallel,
    })));
    const streamMs = Date.now() - started;
    ctx.logger.info('mysql physical backup: streamed', { ms: streamMs, tool: tool.command });

    // One read of the spooled stream: hashed for the artifact, extracted for prepare and digests.
    started = Date.now();
    const hasher = new HashingStream();
    await runTool(tool.extractCommand, extractArgv(tool, copyDir, config.physical.parallel), {
      what: `${tool.extractCommand} -x (extracting the spooled stream to prepare and digest it)`,
      stdin: createReadStream(partial, { highWaterMark: 1024 * 1024 }).pipe(hasher),
      signal: ctx.signal,
    });
    await rename(partial, artifactPath);
    const artifact: ArtifactRef = { name: PHYSICAL_ARTIFACT, size: hasher.bytes, sha256: hasher.digest() };
    const extractMs = Date.now() - started;
    const position = parseBinlogInfo(await readFile(path.join(copyDir, 'xtrabackup_binlog_info'), 'utf8').catch(() => ''))
      ?? streamed.position;
    if (source.logBin && !position) {
      throw new PermanentError(`${tool.command} did not record a binlog position although binary logging is on`, { code: 'SNAPSHOT_CORRUPT', engine: 'mysql' });
    }

    started = Date.now();
    await runTool(tool.command, prepareArgv(tool, copyDir), { what: `${tool.command} --prepare (dry run on the snapshot)`, signal: ctx.signal });
    const prepareMs = Date.now() - started;

    started = Date.now();
    const digested = await digestPreparedCopy(copyDir, config, ctx.signal);
    const digestMs = Date.now() - started;
    ctx.logger.info('mysql physical backup: prepared and digested', { extractMs, prepareMs, digestMs, tables: digested.tables.length });

    const lock = streamed.lock;
    const consistency: MysqlConsistency = {
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
    const physical: PhysicalFacts = {
      tool: tool.kind,
      toolVersion,
      preparedSha256: artifact.sha256,
      streamBytes: artifact.size,
      streamMs,
      extractMs,
      prepareMs,
      digestMs,
    };
    const facts: MysqlFacts = {
      mode: 'physical',
      tables: digested.tables,
      databases: digested.databases,
      schema: [],
      objects: digested.objects,
      physical,
    };
    return { artifacts: [artifact], consistency, facts };
  } catch (error) {
    await rm(partial, { force: true });
    await rm(artifactPath, { force: true });
    throw error;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * Re-checks a spooled physical snapshot (its sha256 was checked by the dispatcher) without
 * extracting it: every xbstream chunk checksum and every file complete (`xbstream-integrity`),
 * the backup complete (`xtrabackup_checkpoints` says `full-backuped`: `backup-metadata`), its binlog
 * position the one recorded (`binlog-position`), the snapshot-time `--prepare` run on exactly this
 * artifact (`prepare-dry-run`), and table facts for every configured database (`table-digests`).
 */
export async function validatePhysicalSnapshot(ctx: BackupContext<MysqlConfig>, snapshot: SnapshotRef): Promise<ValidationCheck[]> {
  const artifact = snapshot.artifacts.find((a) => a.name === PHYSICAL_ARTIFACT);
  if (!artifact) return [{ name: 'xbstream-integrity', ok: false, detail: `${PHYSICAL_ARTIFACT} is not among the artifacts` }];
  const consistency = snapshot.consistency as unknown as MysqlConsistency;
  const facts = snapshot.facts as unknown as MysqlFacts;
  const physical = facts.physical as PhysicalFacts | undefined;
  const checks: ValidationCheck[] = [];

  const verifier = new XbstreamVerifier(new Set(METADATA));
  const started = Date.now();
  const damage = await pipeline(createReadStream(resolveInside(snapshot.spoolDir, artifact.name), { highWaterMark: 1024 * 1024 }), verifier, { signal: ctx.signal })
    .then(() => undefined, (error: Error) => error.message);
  if (damage !== undefined) return [{ name: 'xbstream-integrity', ok: false, detail: damage }];
  const stream = verifier.summary();
  checks.push({
    name: 'xbstream-integrity',
    ok: true,
    detail: `${stream.chunks} chunks (every CRC-32 checked), ${stream.files} files complete, ${stream.payloadBytes} bytes of data, read in ${Date.now() - started} ms`,
  });

  const checkpoints = parseKeyValues(stream.captured.xtrabackup_checkpoints?.toString('utf8') ?? '');
  const complete = checkpoints.backup_type === 'full-backuped' && stream.captured['backup-my.cnf'] !== undefined;
  checks.push({
    name: 'backup-metadata',
    ok: complete,
    detail: complete
      ? `full backup, LSN ${checkpoints.from_lsn}..${checkpoints.last_lsn}`
      : `xtrabackup_checkpoints says backup_type=${checkpoints.backup_type ?? '(missing)'}${stream.captured['backup-my.cnf'] ? '' : ', backup-my.cnf missing'}`,
  });

  const recorded = parseBinlogInfo(stream.captured.xtrabackup_binlog_info?.toString('utf8') ?? '');
  const same = recorded?.binlogFile === consistency.binlogFile && recorded?.binlogPosition === consistency.binlogPosition
    && (recorded?.gtid ?? undefined) === (consistency.gtid ?? undefined);
  checks.push({
    name: 'binlog-position',
    ok: same,
    detail: same
      ? (recorded ? `${recorded.binlogFile}:${recorded.binlogPosition}${recorded.gtid ? ` gtid ${recorded.gtid}` : ''}` : 'binary logging off')
      : `the backup says ${recorded ? `${recorded.binlogFile}:${recorded.binlogPosition} ${recorded.gtid ?? ''}` : 'nothing'}, the manifest ${consistency.binlogFile}:${consistency.binlogPosition} ${consistency.gtid ?? ''}`,
  });

  const prepared = physical?.preparedSha256 === artifact.sha256;
  checks.push({
    name: 'prepare-dry-run',
    ok: prepared,
    detail: prepared
      ? `${physical!.tool} --prepare succeeded on this artifact (sha256 ${artifact.sha256.slice(0, 12)}…) at snapshot time in ${physical!.prepareMs} ms`
      : 'the snapshot-time prepare did not run on this artifact',
  });

  const wanted = ctx.config.databases ?? [];
  const missing = wanted.filter((db) => !facts.databases.includes(db));
  checks.push({
    name: 'table-digests',
    ok: missing.length === 0 && facts.tables.every((t) => /^[0-9a-f]{16,}$/.test(t.digest)),
    detail: missing.length
      ? `databases not in the backup: ${missing.join(', ')}`
      : `${facts.tables.length} tables in ${facts.databases.length} databases digested from the prepared snapshot`,
  });
  return checks;
}

/** The tool a snapshot was taken with (the restore side needs the same). */
export function toolFor(consistency: Pick<MysqlConsistency, 'flavor' | 'serverVersion'> & { tool?: unknown }): BackupTool {
  return chooseBackupTool({ flavor: consistency.flavor, version: consistency.serverVersion }, consistency.tool as BackupToolKind | undefined);
}

async function probeSource(config: MysqlConfig): Promise<SourceServer> {
  const where = config.socketPath ?? `${config.host}:${config.port}`;
  let connection: mysql.Connection;
  try {
    connection = await mysql.createConnection(connectionOptions(config));
  } catch (error) {
    throw toMysqlError(error, `cannot connect to ${where} for a physical backup`, 'MYSQL_CONNECT_FAILED');
  }
  try {
    const [rows] = await connection.query('SELECT VERSION() AS version, @@version_comment AS comment, @@datadir AS datadir, @@server_id AS serverId, @@log_bin AS logBin') as [
      Array<{ version: string; comment: string; datadir: string; serverId: string | number; logBin: string | number }>, unknown,
    ];
    const row = rows[0];
    const version = parseServerVersion(row.version, row.comment);
    assertSupportedVersion(version);
    return { flavor: version.flavor, version: row.version, datadir: row.datadir, serverId: Number(row.serverId), logBin: Number(row.logBin) === 1 };
  } catch (error) {
    throw toMysqlError(error, `reading server facts from ${where}`);
  } finally {
    await connection.end().catch(() => undefined);
  }
}

interface StreamedBackup {
  lock: ReturnType<LockTimer['result']>;
  position?: BinlogCoordinates;
  endedAt: number;
}

/**
 * Runs the backup tool with its stdout going straight into `file` (a file descriptor handed to
 * the tool: no copy through this process, so the source sees the plain tool's speed); its stderr
 * is read for the lock time and binlog position and kept for the error message.
 */
async function streamBackup(ctx: BackupContext<MysqlConfig>, tool: BackupTool, file: string, argv: string[]): Promise<StreamedBackup> {
  const lock = new LockTimer();
  let position: BinlogCoordinates | undefined;
  const log = new StderrLog((line) => {
    lock.line(line, Date.now());
    position = parseBinlogPositionLine(line) ?? position;
  });
  const output = await open(file, 'w');
  try {
    const backup = spawn(tool.command, argv, { stdio: ['ignore', output.fd, 'pipe'], signal: ctx.signal });
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: NodeJS.ErrnoException }>((resolve) => {
      let error: NodeJS.ErrnoException | undefined;
      backup.stderr!.on('data', (chunk: Buffer) => log.write(chunk));
      backup.once('error', (e: NodeJS.ErrnoException) => { error = e; });
      backup.once('close', (code, signal) => resolve({ code, signal, error }));
    });
    log.end();
    if (exit.error) throw spawnFailure(tool.command, exit.error);
    if (exit.code !== 0) throw toolFailure(`${tool.command} --backup`, exit, log.text());
  } finally {
    await output.close();
  }
  return { lock: lock.result(), position, endedAt: Date.now() };
}

/** User tables and their facts, read from a throwaway server started on the prepared copy. */
async function digestPreparedCopy(
  copyDir: string, config: MysqlConfig, signal?: AbortSignal,
): Promise<{ tables: TableFacts[]; databases: string[]; objects: Record<string, SchemaObjects> }> {
  const tmpdir = `${copyDir}.tmp`;
  await mkdir(tmpdir, { recursive: true });
  const server = await startServer({
    dataDir: copyDir,
    port: await freePort(),
    extraArgs: ['--skip-grant-tables', '--skip-slave-start', '--skip-log-bin', '--event-scheduler=DISABLED', `--tmpdir=${tmpdir}`],
  });
  try {
    const settings = { host: server.host, port: server.port, user: 'root', password: '', connectTimeoutMs: 10_000 };
    const listing = await mysql.createConnection(connectionOptions(settings));
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
      for (const database of databases) objects[database] = await objectsOnServer(listing, database);
    } finally {
      await listing.end().catch(() => undefined);
    }

    const facts: TableFacts[] = new Array(tables.length);
    let next = 0;
    const worker = async () => {
      const connection = await openDataConnection(settings);
      try {
        for (let i = next++; i < tables.length; i = next++) {
          if (signal?.aborted) throw new PermanentError('physical snapshot aborted', { code: 'ABORTED', engine: 'mysql' });
          const { rows, digest } = await digestTable(connection, tables[i]);
          facts[i] = { ...tables[i], rows, digest, chunks: [] };
        }
      } finally {
        await connection.end().catch(() => undefined);
      }
    };
    await Promise.all(Array.from({ length: Math.min(config.parallelism, Math.max(tables.length, 1)) }, worker));
    return { tables: facts, databases, objects };
  } finally {
    await server.stop();
  }
}

function selected(database: string, config: MysqlConfig): boolean {
  if (SYSTEM_DATABASES.includes(database)) return false;
  if (config.databases && !config.databases.includes(database)) return false;
  return !config.excludeDatabases.includes(database);
}
