/** Human-readable output of the CLI. */
import type { StoredForm } from '../core/crypto/artifact-encoding';
import type { BackupSummary } from '../core/backup/backup-state';
import type { RestoreReport, RestoreSummary } from '../core/restore/restore-state';
import type { RemoteExecution } from '../core/remote/remote-executions';
import type { CatalogEntry } from '../core/catalog/catalog';
import { chainProblems } from '../core/catalog/backup-chain';
import type { VerificationRecord } from '../core/catalog/verification';
import type { DrillRecord } from '../core/catalog/drill-record';
import type { InstanceHealth } from '../core/catalog/health-report';
import type { DrillOutcome } from './commands/drill';
import type { PoolSweepReport } from '../core/catalog/pool-sweep';
import type { PruneDecision } from '../core/catalog/prune';
import type { Leftover } from '../core/runs/leftovers';
import { formatBytes } from '../core/config/units';

/** `header` and `rows` as lines of columns, each as wide as its widest cell. */
function columns(header: string[], rows: string[][]): string[] {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((r) => r[i].length)));
  return [header, ...rows].map((r) => r.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd());
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

export function formatBackup(s: BackupSummary): string {
  const kinds = [s.resume?.resumed ? 'resumed' : undefined, s.extends ? `incremental, extends ${s.extends}` : undefined].filter(Boolean);
  return [
    `backup ${s.backupId} complete${kinds.length > 0 ? ` (${kinds.join('; ')})` : ''}`,
    ...(s.resume ? [`  resume           ${s.resume.resumed ? '' : 'not resumed: '}${s.resume.reason}`] : []),
    ...(s.incremental ? [`  incremental      ${s.incremental.reason}`] : []),
    `  engine/instance  ${s.engine}/${s.instance}`,
    `  bytes            ${formatBytes(s.bytes)} (${formatBytes(s.sentBytes)} sent by this run)`,
    ...(s.stored ? [`  stored           ${storedText(s.stored.bytes, s.stored.compression, s.stored.encryptedWith ?? [])}`] : []),
    `  duration         ${seconds(s.durationMs)}`,
    `  consistency      ${JSON.stringify(s.consistency)}`,
    `  validation       ${s.validation.ok ? 'ok' : 'FAILED'} (${s.validation.checks} checks)`,
  ].join('\n');
}

export function formatRestore(s: RestoreReport): string {
  const failed = s.validation.checks.filter((c) => !c.ok);
  return [
    `restore of ${s.backupId} ${s.validation.ok ? 'validated' : 'FAILED validation'}`,
    ...passedOverLines(s.passedOver),
    `  engine/instance  ${s.engine}/${s.instance}`,
    `  endpoint         ${JSON.stringify(s.endpoint)}`,
    `  bytes            ${formatBytes(s.bytes)}`,
    `  restore time     ${seconds(s.restoreDurationMs)} (total ${seconds(s.totalDurationMs)})`,
    `  validation       ${s.validation.checks.map((c) => `${c.name}:${c.ok ? 'ok' : 'FAIL'}`).join(' ')}`,
    ...failed.map((c) => `    ${c.name}: ${c.detail ?? 'failed'}`),
  ].join('\n');
}

/** `latest` restored an older backup than the newest: which newer ones it passed over, and why. */
export function passedOverLines(passedOver: Array<{ backupId: string; why: string }> | undefined): string[] {
  if (!passedOver?.length) return [];
  return [`  NOT the newest:  newer backups passed over, each with why:`, ...passedOver.map((p) => `    ${p.backupId} ${p.why}`)];
}

/** The warning for stderr when `latest` meant an older backup than the newest (`did`: what was done with it, "restored"), or undefined. */
export function passedOverWarning(did: string, backupId: string, passedOver: Array<{ backupId: string; why: string }> | undefined): string | undefined {
  const [newest, ...more] = passedOver ?? [];
  if (!newest) return undefined;
  return `dbbackup: warning: ${did} ${backupId}, not the newest backup: ${newest.backupId} ${newest.why}${more.length > 0 ? ` (${more.length} more newer backup(s) passed over${did === 'restored' ? ': see the output' : ''})` : ''}\n`;
}

/** A backup's state in words; given what is wrong with each chain (`brokenChain`), an incremental one whose chain is broken says so. */
function status(e: CatalogEntry, brokenChain?: (entry: CatalogEntry) => string | undefined): string {
  if (e.damage) return 'DAMAGED';
  if (!e.complete) return 'incomplete';
  if ((e.verification && !e.verification.ok) || e.unstored) return 'CORRUPT';
  if (!e.manifest?.validation.ok) return 'invalid';
  if (brokenChain?.(e) !== undefined) return 'CHAIN BROKEN';
  if (e.drill) return e.drill.ok ? 'restore-verified' : 'RESTORE FAILED';
  return e.verification ? 'verified' : 'complete';
}

/** What a damaged backup's damage means for the user, and what to do about it. */
function damageNote(e: CatalogEntry): string {
  const damage = e.damage!;
  const consequence = damage.file === 'manifest.json'
    ? 'it cannot be verified or restored; prune removes it like an incomplete backup'
    : damage.file === 'drill.json'
      ? `its last drill is unknown, so it is never "latest"; its data is not affected: restore it by id, or delete the unreadable drill.json (a drill of the instance drills its newest backup)`
      : `its last verification is unknown, so it is never "latest"; run \`dbbackup verify ${e.backupId}\` to record a new one`;
  return `${damage.file} is unreadable (${damage.reason}): ${consequence}`;
}

/** What a backup extends, for the list's EXTENDS column: its base, `(full)`, or `-` without a readable manifest. */
function extendsCell(e: CatalogEntry): string {
  if (!e.manifest) return '-';
  return e.manifest.extends ?? '(full)';
}

/**
 * `list --json`'s entries: each backup with its manifest's header — its facts (a MySQL backup's
 * per-table facts) and artifact list (a file per table and chunk) left out for their count — and
 * its verification's artifacts counted, only the failed ones named: a backup of 1 000 tables
 * listed as 1.2 MB of JSON. `show --json` prints one whole. `listStatus` is the STATUS the text
 * list shows (`CORRUPT`, `RESTORE FAILED`, `verified`…), where `status` says only whether the
 * backup is complete.
 */
export function listedEntries(entries: CatalogEntry[]): unknown[] {
  const brokenChain = chainProblems(entries);
  return entries.map((e) => {
    const { manifest, verification, ...entry } = e;
    const { facts: _facts, artifacts, ...header } = manifest ?? { artifacts: [] };
    const { artifacts: checked, ...verified } = verification ?? { artifacts: [] };
    return {
      ...entry,
      listStatus: status(e, brokenChain),
      ...(manifest ? { manifest: { ...header, artifactCount: artifacts.length } } : {}),
      ...(verification ? { verification: { ...verified, artifactCount: checked.length, failed: checked.filter((a) => !a.ok) } } : {}),
    };
  });
}

export function formatList(entries: CatalogEntry[], hidden = 0): string {
  const unlisted = hidden === 0 ? [] : [`${hidden} incomplete backup${hidden === 1 ? '' : 's'} (crashed or still running) not listed: list --all shows ${hidden === 1 ? 'it' : 'them'}`];
  if (entries.length === 0) return ['no backups', ...unlisted].join('\n');
  // The EXTENDS column only where some backup is incremental: a store of full backups lists as it always did.
  const chained = entries.some((e) => e.manifest?.extends !== undefined);
  const brokenChain = chainProblems(entries);
  const rows = entries.map((e) => [
    e.backupId, e.engine, e.instance, formatBytes(e.manifest?.bytes ?? e.storedBytes), status(e, brokenChain), e.createdAt.toISOString(), ...(chained ? [extendsCell(e)] : []),
  ]);
  const header = ['BACKUP ID', 'ENGINE', 'INSTANCE', 'SIZE', 'STATUS', 'CREATED', ...(chained ? ['EXTENDS'] : [])];
  const table = columns(header, rows);
  const damaged = entries.filter((e) => e.damage);
  const notes = damaged.length === 0 ? [] : ['', 'damaged:', ...damaged.map((e) => `  ${e.engine}/${e.instance}/${e.backupId}: ${damageNote(e)}`)];
  const cut = entries.filter((e) => e.unstored && !(e.verification && !e.verification.ok));
  const cutNotes = cut.length === 0 ? [] : ['', 'artifacts cut short or gone (found by the listing; restore latest passes over these):', ...cut.map((e) => `  ${e.engine}/${e.instance}/${e.backupId}: ${e.unstored}`)];
  return [...table, ...notes, ...cutNotes, ...(unlisted.length > 0 ? ['', ...unlisted] : [])].join('\n');
}

export function formatShow(e: CatalogEntry): string {
  if (!e.manifest) {
    return [
      `backup ${e.backupId} (${status(e)})`,
      `  engine/instance  ${e.engine}/${e.instance}`,
      `  created          ${e.createdAt.toISOString()}`,
      `  stored bytes     ${formatBytes(e.storedBytes)}`,
      `  damaged          ${damageNote(e)}`,
    ].join('\n');
  }
  const m = e.manifest;
  return [
    `backup ${m.backupId} (${status(e)})`,
    `  engine/instance  ${m.engine}/${m.instance} (driver ${m.driver.name} ${m.driver.version})`,
    ...(m.extends ? [`  extends          ${m.extends} (incremental: a restore applies the backups it rests on first)`] : []),
    `  started          ${m.startedAt}`,
    `  completed        ${m.completedAt}`,
    `  bytes            ${formatBytes(m.bytes)}`,
    `  consistency      ${JSON.stringify(m.consistency)}`,
    `  facts            ${factsLine(m.facts)}`,
    `  validation       ${m.validation.checks.map((c) => `${c.name}:${c.ok ? 'ok' : 'FAIL'}`).join(' ')}`,
    `  artifacts`,
    ...m.artifacts.map((a) => `    ${a.name}  ${formatBytes(a.size)}  sha256 ${a.sha256}${a.stored ? `  (stored ${storedFormText(a.stored)})` : ''}`),
    ...(e.unstored ? [`  cut short        ${e.unstored} (found by the listing: restore latest passes over it)`] : []),
    ...(e.verification ? [`  last verified    ${e.verification.verifiedAt} (${e.verification.ok ? 'ok' : 'FAILED'})`] : []),
    ...(e.drill ? [`  last drill       ${formatDrillLine(e.drill)}`] : []),
    ...(e.damage ? [`  damaged          ${damageNote(e)}`] : []),
  ].join('\n');
}

/** Longest field of the facts `show` prints as it is; most fields of an object it names. */
const FACT_CHARS = 60;
const FACT_FIELDS = 5;

/**
 * A backup's facts in a line: each field as JSON when short, else how many items it holds or
 * which fields (a 1 000-table backup's are a megabyte; `--json show` prints them whole).
 */
export function factsLine(facts: Record<string, unknown>): string {
  const short = (value: unknown): string => {
    const text = JSON.stringify(value) ?? String(value);
    if (text.length <= FACT_CHARS) return text;
    if (Array.isArray(value)) return `[${value.length} items]`;
    if (value !== null && typeof value === 'object') {
      const fields = Object.keys(value);
      return fields.length <= FACT_FIELDS ? `{${fields.join(', ')}}` : `{${fields.slice(0, FACT_FIELDS).join(', ')}, … ${fields.length} fields}`;
    }
    return `${text.slice(0, FACT_CHARS - 1)}…`;
  };
  return Object.entries(facts).map(([field, value]) => `${field}=${short(value)}`).join('  ');
}

/** One drill in a line: when, the outcome, restore time and throughput, or why it failed. */
export function formatDrillLine(d: DrillRecord): string {
  const speed = `restore ${seconds(d.restoreDurationMs)}, ${formatBytes(d.bytes)} at ${formatBytes(d.bytesPerSecond)}/s, into ${d.target}`;
  return d.ok ? `${d.drilledAt} restored and validated (${speed})` : `${d.drilledAt} RESTORE FAILED: ${d.reason ?? 'failed'}`;
}

/** The `drill` table: per instance, the backup drilled, its age (RPO), the outcome, restore time and throughput (RTO). */
export function formatDrills(outcomes: DrillOutcome[]): string {
  if (outcomes.length === 0) return 'no backups to drill';
  const hours = (ms: number) => `${(ms / 3600_000).toFixed(1)} h`;
  const rows = outcomes.map((o) => [
    o.engine, o.instance, o.backupId ?? '-', o.backupAgeMs === undefined ? '-' : hours(o.backupAgeMs),
    o.drill ? (o.drill.ok ? 'restore-verified' : 'RESTORE FAILED') : 'NOT DRILLED',
    o.drill?.ok ? seconds(o.drill.restoreDurationMs) : '-',
    o.drill?.ok ? `${formatBytes(o.drill.bytesPerSecond)}/s` : '-',
  ]);
  const header = ['ENGINE', 'INSTANCE', 'BACKUP', 'AGE (RPO)', 'DRILL', 'RESTORE (RTO)', 'THROUGHPUT'];
  const table = columns(header, rows);
  const problems = outcomes.filter((o) => !o.drill?.ok).map((o) => `  ${o.engine}/${o.instance}: ${o.drill?.reason ?? o.error ?? 'failed'}`);
  return [...table, ...(problems.length ? ['', 'failed:', ...problems] : [])].join('\n');
}

/** `report`: one row per instance, then what is out of bounds. */
export function formatHealth(health: InstanceHealth[], filter?: string): string {
  if (health.length === 0) {
    return filter ? `no instance ${filter} in the store or the instances file` : 'no instances: the store holds no backup (name the instances file with --instances)';
  }
  const h = (value: number) => `${value.toFixed(1)} h`;
  const rows = health.map(({ engine, instance, bounds, newestBackup, newestGoodDrill, problems }) => [
    engine, instance,
    newestBackup ? `${h(newestBackup.ageHours)} / ${h(bounds.rpoHours)}` : `- / ${h(bounds.rpoHours)}`,
    newestGoodDrill ? `${h(newestGoodDrill.ageHours)} / ${h(bounds.drillMaxAgeHours)}` : `- / ${h(bounds.drillMaxAgeHours)}`,
    newestGoodDrill ? seconds(newestGoodDrill.restoreDurationMs) : '-',
    newestGoodDrill ? `${formatBytes(newestGoodDrill.bytesPerSecond)}/s` : '-',
    problems.length === 0 ? 'ok' : 'OUT OF BOUNDS',
  ]);
  const header = ['ENGINE', 'INSTANCE', 'BACKUP AGE / RPO', 'GOOD DRILL AGE / LIMIT', 'RESTORE (RTO)', 'THROUGHPUT', 'STATUS'];
  const table = columns(header, rows);
  const problems = health.flatMap((x) => x.problems.map((p) => `  ${x.engine}/${x.instance}: ${p}`));
  return [...table, ...(problems.length ? ['', 'out of bounds:', ...problems] : [])].join('\n');
}

/** What a remote execution was started for. */
export type RemoteKind = 'backup' | 'restore' | 'drill';

/** A remote execution's end: its status, then what it produced, or the failing error and cause. */
export function formatRemoteExecution(execution: RemoteExecution, kind: RemoteKind | undefined): string {
  const head = `execution ${execution.name}: ${execution.status}${execution.stopDate ? ` (${execution.startDate} → ${execution.stopDate})` : ''}`;
  if (execution.status !== 'SUCCEEDED') {
    return execution.error ? `${head}\n  error: ${execution.error}\n  cause: ${execution.cause ?? '-'}` : head;
  }
  const output = (execution.output ?? {}) as { summary?: BackupSummary; report?: RestoreSummary; drillOutcome?: { ok?: boolean; recorded?: boolean; backupId?: string; restoreDurationMs?: number; bytesPerSecond?: number; reason?: string } };
  if (kind === 'backup' && output.summary) return `${head}\n${formatBackup(output.summary)}`;
  const report = output.report;
  const restored = report
    ? `  restored ${report.engine}/${report.instance} ${report.backupId} (${formatBytes(report.bytes)} in ${seconds(report.restoreDurationMs)}); validation ${report.validation.ok ? 'ok' : 'FAILED'}, ${report.validation.checks} checks; report ${report.reportKey}`
    : undefined;
  const drill = output.drillOutcome;
  const drilled = kind === 'drill' && drill
    ? `  drill: ${drill.recorded === false ? 'nothing recorded' : drill.ok ? `restore-verified (RTO ${seconds(drill.restoreDurationMs ?? 0)}, ${formatBytes(drill.bytesPerSecond ?? 0)}/s)` : `RESTORE FAILED: ${drill.reason}`}`
    : undefined;
  return [head, restored, drilled].filter((line) => line !== undefined).join('\n');
}

/** `remote list`: one line per execution, newest first. */
export function formatRemoteList(executions: RemoteExecution[]): string {
  if (executions.length === 0) return 'no executions';
  const rows = executions.map((e) => [e.status, e.startDate ?? '-', e.stopDate ?? '-', e.name]);
  const header = ['STATUS', 'STARTED', 'STOPPED', 'NAME'];
  return columns(header, rows).join('\n');
}

/** Artifacts `verify` names one per line when they are intact: more are counted in one line, so no failure is lost among them. */
const VERIFIED_NAMED = 10;

export function formatVerify(r: VerificationRecord): string {
  const failed = r.artifacts.filter((a) => !a.ok);
  const intact = r.artifacts.filter((a) => a.ok);
  return [
    `verify ${r.backupId}: ${r.ok ? 'ok' : 'FAILED'} (${intact.length} of ${r.artifacts.length} artifacts intact)`,
    ...failed.map((a) => `  FAIL ${a.name}${a.detail ? `: ${a.detail}` : ''}`),
    ...(intact.length <= VERIFIED_NAMED ? intact.map((a) => `  ok   ${a.name}`) : [`  ok   ${intact.length} artifacts (--json lists each)`]),
  ].join('\n');
}

export function formatPrune(decisions: PruneDecision[], applied: boolean): string {
  const deletes = decisions.filter((d) => d.action === 'delete');
  const lines = decisions.map((d) => `  ${d.action === 'delete' ? (applied ? 'deleted' : 'would delete') : 'keep'}  ${d.entry.engine}/${d.entry.instance}/${d.entry.backupId}  (${d.reason})`);
  const tail = applied ? `${deletes.length} backup(s) deleted` : `${deletes.length} backup(s) would be deleted; run again with --apply to delete`;
  return [...lines, tail].join('\n');
}

/** The pool side of `prune`: per engine/instance, what was kept, swept and kept as too young, or why not swept. */
export function formatPools(pools: PoolSweepReport[], applied: boolean): string {
  const tally = (t: PoolSweepReport['kept']) => `${t.objects} (${formatBytes(t.bytes)})`;
  const lines = pools.map((p) => (p.skipped
    ? `  keep  ${p.engine}/${p.instance}: all ${tally(p.kept)}, not swept: ${p.skipped}`
    : `  ${applied ? 'swept' : 'would sweep'} ${tally(p.swept)}  ${p.engine}/${p.instance}: kept ${tally(p.kept)} listed by a manifest and ${tally(p.young)} unlisted but younger than the grace period`));
  const swept = pools.reduce((sum, p) => sum + p.swept.objects, 0);
  const tail = applied ? `${swept} pool object(s) no manifest lists swept` : `${swept} pool object(s) no manifest lists would be swept; run again with --apply to delete them`;
  return ['pools (objects shared by backups):', ...lines, tail].join('\n');
}

/** The host-local side of `prune`: run directories under the spool root and what becomes of them. */
export function formatLeftovers(leftovers: Leftover[], spoolRoot: string, applied: boolean): string {
  const removed = leftovers.filter((l) => l.action === 'remove');
  const bytes = removed.reduce((sum, l) => sum + l.bytes, 0);
  const lines = leftovers.map((l) => `  ${l.action === 'remove' ? (applied ? 'removed' : 'would remove') : 'keep'}  ${l.path}  ${formatBytes(l.bytes)}  (${l.reason})`);
  const tail = applied
    ? `${removed.length} leftover(s) of dead runs removed (${formatBytes(bytes)})`
    : `${removed.length} leftover(s) of dead runs would be removed (${formatBytes(bytes)}); run again with --apply to remove them`;
  return [`leftovers on this host (${spoolRoot}):`, ...lines, tail].join('\n');
}

/** How an artifact is stored when not as its plain bytes: `12 KB, zstd, encrypted (kms arn:…)`. */
function storedFormText(stored: StoredForm): string {
  return storedText(stored.size, stored.compression, stored.dataKey ? [`${stored.dataKey.provider} ${stored.dataKey.keyId}`] : []);
}

/** Stored bytes, codec and wrapping keys (`<provider> <key id>`) as one phrase: `12 KB, zstd, encrypted (data key wrapped by kms arn:…)`. */
function storedText(bytes: number, compression: string | undefined, keys: readonly string[]): string {
  return [formatBytes(bytes), ...(compression ? [compression] : []), ...keys.map((k) => `encrypted (data key wrapped by ${k})`)].join(', ');
}
