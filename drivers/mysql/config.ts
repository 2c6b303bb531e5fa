/**
 * Configuration of the MySQL/MariaDB driver: how to reach and what to take from an instance, and
 * where to restore to. Secrets (`{ "$secret": ... }`) are resolved before the driver sees them.
 */
import { z } from 'zod';
import { absolutePath } from '../../core/config/path-field';
import { connectionShape, identifier, mysqlEndpoint } from './shared/connection-config';

export { mysqlEndpoint };

/**
 * Row data per chunk (bytes of row packets) unless the caller says otherwise: 16 MiB. Smaller than
 * a small server's buffer pool (128 MiB by default), so a restore reads each key range back while
 * its pages are still there (measured on MariaDB 10.11, 128 MiB pool, 2 connections: 256 MB of
 * 250-byte rows restored in 5.2–5.3 s with 16 MiB chunks, 5.5–5.6 s with 64 MiB; 256 MB of 11 KB
 * BLOB rows 2.8–3.0 s against 3.9 s; the dump's time unchanged).
 */
export const CHUNK_BYTES = 16 * 1024 * 1024;

export const mysqlConfigSchema = z.strictObject({
  ...connectionShape,
  /** `logical`: a consistent dump over the network. `physical`: mariabackup/xtrabackup on the host. */
  mode: z.enum(['logical', 'physical']).default('logical'),
  /** Databases to back up (default: every database but the system ones). */
  databases: z.array(identifier).min(1).optional(),
  /** Databases to leave out. */
  excludeDatabases: z.array(identifier).default([]),
  /** Tables dumped at once (logical). */
  parallelism: z.number().int().min(1).max(64).default(4),
  /** Rows per chunk file (logical); a chunk is written, checked and retried as a unit. */
  chunkRows: z.number().int().min(1).default(200_000),
  /** Row data per chunk file (logical, bytes as the server sends them; the row reaching it ends the chunk), so wide rows are cut too. */
  chunkBytes: z.number().int().min(1).default(CHUNK_BYTES),
  /** Also capture users and grants (logical). */
  includeUsers: z.boolean().default(false),
  /** Also archive the server's binary logs, for point-in-time recovery. */
  archiveBinlogs: z.boolean().default(false),
  /**
   * Stream artifacts straight into the store as they are produced (no copy on the host; a failed
   * write is retried from the database). `false` spools them on the host and uploads afterwards
   * (a resumable upload, for slow or flaky links to the store).
   */
  streamToStore: z.boolean().default(true),
  /** Physical mode: the backup tool and the server's data dir on this host. */
  physical: z.strictObject({
    tool: z.enum(['mariabackup', 'xtrabackup']).optional(),
    datadir: absolutePath().optional(),
    parallel: z.number().int().min(1).max(64).default(2),
    /**
     * After streaming, read the backup back, extract it into the spool (scratch space for one
     * extracted copy), `--prepare` it and record every table's rows and digest from it, so the
     * restore can be proven table by table. `false`: nothing of the backup is kept on the host,
     * no table facts are recorded, and the restore's `--prepare` is the first.
     */
    prepareCheck: z.boolean().default(true),
  }).default({ parallel: 2, prepareCheck: true }),
});
export type MysqlConfig = z.infer<typeof mysqlConfigSchema>;

/** Replay of archived binary logs after the restore, up to a time or a GTID (inclusive). */
const pointInTimeSchema = z.strictObject({
  /** Stop before the first event after this time (ISO 8601). */
  until: z.iso.datetime({ offset: true }).optional(),
  /** Stop after this GTID (MariaDB `domain-server-seq`). */
  untilGtid: z.string().regex(/^\d+-\d+-\d+$/).optional(),
}).refine((p) => (p.until === undefined) !== (p.untilGtid === undefined), { message: 'give exactly one of until or untilGtid' });

export const mysqlRestoreTargetSchema = z.strictObject({
  ...connectionShape,
  /** Rename databases on the way in: `{ "shop": "shop_restored" }`. */
  renameDatabases: z.record(identifier, identifier).default({}),
  /** Chunks loaded at once (one connection each; a logical restore opens one more, which reads each table back as it is loaded). */
  parallelism: z.number().int().min(1).max(64).default(4),
  /**
   * Logical restores: write the restore to the target's binary log (the default), so replicas of
   * the target follow it. `false` keeps the restore's schema, rows and point-in-time replay out of
   * it (`sql_log_bin = 0` for its sessions, myloader's default): faster, up to twice with BLOBs,
   * but replicas of the target and binlog-based recovery of it never see the restored data. Needs
   * the privilege to set `sql_log_bin` (MariaDB `BINLOG ADMIN`, MySQL `SUPER` or
   * `SYSTEM_VARIABLES_ADMIN`).
   */
  binlog: z.boolean().default(true),
  /** Physical restores: the new server's data dir on this host, and the port to start it on. */
  physical: z.strictObject({
    datadir: absolutePath(),
    start: z.boolean().default(true),
    /**
     * Let the restore stop a server it finds running on `datadir` that it did not start itself
     * (an earlier restore's server still in use, or one started by hand). Without it such a
     * server is never stopped and the restore is refused.
     */
    stopRunningServer: z.boolean().default(false),
    /**
     * The started server's `server_id` (default: the source's plus one). A copy that is to
     * replicate from the source, or be replicated from, needs one no other server of the
     * topology has.
     */
    serverId: z.number().int().min(1).max(4_294_967_295).optional(),
  }).optional(),
  pointInTime: pointInTimeSchema.optional(),
});
export type MysqlRestoreTarget = z.infer<typeof mysqlRestoreTargetSchema>;
