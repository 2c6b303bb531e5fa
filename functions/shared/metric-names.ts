/**
 * The CloudWatch metrics the step functions publish and the stack's alarms and dashboard read, in
 * one place so the two cannot drift apart (a misspelt name is a dashboard that stays empty and an
 * alarm that never fires). Plain constants: the CDK app imports them without Powertools.
 */

/** Namespace of every metric. */
export const METRICS_NAMESPACE = 'DBBackup';
/** The `service` dimension Powertools adds to every metric. */
export const METRICS_SERVICE = 'dbbackup';

/** Metric names; each is published with `engine` and `instance` dimensions. */
export const METRIC = {
  backupSucceeded: 'BackupSucceeded',
  backupFailed: 'BackupFailed',
  backupBytes: 'BackupBytes',
  backupDuration: 'BackupDuration',
  backupThroughput: 'BackupThroughput',
  /** Hours since the last good backup; finalize publishes 0 after each one. */
  lastGoodBackupAgeHours: 'LastGoodBackupAgeHours',
  restoreSucceeded: 'RestoreSucceeded',
  restoreFailed: 'RestoreFailed',
  restoreBytes: 'RestoreBytes',
  restoreDuration: 'RestoreDuration',
  /** A drill restored the backup and its validation passed. */
  drillSucceeded: 'DrillSucceeded',
  /** A drill's restore failed or did not validate (the backup is marked restore failed). */
  drillFailed: 'DrillFailed',
  /** A good drill's measured restore time (RTO), in seconds. */
  restoreDurationSeconds: 'RestoreDurationSeconds',
  /** A good drill's restore throughput. */
  restoreBytesPerSecond: 'RestoreBytesPerSecond',
  /** Hours since the newest good drill; each good drill publishes 0. */
  lastGoodDrillAgeHours: 'LastGoodDrillAgeHours',
} as const;

export type MetricName = (typeof METRIC)[keyof typeof METRIC];
