/**
 * Point-in-time recovery: after a restore (logical or physical), replay the archived binary logs
 * from the backup's binlog position up to a time (`until`) or a GTID (`untilGtid`, inclusive).
 *
 * The binlogs come from the backup itself and from every LATER backup of the same engine and
 * instance that archived binlogs (each archive holds every binlog still on the server when it was
 * taken, so a later archive covers what happened after this backup). A file archived by several
 * backups is taken from the newest (the current file grows between archives). The files must run
 * without a gap from the backup's binlog file.
 *
 * The binlogs are downloaded and their window read before the restore touches the target
 * ({@link prepareReplay}, window-checks.ts). Replay is then `mariadb-binlog --start-position=<pos>
 * [--stop-datetime | --stop-position=<gtid>] files | mariadb` into the restored server, with the
 * output scanned on the way for the GTIDs and event times actually applied. Binlog event times
 * have one-second resolution: `until` is rounded up to the next whole second, so every event
 * logged in a second before that is applied.
 *
 * What is replayed follows what was restored (see {@link replayScope}): everything after a physical
 * restore (the whole server); after a logical one, only the backup's database, renamed like the
 * restore. The binlog tool filters on one database only, so a logical backup of several databases
 * is refused before the target is touched ({@link assertReplayable}).
 *
 * After a physical restore the server's `gtid_slave_pos` is moved to the end of the replay, so it
 * can replicate from the source from there.
 */
import { readFile, rm } from 'node:fs/promises';
import type { Connection } from 'mysql2/promise';
import path from 'node:path';
import { backupIdTime } from '../../../core/catalog/layout';
import { downloadArtifacts } from '../../../core/driver/download';
import type {
  BackupRecord, Json, JsonObject, RestoreContext, RestoreResult, StoredArtifact, TransferOptions, ValidationCheck,
} from '../../../core/driver/types';
import { PermanentError } from '../../../core/errors';
import { runToolPipe } from '../../../core/host/tool-pipe';
import { selectArtifacts } from '../shared/artifact-select';
import { binlogSequence, binlogTool, sortBinlogs } from './binlog-archive';
import { BinlogEventScanner } from './binlog-events';
import { GtidSettingsFilter } from './gtid-settings-filter';
import { assertStatementsKeepToScope, domainsUpTo, readStopOrder, storedCodeOf, type NamedEvent, type StopOrder } from './window-checks';
import { splitSchemaStatements } from '../logical/schema-capture';
import { withClientOptionFile } from '../shared/client-option-file';
import type { MysqlRestoreTarget } from '../config';
import { withConnection } from '../shared/connection';
import { formatGtid, formatGtidPosition, mergeGtidPositions, parseGtid, parseGtidPosition, positionCovers, mariadbPosition } from '../shared/gtid';
import { binlogArtifact, ENGINE, recordedConsistency, recordedFacts, type MysqlFacts } from '../shared/layout';
import { tableKey } from '../shared/table-columns';
import { storedTableName } from '../shared/exact-names';
import { effectiveRenames, mapDatabases } from '../logical/target-databases';
import { MYSQL_TOOLS } from '../shared/tool-errors';
import { setGtidSlavePos } from '../shared/restored-server';

type Ctx = RestoreContext<MysqlRestoreTarget>;

/** One archived binlog file chosen for replay. */
export interface ArchivedBinlog {
  file: string;
  /** The backup whose archive it comes from. */
  backupId: string;
  artifact: StoredArtifact;
}

/** What replay reports (the restore result's `endpoint.replay`). */
export interface ReplayReport {
  [key: string]: Json;
  until: string | null;
  untilGtid: string | null;
  /** The `--stop-datetime` given to the binlog tool (UTC, whole second). */
  stopDatetime: string | null;
  replayedFrom: { file: string; position: number; gtid: string | null };
  /** The one database whose events were applied (named as in the binlog); null: all (physical restore). */
  database: string | null;
  /** Per domain, the last GTID applied (`0-1-75,1-2-9`), and the last event's time. */
  replayedTo: { gtid: string | null; lastEventAt: string | null };
  /** Transactions read up to the target (after a logical restore, other databases' are applied empty). */
  transactions: number;
  files: Array<{ file: string; backupId: string }>;
  /** Whether the archives reach the target (time covered, GTID present). */
  reachedTarget: boolean;
  coverage: string;
  /** The backup's tables the target lacked after the restore, before the replay (none, when the restore worked). */
  missingBeforeReplay: string[];
  /**
   * A time target: the transactions logged right after the event the replay stopped at yet stamped
   * before the target (not replayed; window-checks.ts `readStopOrder`), null when none.
   */
  stampedBeforeTarget: { count: number; first: NamedEvent } | null;
  /** The restored server's GTID variables after the replay. */
  server: { gtidBinlogPos: string | null; gtidSlavePos: string | null; gtidCurrentPos: string | null; gtidSlavePosNotSet?: string };
}

/**
 * Binlog files to replay from `startFile`, in order, from a backup's own archive and later ones:
 * the newest copy of each file, no gaps. Archives taken after the server's numbering went back (a
 * `RESET MASTER`, another server: their files reuse the names of other contents) are left out.
 * Each archive's last file was the server's current one when it was copied, so it may lack its
 * end: taken for a file the replay goes past, it is refused unless a later archive copied it again
 * (the server purged it before the next backup: the events after the copy are lost to the replay).
 * Files after `lastFile` (the one a later backup found the server writing once the point had
 * passed: the point's events are in it or before it) are not needed, so a gap among them is not one.
 * @throws PermanentError `NO_BINLOG_ARCHIVE`, `BINLOG_MISSING` (the start file was not archived),
 *   `BINLOG_GAP`.
 */
export function planReplay(archives: Array<{ backupId: string; binlogs: string[]; artifacts: StoredArtifact[] }>, startFile: string, lastFile?: string): ArchivedBinlog[] {
  const { files, gap } = planUpToGap(archives, startFile, lastFile);
  if (gap) throw gap;
  return files;
}

/**
 * {@link planReplay}, but a gap is not thrown: the files before it are returned with the error the
 * gap would be, for a replay whose point may lie before it (prepareReplay reads whether it does).
 * The last file returned is the one before the gap (a copy that may lack its end: as far as it goes).
 * @throws PermanentError `NO_BINLOG_ARCHIVE`, `BINLOG_MISSING`.
 */
export function planUpToGap(archives: Array<{ backupId: string; binlogs: string[]; artifacts: StoredArtifact[] }>, startFile: string, lastFile?: string): { files: ArchivedBinlog[]; gap?: PermanentError } {
  const newest = new Map<string, ArchivedBinlog & { current: boolean }>();
  let highest = 0;
  for (const archive of [...archives].sort((a, b) => a.backupId.localeCompare(b.backupId))) {
    const last = Math.max(0, ...archive.binlogs.map(binlogSequence));
    if (last < highest) break; // numbering went back: another binlog history from here on
    highest = last;
    for (const file of archive.binlogs) {
      const [artifact] = selectArtifacts(archive.artifacts, [binlogArtifact(file)]);
      newest.set(file, { file, backupId: archive.backupId, artifact, current: binlogSequence(file) === last });
    }
  }
  if (newest.size === 0) {
    throw new PermanentError('neither this backup nor a later one of the instance archived binary logs; take backups with archiveBinlogs: true', { code: 'NO_BINLOG_ARCHIVE', engine: ENGINE });
  }
  const start = binlogSequence(startFile);
  const end = lastFile === undefined ? Infinity : binlogSequence(lastFile);
  const files = sortBinlogs([...newest.keys()].filter((f) => binlogSequence(f) >= start && binlogSequence(f) <= end));
  if (files[0] !== startFile) {
    throw new PermanentError(`the archived binary logs do not include ${startFile}, where the backup's position is (archived: ${sortBinlogs([...newest.keys()]).join(', ')})`, { code: 'BINLOG_MISSING', engine: ENGINE });
  }
  const plan = (upTo: number) => files.slice(0, upTo).map((f) => { const { current: _current, ...binlog } = newest.get(f)!; return binlog; });
  for (let i = 1; i < files.length; i += 1) {
    if (binlogSequence(files[i]) !== binlogSequence(files[i - 1]) + 1) {
      return { files: plan(i), gap: new PermanentError(`the archived binary logs have a gap between ${files[i - 1]} and ${files[i]}`, { code: 'BINLOG_GAP', engine: ENGINE }) };
    }
    const before = newest.get(files[i - 1])!;
    if (before.current) {
      return {
        files: plan(i),
        gap: new PermanentError(
          `the archived binary logs may lack the end of ${before.file}: backup ${before.backupId} copied it while it was the server's current file, and no later backup copied it again (purged before the next backup), so what was written to it after that copy is in no archive`,
          { code: 'BINLOG_GAP', engine: ENGINE },
        ),
      };
    }
  }
  return { files: plan(files.length) };
}

/** `until` rounded up to a whole second, as `YYYY-MM-DD HH:MM:SS` in UTC (the tool runs with TZ=UTC). */
export function stopDatetime(until: string): string {
  const ms = Math.ceil(Date.parse(until) / 1000) * 1000;
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, '');
}

export interface ReplayArgvOptions {
  startPosition: number;
  stopDatetime?: string;
  untilGtid?: string;
  /** `from → to` database renames of a logical restore. */
  rewriteDb?: Record<string, string>;
  /**
   * Apply only this database's events, named as in the binlog: the tool matches `--database`
   * before it applies `--rewrite-db`.
   */
  database?: string;
  /** Keep the replay out of the target's binary log (the restore target's `binlog: false`): the tool's output starts with `SET sql_log_bin=0`. */
  disableLogBin?: boolean;
  files: string[];
}

/** argv of the binlog tool printing the events to replay. */
export function replayArgv(options: ReplayArgvOptions): string[] {
  const argv = ['--no-defaults', `--start-position=${options.startPosition}`];
  if (options.stopDatetime) argv.push(`--stop-datetime=${options.stopDatetime}`);
  if (options.untilGtid) argv.push(`--stop-position=${options.untilGtid}`);
  for (const [from, to] of Object.entries(options.rewriteDb ?? {})) argv.push(`--rewrite-db=${from}->${to}`);
  if (options.database) argv.push(`--database=${options.database}`);
  if (options.disableLogBin) argv.push('--disable-log-bin');
  argv.push(...options.files);
  return argv;
}

/** Which events a replay applies, and under which database names. */
export type ReplayScope = Pick<ReplayArgvOptions, 'database' | 'rewriteDb'>;

/**
 * The events to replay after restoring a backup with `renameDatabases`. After a physical restore
 * the whole server was restored: everything, unrenamed. After a logical one, exactly the restored
 * database's events under its target name: other databases and the `mysql` schema (accounts,
 * grants) were not restored and must not change on the target. The tool keeps row changes by their
 * table's database, statements by the session's default database when they ran (README).
 *
 * `mariadb-binlog` keeps a single `--database` (repeated, the last one wins; there is no list or
 * ignore filter), and a pass per database would split and reorder transactions that span databases,
 * so a logical backup of several databases cannot be replayed exactly and is refused.
 * @throws PermanentError `UNSUPPORTED_RESTORE` (several databases), `INVALID_INPUT` (bad renames).
 */
export function replayScope(backupId: string, facts: MysqlFacts, renameDatabases: Readonly<Record<string, string>>): ReplayScope {
  if (facts.mode === 'physical') return {};
  const mappings = mapDatabases(facts, renameDatabases);
  if (mappings.length !== 1) {
    throw new PermanentError(
      `backup ${backupId} is a logical backup of ${mappings.length} databases (${facts.databases.join(', ')}): a point-in-time replay after a logical restore can keep to one database only (mariadb-binlog filters a single --database; unfiltered, it would also apply other databases' and the mysql schema's changes to the target). Restore it without pointInTime, or back up each database that needs point-in-time recovery in a backup of its own (databases: ["<one database>"]), or use a physical backup, whose replay covers the whole server`,
      { code: 'UNSUPPORTED_RESTORE', engine: ENGINE },
    );
  }
  const rewriteDb = effectiveRenames(mappings);
  for (const [from, to] of Object.entries(rewriteDb)) assertRewritable(from, to);
  return { database: mappings[0].source, rewriteDb };
}

/** The blanks `mariadb-binlog` trims names at (its latin1 `isspace`). */
const BLANK = /[ \t\n\v\f\r]/;

/**
 * Refuses a rename `mariadb-binlog --rewrite-db=<from>-><to>` cannot express: the tool splits the
 * value at the first `->`, trims blanks around the old name, and ends the new name at its first
 * blank — `shop->new shop` would replay into `new`.
 * @throws PermanentError `UNSUPPORTED_RESTORE`
 */
function assertRewritable(from: string, to: string): void {
  const problem = BLANK.test(to) ? `the new name holds a blank (space, tab or line break), where mariadb-binlog's --rewrite-db ends it`
    : from.includes('->') ? `the database's name holds '->', which mariadb-binlog's --rewrite-db takes as the separator`
      : BLANK.test(from.charAt(0)) ? `the database's name starts with a blank, which mariadb-binlog's --rewrite-db drops`
        : undefined;
  if (problem === undefined) return;
  throw new PermanentError(
    `a point-in-time replay cannot restore database ${JSON.stringify(from)} as ${JSON.stringify(to)}: ${problem}. Choose a new name without blanks in renameDatabases, or restore without renaming`,
    { code: 'UNSUPPORTED_RESTORE', engine: ENGINE },
  );
}

/**
 * Refuses, when the target asks for a point-in-time replay, one that could not be done
 * ({@link replayPlan}: no binlog position, a scope beyond the restored databases, a point before
 * the backup, archived binlogs missing or with a gap): called when the target is prepared, before
 * anything is restored, so a refused restore leaves the target untouched.
 * @throws PermanentError as {@link replayPlan}.
 */
export function assertReplayable(ctx: Ctx): void {
  if (ctx.target.pointInTime) replayPlan(ctx);
}

/**
 * Refuses a GTID target when the binlogs hold transactions of several GTID domains (as the positions
 * this backup and the later ones recorded say): `mariadb-binlog --stop-position=<gtid>` gives the
 * named domain's events only, so the other domains' transactions before the point would be left
 * out without a word. A time (`until`) takes every domain.
 * @throws PermanentError `UNSUPPORTED_RESTORE` naming the domains
 */
function assertOneGtidDomain(ctx: Ctx, untilGtid: string): void {
  const domains = new Set<number>();
  for (const backup of [ctx.backup, ...(ctx.chain ?? [])]) {
    for (const domain of mariadbPosition(recordedConsistency(backup).gtid).keys()) domains.add(domain);
  }
  assertDomains(untilGtid, domains);
}

/**
 * Refuses a GTID target when `domains` (recorded by the backups, or found in the binlogs' window up
 * to the target: window-checks.ts `domainsUpTo`) hold another domain than the target's.
 * @throws PermanentError `UNSUPPORTED_RESTORE` naming the domains
 */
function assertDomains(untilGtid: string, found: ReadonlySet<number>): void {
  const domains = new Set([parseGtid(untilGtid).domain, ...found]);
  if (domains.size > 1) {
    throw new PermanentError(
      `untilGtid ${untilGtid} names GTID domain ${parseGtid(untilGtid).domain}, but the binlogs hold transactions of domains ${[...domains].sort((a, b) => a - b).join(', ')}: the binlog tool would replay that domain's only and leave the others' out; restore to a time (until) instead`,
      { code: 'UNSUPPORTED_RESTORE', engine: ENGINE },
    );
  }
}

/**
 * What a replay to the target's point needs, each checked from the backup's records alone (no
 * I/O), so that a refusal comes when the target is prepared, before anything is restored: the
 * backup's binlog position, a scope that keeps to the restored databases, a point not before the
 * backup, and the archived binlogs from its file on without a gap.
 * @throws PermanentError `INVALID_TARGET`, `NO_BINLOG_POSITION`, as {@link replayScope}, as
 *   {@link assertOneGtidDomain}, `PITR_TARGET_BEFORE_BACKUP`, `NO_BINLOG_ARCHIVE`, `BINLOG_MISSING`, `BINLOG_GAP`.
 */
function replayPlan(ctx: Ctx) {
  const pit = ctx.target.pointInTime;
  if (!pit) throw new PermanentError('no pointInTime in the restore target', { code: 'INVALID_TARGET', engine: ENGINE });
  const consistency = recordedConsistency(ctx.backup);
  const facts = recordedFacts(ctx.backup);
  if (!consistency.binlogFile || consistency.binlogPosition === undefined) {
    throw new PermanentError(`backup ${ctx.backup.backupId} has no binlog position (binary logging was off): no point-in-time replay from it`, { code: 'NO_BINLOG_POSITION', engine: ENGINE });
  }
  const scope = replayScope(ctx.backup.backupId, facts, ctx.target.renameDatabases);

  // The target must not lie before the backup: replay cannot undo what the backup holds.
  const before = pointBeforeBackup(ctx.backup, pit);
  if (before) throw new PermanentError(`${before}; restore an earlier backup`, { code: 'PITR_TARGET_BEFORE_BACKUP', engine: ENGINE });
  if (pit.untilGtid) assertOneGtidDomain(ctx, pit.untilGtid);
  const history = sameHistory([ctx.backup, ...(ctx.chain ?? [])]);
  const archives = archivesFrom(history);
  const { files: plan, gap } = planUpToGap(archives.list, consistency.binlogFile, fileHoldingPoint(history.slice(1), pit));
  return { pit, consistency: { ...consistency, binlogFile: consistency.binlogFile, binlogPosition: consistency.binlogPosition }, facts, scope, archives, plan, gap };
}

/**
 * Why `pit` lies before `backup` (a replay cannot undo what the backup holds), or undefined: a GTID
 * the backup's position passed, a time before its snapshot.
 */
export function pointBeforeBackup(backup: BackupRecord, pit: { until?: string; untilGtid?: string }): string | undefined {
  const consistency = recordedConsistency(backup);
  if (pit.untilGtid && consistency.gtid && positionCovers(consistency.gtid, pit.untilGtid)) {
    const at = parseGtidPosition(consistency.gtid).get(parseGtid(pit.untilGtid).domain)!;
    if (at.sequence !== parseGtid(pit.untilGtid).sequence) return `untilGtid ${pit.untilGtid} is before the backup's position ${consistency.gtid}`;
  }
  const snapshotAt = snapshotTime(backup);
  if (pit.until && snapshotAt && Date.parse(pit.until) < snapshotAt.getTime()) return `until ${pit.until} is before the backup (${snapshotAt.toISOString()})`;
  return undefined;
}

/** When `backup`'s snapshot was taken: as recorded, or its id's time. */
function snapshotTime(backup: BackupRecord): Date | undefined {
  const { snapshotAt } = recordedConsistency(backup);
  return typeof snapshotAt === 'string' ? new Date(snapshotAt) : backupIdTime(backup.backupId);
}

/** How far apart the backup host's and the database server's clocks may be, for {@link fileHoldingPoint}. */
const CLOCKS_APART_MS = 10 * 60_000;

/**
 * The binlog file the oldest later backup taken once the point had passed found the server writing
 * (its recorded position) and archived: every event up to the point is in it or in a file before
 * it, and its copy was taken after the point. Undefined when no later backup is past the point, or
 * one of another binlog history (`later` are the later backups of this history: {@link sameHistory}).
 * A time point must be passed by {@link CLOCKS_APART_MS}: the snapshot's time is the backup host's
 * clock, the events' the server's.
 */
function fileHoldingPoint(later: readonly BackupRecord[], pit: { until?: string; untilGtid?: string }): string | undefined {
  for (const backup of later) {
    const consistency = recordedConsistency(backup);
    if (!consistency.binlogFile) return undefined;
    const snapshotAt = snapshotTime(backup)?.getTime();
    const pastTime = pit.until !== undefined && snapshotAt !== undefined && snapshotAt >= Date.parse(pit.until) + CLOCKS_APART_MS;
    const pastGtid = pit.untilGtid !== undefined && consistency.gtid !== undefined && positionCovers(consistency.gtid, pit.untilGtid);
    // Its own archive copied that file once the point had passed; without one, a later backup's may still.
    if ((pastTime || pastGtid) && recordedFacts(backup).binlogs?.includes(consistency.binlogFile)) return consistency.binlogFile;
  }
  return undefined;
}

/**
 * argv of the client applying the replay: its session without MariaDB's statement time limit (one
 * big replayed transaction must not be cut off; connection.ts `liftStatementTimeLimit`), in a
 * `/*M!` comment MySQL skips, after a statement both servers take.
 */
export function applyArgv(optionFile: string): string[] {
  return [`--defaults-file=${optionFile}`, '--binary-mode', '--batch', '--max-allowed-packet=1073741824',
    '--init-command=SET @dbbackup_replay = 1 /*M!100101 , SESSION max_statement_time = 0 */'];
}

/** What {@link prepareReplay} downloaded and checked, for {@link replayBinlogs}. */
export interface PreparedReplay {
  /** The replay's options for the binlog tool (the downloaded files, the filters, the stop). */
  replay: ReplayArgvOptions;
  order?: StopOrder;
}

/**
 * Downloads the binlogs a replay to the target's point needs and reads their window before the
 * target is touched (window-checks.ts): a replay that cannot keep to the restored database is
 * refused, a GTID target's domains are counted, and a time target's stop is found. Archives with a
 * gap are read up to it: the point must lie before it.
 * @throws PermanentError as {@link replayPlan}, `UNSUPPORTED_RESTORE` (window-checks.ts
 *   `assertStatementsKeepToScope`, several GTID domains), `BINLOG_GAP` (the point not found before
 *   a gap), `PITR_NOT_COVERED` (the archives do not reach the point), `CHECKSUM_MISMATCH` (a download).
 */
export async function prepareReplay(ctx: Ctx, transfer: TransferOptions): Promise<PreparedReplay> {
  const { pit, consistency, scope, plan, gap, archives } = replayPlan(ctx);
  const command = binlogTool(consistency.flavor);
  const { files } = await downloadArtifacts(plan.map((p) => p.artifact), replayDir(ctx), { ...transfer, concurrency: 4 });
  const localFiles = plan.map((p) => files[p.artifact.name]);
  const stop = pit.until ? stopDatetime(pit.until) : undefined;
  const window = { command, files: plan.map((p) => p.file), signal: ctx.signal };
  const options = { startPosition: consistency.binlogPosition, stopDatetime: stop, untilGtid: pit.untilGtid, files: localFiles };
  const replay = { ...options, ...scope };
  const argv = replayArgv(replay);
  const whole = replayArgv({ startPosition: options.startPosition, files: localFiles });
  const [order, gtidFound] = await Promise.all([
    stop ? readStopOrder(window, whole, Date.parse(`${stop.replace(' ', 'T')}Z`)) : undefined,
    pit.untilGtid ? domainsUpTo(window, whole, parseGtid(pit.untilGtid)).then(({ domains, reached }) => { assertDomains(pit.untilGtid!, domains); return reached; }) : undefined,
    scope.database !== undefined
      ? Promise.all([backupCode(ctx, scope.database, transfer), targetRunsEvents(ctx)]).then(([backup, runsEvents]) => assertStatementsKeepToScope(
        { ...window, argv, unfilteredArgv: replayArgv(options) }, scope.database!, scope.rewriteDb?.[scope.database!] ?? scope.database!, { ...backup, targetRunsEvents: runsEvents },
      ))
      : undefined,
  ]);
  // Files after a gap are not read: the point must lie within those before it.
  if (gap && !(order?.stoppedAt ?? gtidFound)) throw gap;
  // A point the archives do not reach is refused now, not found short after the target was replaced.
  if (pit.untilGtid && !gtidFound && !isBackupPosition(consistency.gtid, pit.untilGtid)) {
    throw new PermanentError(`GTID ${pit.untilGtid} is not in the archived binary logs from ${consistency.binlogFile}:${consistency.binlogPosition} on (${plan.map((p) => p.file).join(', ')}): no server logged it, or no backup archived it yet; take a backup with archiveBinlogs after it, then restore again`, { code: 'PITR_NOT_COVERED', engine: ENGINE });
  }
  if (pit.until && !order?.stoppedAt && !(archives.archivedAt !== undefined && archives.archivedAt >= Date.parse(pit.until))) {
    throw new PermanentError(`the archived binary logs end before ${pit.until}${archives.archivedAt !== undefined ? ` (the newest archive was taken at ${new Date(archives.archivedAt).toISOString()})` : ''}: take a backup with archiveBinlogs after the target time, then restore again`, { code: 'PITR_NOT_COVERED', engine: ENGINE });
  }
  return { replay, ...(order ? { order } : {}) };
}

/** Whether `gtid` is exactly where the backup's recorded position stands in its domain (nothing to replay up to it). */
function isBackupPosition(position: string | undefined, gtid: string): boolean {
  const wanted = parseGtid(gtid);
  const at = mariadbPosition(position).get(wanted.domain);
  return at !== undefined && at.server === wanted.server && at.sequence === wanted.sequence;
}

/**
 * The restored database's triggers and stored functions (from its post-schema artifact) and table
 * names: a data change logged as a statement runs them again on the target (window-checks.ts).
 */
async function backupCode(ctx: Ctx, database: string, transfer: TransferOptions): Promise<{ storedCode: string[]; tables: string[] }> {
  const facts = recordedFacts(ctx.backup);
  const tables = facts.tables.filter((t) => t.database === database).map((t) => t.table);
  const post = facts.schema?.find((s) => s.database === database)?.post;
  const [artifact] = post ? selectArtifacts(ctx.backup.artifacts, [post]) : [];
  if (!artifact) return { storedCode: [], tables };
  const { files } = await downloadArtifacts([artifact], replayDir(ctx), transfer);
  return { storedCode: storedCodeOf(splitSchemaStatements(await readFile(files[artifact.name]))), tables };
}

/** Whether the target's event scheduler runs events (`ON`; `OFF` and `DISABLED` run none). */
async function targetRunsEvents(ctx: Ctx): Promise<boolean> {
  return withConnection(ctx.target, { connecting: '(the restore target)', doing: 'reading its event scheduler' }, async (connection) => {
    const [[row]] = await connection.query('SELECT @@event_scheduler AS scheduler') as [Array<{ scheduler: unknown }>, unknown];
    return String(row?.scheduler).toUpperCase() === 'ON';
  });
}

/** Where a replay's binlogs are downloaded. */
const replayDir = (ctx: Ctx) => path.join(ctx.spoolDir, 'pitr-binlogs');

/**
 * Replays the binlogs {@link prepareReplay} made ready onto the restored server (see the module comment).
 * @returns a {@link ReplayReport}.
 * @throws PermanentError as {@link replayPlan}, `PITR_REPLAY_FAILED` (with the client's error).
 */
export async function replayBinlogs(ctx: Ctx, prepared: PreparedReplay): Promise<JsonObject> {
  const { pit, consistency, facts, scope, archives, plan } = replayPlan(ctx);
  const replayedFrom = { file: consistency.binlogFile, position: consistency.binlogPosition, gtid: consistency.gtid ?? null };
  const command = binlogTool(consistency.flavor);
  const argv = replayArgv({ ...prepared.replay, disableLogBin: ctx.target.binlog === false });
  ctx.logger.info('mysql point-in-time: replaying', { files: plan.map((p) => `${p.file}@${p.backupId}`), until: pit.until, untilGtid: pit.untilGtid, database: scope.database });

  const missingBeforeReplay = await withConnection(ctx.target, onRestoredServer('listing its tables before the replay'), (connection) => missingTables(ctx, connection));
  const scanner = await withClientOptionFile(ctx.target, ctx.spoolDir, (optionFile) => pipeReplay(command, argv, optionFile, facts.mode === 'physical', ctx.signal));
  const lastGtids = formatGtidPosition(scanner.lastGtid) || null;

  // Coverage: was the target within what the archives hold?
  let reachedTarget: boolean;
  let coverage: string;
  if (pit.untilGtid) {
    reachedTarget = positionCovers(mergeGtidPositions(consistency.gtid, lastGtids ?? ''), pit.untilGtid);
    coverage = reachedTarget ? `GTID ${pit.untilGtid} applied` : `the archives end before GTID ${pit.untilGtid} (last applied: ${lastGtids ?? 'none'})`;
  } else {
    const stoppedAt = prepared.order?.stoppedAt;
    const archivedAt = archives.archivedAt;
    reachedTarget = stoppedAt !== undefined || (archivedAt !== undefined && archivedAt >= Date.parse(pit.until!));
    coverage = stoppedAt
      ? `the replay stopped at the first event stamped at or after the target (${stoppedAt.at}${stoppedAt.gtid ? `, GTID ${stoppedAt.gtid}` : ''}, ${stoppedAt.file}): every event before it was applied`
      : archivedAt !== undefined && reachedTarget
        ? `the newest archive (${new Date(archivedAt).toISOString()}) was taken after the target`
        : `the newest archived event is before ${pit.until} and no archive is known to cover it: take a backup with archiveBinlogs after the target time`;
    const before = prepared.order?.stampedBefore;
    if (before?.first) {
      coverage += `; ${before.count} transaction${before.count === 1 ? '' : 's'} logged right after it ${before.count === 1 ? 'is' : 'are'} stamped before the target (first: ${before.first.gtid ? `GTID ${before.first.gtid} ` : ''}at ${before.first.at} in ${before.first.file}) and ${before.count === 1 ? 'was' : 'were'} not replayed. Binlog times are statement starts: a statement that ran across the target lands here; a transaction stamped ahead of its neighbours (a clock step, SET timestamp, a replicated event) stops the replay early. For an exact point, restore to a GTID (untilGtid)`;
    }
  }

  const server = await afterReplay(ctx, facts.mode === 'physical', mergeGtidPositions(consistency.gtid, lastGtids ?? ''));
  await rm(replayDir(ctx), { recursive: true, force: true });
  const stampedBefore = prepared.order?.stampedBefore;
  const report: ReplayReport = {
    until: pit.until ?? null,
    untilGtid: pit.untilGtid ?? null,
    stopDatetime: prepared.replay.stopDatetime ?? null,
    replayedFrom,
    database: scope.database ?? null,
    replayedTo: { gtid: lastGtids, lastEventAt: scanner.lastEventAt?.toISOString() ?? null },
    transactions: scanner.transactions,
    files: plan.map((p) => ({ file: p.file, backupId: p.backupId })),
    reachedTarget,
    coverage,
    missingBeforeReplay,
    stampedBeforeTarget: stampedBefore && stampedBefore.count > 0 ? { count: stampedBefore.count, first: stampedBefore.first! } : null,
    server,
  };
  if (report.stampedBeforeTarget) ctx.logger.warn('mysql point-in-time: transactions stamped before the target were logged after the stop and not replayed', { ...report.stampedBeforeTarget });
  ctx.logger.info('mysql point-in-time: replayed', { transactions: report.transactions, to: report.replayedTo, reachedTarget });
  return report;
}

/**
 * Proves a point-in-time restore: the replay started at the backup's position, every table of the
 * backup is present, and the target was reached but not passed (GTID: the server's position covers
 * `untilGtid` and the last GTID applied in its domain is exactly it; time: the archives reach past
 * `until` and no event from after it was applied). Rows and digests are not compared with the
 * backup's facts: the replay changed them on purpose.
 */
export async function validatePointInTime(ctx: Ctx, result: RestoreResult): Promise<ValidationCheck[]> {
  const replay = result.endpoint.replay as unknown as ReplayReport | undefined;
  if (!replay) return [{ name: 'pitr-replay', ok: false, detail: 'the restore result records no binlog replay' }];
  const consistency = recordedConsistency(ctx.backup);
  const facts = recordedFacts(ctx.backup);
  const checks: ValidationCheck[] = [];

  checks.push({
    name: 'pitr-replay',
    ok: true,
    detail: `${replay.transactions} transactions from ${replay.files.map((f) => `${f.file} (${f.backupId})`).join(', ') || 'no files'}`,
  });
  const startOk = replay.replayedFrom.file === consistency.binlogFile && replay.replayedFrom.position === consistency.binlogPosition;
  checks.push({
    name: 'pitr-start',
    ok: startOk,
    detail: `${replay.replayedFrom.file}:${replay.replayedFrom.position}${startOk ? ' (the backup\'s position)' : `, but the backup is at ${consistency.binlogFile}:${consistency.binlogPosition}`}`,
  });

  await withConnection(ctx.target, onRestoredServer('checking the replay'), async (connection) => {
    // Before the replay every table of the backup was there; one the replay dropped or renamed is gone on purpose.
    const before = replay.missingBeforeReplay;
    const after = await missingTables(ctx, connection);
    const gone = after.filter((t) => !before.includes(t));
    checks.push({
      name: 'tables-present',
      ok: before.length === 0,
      detail: before.length > 0
        ? `missing after the restore, before the replay: ${before.slice(0, 10).join(', ')}`
        : facts.tables.length === 0 && facts.mode === 'physical'
          ? 'skipped (physical.prepareCheck=false): the backup lists no tables to look for'
          : `${facts.tables.length} table${facts.tables.length === 1 ? '' : 's'} after the restore${gone.length > 0 ? `; the replay dropped or renamed ${gone.length}: ${gone.slice(0, 10).join(', ')}` : ''}`,
    });

    if (replay.untilGtid) {
      const [[vars]] = await connection.query('SELECT @@GLOBAL.gtid_binlog_pos AS b, @@GLOBAL.gtid_slave_pos AS s, @@GLOBAL.gtid_current_pos AS c') as [Array<{ b: string; s: string; c: string }>, unknown];
      const wanted = parseGtid(replay.untilGtid);
      const applied = parseGtidPosition(mergeGtidPositions(consistency.gtid, replay.replayedTo.gtid ?? '')).get(wanted.domain);
      checks.push(gtidReachedCheck(replay, replay.untilGtid, mergeGtidPositions(vars.b, vars.s, vars.c)));
      // The server id too: mariadb-binlog stops at the domain's sequence number whichever server logged it.
      const exact = applied !== undefined && applied.sequence === wanted.sequence && applied.server === wanted.server;
      checks.push({
        name: 'pitr-not-past-target',
        ok: exact,
        detail: exact ? `last GTID applied in domain ${wanted.domain}: ${formatGtid(applied)}` : `last GTID applied in domain ${wanted.domain}: ${applied ? formatGtid(applied) : 'none'}, wanted ${replay.untilGtid}`,
      });
    } else {
      checks.push({ name: 'pitr-time-reached', ok: replay.reachedTarget, detail: replay.coverage });
      const stopMs = replay.stopDatetime ? Date.parse(`${replay.stopDatetime.replace(' ', 'T')}Z`) : NaN;
      const last = replay.replayedTo.lastEventAt ? Date.parse(replay.replayedTo.lastEventAt) : undefined;
      const notPast = last === undefined || last < stopMs;
      checks.push({
        name: 'pitr-not-past-target',
        ok: notPast,
        detail: last === undefined ? 'no event after the backup was applied' : `last event applied at ${replay.replayedTo.lastEventAt} (target ${replay.until})`,
      });
    }
  });
  return checks;
}

/** The backup's tables (named as restored) the restored server lacks now. */
async function missingTables(ctx: Ctx, connection: Connection): Promise<string[]> {
  const facts = recordedFacts(ctx.backup);
  const targetOf = facts.mode === 'logical'
    ? new Map(mapDatabases(facts, ctx.target.renameDatabases).map((m) => [m.source, m.target]))
    : new Map<string, string>();
  const [rows] = await connection.query(
    "SELECT TABLE_SCHEMA AS db, TABLE_NAME AS tbl FROM information_schema.TABLES WHERE TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED', 'SEQUENCE')",
  ) as [Array<{ db: string; tbl: string }>, unknown];
  const present = new Set(rows.map((r) => tableKey(r.db, r.tbl)));
  const stored = await storedTableName(connection);
  return facts.tables.map((t) => ({ database: targetOf.get(t.database) ?? t.database, table: t.table }))
    .filter((t) => !present.has(tableKey(stored(t.database), stored(t.table)))).map((t) => `${t.database}.${t.table}`);
}

/**
 * `pitr-gtid-reached`: the restored server's GTID position covers `untilGtid`. A replay kept to one
 * database (logical restore) leaves no GTID on the server for other databases' transactions, and a
 * server without binary logging records none: then the replay's own record is the proof (the tool
 * printed every transaction up to the GTID and the client applied its output without an error).
 */
function gtidReachedCheck(replay: ReplayReport, untilGtid: string, serverPosition: string): ValidationCheck {
  if (serverPosition !== '' && !replay.database) {
    const ok = positionCovers(serverPosition, untilGtid);
    return {
      name: 'pitr-gtid-reached',
      ok,
      detail: ok ? `server GTID position ${serverPosition} covers ${untilGtid}` : `server GTID position ${serverPosition} does not reach ${untilGtid}: ${replay.coverage}`,
    };
  }
  const why = replay.database
    ? `only ${replay.database}'s changes were replayed, so the server's GTID position (${serverPosition || 'empty'}) need not show it`
    : 'the server records no GTID position (binary logging off)';
  return { name: 'pitr-gtid-reached', ok: replay.reachedTarget, detail: `${replay.coverage}; ${why}` };
}

/** The archives of `history` (this backup and the later ones of its binlog history: {@link sameHistory}). */
function archivesFrom(history: readonly BackupRecord[]): {
  list: Array<{ backupId: string; binlogs: string[]; artifacts: StoredArtifact[] }>;
  /** Latest `binlogArchive.archivedAt` recorded by the archives used (ms), when recorded. */
  archivedAt?: number;
} {
  const list = history.map((backup) => {
    const facts = recordedFacts(backup);
    return { backupId: backup.backupId, binlogs: facts.binlogs ?? [], artifacts: backup.artifacts, facts };
  });
  const times = list
    .map((a) => (a.facts.binlogArchive as { archivedAt?: unknown } | undefined)?.archivedAt)
    .filter((t): t is string => typeof t === 'string')
    .map((t) => Date.parse(t));
  return {
    list: list.filter((a) => a.binlogs.length > 0).map(({ backupId, binlogs, artifacts }) => ({ backupId, binlogs, artifacts })),
    archivedAt: times.length > 0 ? Math.max(...times) : undefined,
  };
}

/**
 * `backups` (this one first, then the later ones, oldest first) up to the first taken after the
 * server's binlog history started again (`RESET MASTER`, another server): its recorded GTID
 * position went back in a domain, its binlog file's number went back, or its archive holds a file
 * of a name an earlier archive holds but created at another time (binlog-archive.ts `created`).
 * Such a backup's archive holds files of the same names and other contents, and its time says
 * nothing of this history.
 */
export function sameHistory(backups: readonly BackupRecord[]): BackupRecord[] {
  const kept: BackupRecord[] = [];
  const highest = new Map<number, number>();
  const createdAt = new Map<string, string>();
  let file = 0;
  for (const backup of backups) {
    const created = (recordedFacts(backup).binlogArchive as { created?: Record<string, string> } | undefined)?.created ?? {};
    const recreated = Object.entries(created).some(([name, at]) => createdAt.has(name) && createdAt.get(name) !== at);
    const consistency = recordedConsistency(backup);
    const sequence = consistency.binlogFile ? binlogSequence(consistency.binlogFile) : file;
    const position = mariadbPosition(consistency.gtid); // empty for MySQL: the file numbers decide
    const wentBack = recreated || sequence < file || [...position].some(([domain, gtid]) => gtid.sequence < (highest.get(domain) ?? 0));
    if (kept.length > 0 && wentBack) break;
    kept.push(backup);
    for (const [name, at] of Object.entries(created)) createdAt.set(name, at);
    file = Math.max(file, sequence);
    for (const [domain, gtid] of position) highest.set(domain, Math.max(highest.get(domain) ?? 0, gtid.sequence));
  }
  return kept;
}

/**
 * `binlog tool | scanner | mariadb`, both sides' stderr kept; the client's failure wins. Without
 * `sourceGtids` (a logical restore's target, another server) the transactions' GTID settings are
 * dropped on the way (gtid-settings-filter.ts).
 */
async function pipeReplay(command: string, argv: string[], optionFile: string, sourceGtids: boolean, signal?: AbortSignal): Promise<BinlogEventScanner> {
  const scanner = new BinlogEventScanner();
  const through = sourceGtids ? [scanner] : [scanner, new GtidSettingsFilter()];
  await runToolPipe(
    { command, argv, what: `${command} (reading the archived binlogs)` },
    { command: 'mariadb', argv: applyArgv(optionFile), what: 'applying the binlog replay (mariadb client)' },
    { errors: MYSQL_TOOLS, fallbackCode: 'PITR_REPLAY_FAILED', env: { ...process.env, TZ: 'UTC' }, signal, through },
  );
  return scanner;
}

/**
 * Reads the restored server's GTID variables; after a physical restore also moves
 * `gtid_slave_pos` to the end of the replay (the server is a copy of the source up to there).
 */
async function afterReplay(ctx: Ctx, physical: boolean, position: string): Promise<ReplayReport['server']> {
  return withConnection(ctx.target, onRestoredServer('reading the GTID state after the replay'), async (connection) => {
    const notSet = physical && position ? await setGtidSlavePos(connection, position, ctx) : undefined;
    const [[vars]] = await connection.query('SELECT @@GLOBAL.gtid_binlog_pos AS b, @@GLOBAL.gtid_slave_pos AS s, @@GLOBAL.gtid_current_pos AS c') as [Array<{ b: string; s: string; c: string }>, unknown];
    return { gtidBinlogPos: vars.b || null, gtidSlavePos: vars.s || null, gtidCurrentPos: vars.c || null, ...(notSet ? { gtidSlavePosNotSet: notSet } : {}) };
  });
}

/** Messages for work on the restored server. */
const onRestoredServer = (doing: string) => ({ connecting: '(the restored server)', doing });
