/**
 * Each instance against its bounds, from the store alone: the age of the newest backup `restore
 * latest` takes against the RPO, the newest good restore drill's age against its limit, what that drill measured (the
 * RTO: restore time and throughput), and whether the newest drill failed. A backup counts only
 * while it can be restored: one whose chain is broken (a backup it extends gone or failed by a
 * re-verification) does not, nor does a drill of it, and the newest such backup is a problem. What `dbbackup report`
 * prints, and what a cron job or CI alerts on.
 */
import { isRestorable, isVerified, type CatalogEntry } from './catalog';
import { chainProblems } from './backup-chain';

/** The limits one instance is held to, in hours. */
export interface HealthBounds {
  rpoHours: number;
  drillMaxAgeHours: number;
}

export interface InstanceHealth {
  engine: string;
  instance: string;
  bounds: HealthBounds;
  /** The newest backup `restore latest` takes (verified, its chain whole, no drill failed to restore it): its age is the RPO. */
  newestBackup?: { backupId: string; completedAt: string; ageHours: number };
  /** The newest drill that restored and validated a backup. */
  newestGoodDrill?: { backupId: string; drilledAt: string; ageHours: number; restoreDurationMs: number; bytes: number; bytesPerSecond: number };
  /** The newest verified backup, when it cannot be restored (a backup it rests on is gone or failed its verification). */
  newestBroken?: { backupId: string; reason: string };
  /** The newest drill of all, when it failed. */
  newestDrillFailed?: { backupId: string; drilledAt: string; reason: string };
  /** What is out of bounds, in words; empty when nothing is. */
  problems: string[];
}

const HOUR_MS = 3600_000;
const hours = (value: number): string => `${value.toFixed(1)} h`;

/**
 * The health of every instance `entries` hold, and of each `expected` one (an instance the
 * instances file lists that has no backup at all is out of bounds), sorted by engine and instance.
 */
export function instanceHealth(
  entries: readonly CatalogEntry[],
  boundsOf: (engine: string, instance: string) => HealthBounds,
  options: { now?: Date; expected?: ReadonlyArray<{ engine: string; instance: string }> } = {},
): InstanceHealth[] {
  const now = (options.now ?? new Date()).getTime();
  const groups = new Map<string, CatalogEntry[]>();
  for (const { engine, instance } of options.expected ?? []) groups.set(`${engine}/${instance}`, []);
  for (const entry of entries) {
    const key = `${entry.engine}/${entry.instance}`;
    groups.set(key, [...(groups.get(key) ?? []), entry]);
  }
  return [...groups.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([key, group]) => {
    const [engine, instance] = key.split('/');
    const bounds = boundsOf(engine, instance);
    const ageHours = (at: string) => (now - Date.parse(at)) / HOUR_MS;
    const health: InstanceHealth = { engine, instance, bounds, problems: [] };
    // A backup counts only while it can be restored: verified, its artifacts stored whole (as far as
    // the listing tells: `unstored`), and so is every backup it rests on.
    const brokenChain = chainProblems(group);
    const restorable = (entry: CatalogEntry) => isVerified(entry) && entry.unstored === undefined && brokenChain(entry) === undefined;
    const verified = group.filter(isVerified).sort((a, b) => b.backupId.localeCompare(a.backupId));
    // The RPO is the age of what `restore latest` would take now: not a backup a drill failed to restore.
    const backup = verified.find((entry) => restorable(entry) && isRestorable(entry));
    if (backup?.manifest) {
      health.newestBackup = { backupId: backup.backupId, completedAt: backup.manifest.completedAt, ageHours: ageHours(backup.manifest.completedAt) };
    }
    const broken = verified[0] && brokenChain(verified[0]);
    if (broken) health.newestBroken = { backupId: verified[0].backupId, reason: broken };
    const drills = group.flatMap((e) => (e.drill ? [{ ...e.drill, restorable: restorable(e) }] : [])).sort((a, b) => b.drilledAt.localeCompare(a.drilledAt));
    const good = drills.find((d) => d.ok && d.restorable);
    if (good) {
      health.newestGoodDrill = {
        backupId: good.backupId, drilledAt: good.drilledAt, ageHours: ageHours(good.drilledAt),
        restoreDurationMs: good.restoreDurationMs, bytes: good.bytes, bytesPerSecond: good.bytesPerSecond,
      };
    }
    if (drills[0] && !drills[0].ok) {
      health.newestDrillFailed = { backupId: drills[0].backupId, drilledAt: drills[0].drilledAt, reason: drills[0].reason ?? 'failed' };
    }
    health.problems = problemsOf(health);
    return health;
  });
}

function problemsOf(health: InstanceHealth): string[] {
  const { bounds, newestBackup, newestGoodDrill, newestDrillFailed, newestBroken } = health;
  const problems: string[] = [];
  if (newestBroken) problems.push(`newest verified backup ${newestBroken.backupId} cannot be restored: ${newestBroken.reason}`);
  if (!newestBackup) problems.push(newestBroken || newestDrillFailed ? 'no verified backup that can be restored' : 'no verified backup');
  else if (newestBackup.ageHours > bounds.rpoHours) problems.push(`newest backup restore latest takes is ${hours(newestBackup.ageHours)} old, over its RPO of ${hours(bounds.rpoHours)}`);
  if (!newestGoodDrill) problems.push('no backup restore-verified by a drill');
  else if (newestGoodDrill.ageHours > bounds.drillMaxAgeHours) problems.push(`newest good drill is ${hours(newestGoodDrill.ageHours)} old, over its limit of ${hours(bounds.drillMaxAgeHours)}`);
  if (newestDrillFailed) problems.push(`newest drill (of ${newestDrillFailed.backupId}) failed: ${newestDrillFailed.reason}`);
  return problems;
}
