/**
 * What the MySQL/MariaDB tools' failures mean (mariabackup, xtrabackup, mbstream, mariadb-binlog,
 * the mariadb client): how core/host/tool-errors.ts reads their stderr. Auth, privileges and
 * corruption are permanent; an unreachable or restarting server is transient.
 */
import { AUTH_FAILED } from '../../../core/errors';
import type { ToolDiagnosis, ToolErrors } from '../../../core/host/tool-errors';
import { ENGINE } from './layout';

/** The known cause a failed MySQL tool's stderr names, if any. */
function diagnose(stderr: string): ToolDiagnosis | undefined {
  const needed = /you need \(at least one of\) the (.+?) privilege/i.exec(stderr);
  if (needed) return { code: 'MYSQL_PRIVILEGES', summary: `the user lacks the ${needed[1]} privilege` };
  const missing = [...stderr.matchAll(/missing required privilege (.+?) on/gi)].map((m) => m[1]);
  if (missing.length > 0) {
    return {
      code: 'MYSQL_PRIVILEGES',
      summary: `the backup user lacks ${missing.join(', ')}; mariabackup needs RELOAD, PROCESS, LOCK TABLES and BINLOG MONITOR (REPLICATION CLIENT before 10.5) on *.*`,
    };
  }
  if (/Access denied for user/i.test(stderr)) return { code: AUTH_FAILED, summary: 'authentication failed (MYSQL_AUTH): wrong user or password' };
  const unquoted = /failed to execute query BACKUP LOCK (.+?): Incorrect table name/i.exec(stderr);
  if (unquoted) {
    return {
      code: 'MYSQL_UNSUPPORTED_NAME',
      summary: `it cannot lock the non-InnoDB table ${unquoted[1]}: it does not quote a backtick in a database or table name (a mariabackup bug); rename it, convert it to InnoDB, or back up in logical mode`,
    };
  }
  if (/Can't connect to|Lost connection to|server has gone away|Too many connections|is not allowed to connect/i.test(stderr)) {
    return { transient: true, code: 'MYSQL_UNAVAILABLE', summary: 'cannot reach the server' };
  }
  if (/invalid checksum|xb_stream_read_chunk|incorrect chunk|my_read\(\) failed|unexpected end of (stream|file)|corrupt/i.test(stderr)) {
    return { code: 'SNAPSHOT_CORRUPT', summary: 'the backup stream is corrupt or truncated' };
  }
  if (/Could not find first log file name in binary log index|could not find next log|Error reading packet from server: .*purged/i.test(stderr)) {
    return { code: 'BINLOG_NOT_FOUND', summary: 'a binary log is no longer on the server (purged?)' };
  }
  if (/No space left on device|errno: ?28\b/i.test(stderr)) return { code: 'DISK_FULL', summary: 'no space left on device' };
  return undefined;
}

/** The MySQL driver's tools, for core/host's runTool, spawnStreamingTool and runToolPipe. */
export const MYSQL_TOOLS: ToolErrors = { engine: ENGINE, fallbackCode: 'MYSQL_TOOL_FAILED', diagnose };
