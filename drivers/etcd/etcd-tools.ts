/**
 * The offline snapshot tools. etcd 3.5+ ships `etcdutl` for file operations (`snapshot status`,
 * `snapshot restore`); etcd 3.4 only has `etcdctl` (with `ETCDCTL_API=3`), which takes the same
 * flags. The argv builders are pure so both flavours are unit-testable without either installed.
 */
import { PermanentError } from '../../core/errors';
import { hasCommand } from '../../core/host/debian-packages';
import { runTool } from '../../core/host/run-tool';
import type { ToolErrors } from '../../core/host/tool-errors';

export type EtcdToolFlavour = 'etcdutl' | 'etcdctl';

/** A snapshot tool found on this host. */
export interface EtcdTool {
  flavour: EtcdToolFlavour;
  /** Executable to run (name on PATH or absolute path). */
  command: string;
  /** Extra environment the tool needs (`ETCDCTL_API=3` for etcdctl). */
  env: Record<string, string>;
}

/** Builds the {@link EtcdTool} description of a flavour. */
export function etcdTool(flavour: EtcdToolFlavour, command: string = flavour): EtcdTool {
  return { flavour, command, env: flavour === 'etcdctl' ? { ETCDCTL_API: '3' } : {} };
}

/**
 * Finds the snapshot tool: `etcdutl` (etcd 3.5+) when present, else `etcdctl` (3.4).
 * @throws PermanentError `MISSING_TOOL` when neither is on PATH.
 */
export function detectEtcdTool(isAvailable: (command: string) => boolean = hasCommand): EtcdTool {
  if (isAvailable('etcdutl')) return etcdTool('etcdutl');
  if (isAvailable('etcdctl')) return etcdTool('etcdctl');
  throw new PermanentError(
    'neither etcdutl (etcd 3.5+) nor etcdctl (etcd 3.4) is on PATH; install the etcd client tools (Debian: etcd-client)',
    { code: 'MISSING_TOOL', engine: 'etcd' },
  );
}

/** argv (without the command) for `snapshot status <file> -w json`. */
export function snapshotStatusArgv(_tool: EtcdTool, snapshotPath: string): string[] {
  return ['snapshot', 'status', snapshotPath, '--write-out=json'];
}

export interface SnapshotRestoreOptions {
  snapshotPath: string;
  /** Member name of the restored member. */
  name: string;
  dataDir: string;
  /** Peer URL this member advertises. */
  peerUrl: string;
  /** `name=peerUrl[,name2=peerUrl2...]`; defaults to this member alone. */
  initialCluster?: string;
  /** The NEW cluster's token. */
  clusterToken: string;
  /** Skip the sha256 trailer check: only for a raw `member/snap/db` copy, which has no trailer. */
  skipHashCheck?: boolean;
}

/** argv (without the command) for `snapshot restore`. Identical flags for etcdctl 3.4 and etcdutl 3.5+. */
export function snapshotRestoreArgv(_tool: EtcdTool, options: SnapshotRestoreOptions): string[] {
  const argv = [
    'snapshot', 'restore', options.snapshotPath,
    `--name=${options.name}`,
    `--data-dir=${options.dataDir}`,
    `--initial-cluster=${options.initialCluster ?? `${options.name}=${options.peerUrl}`}`,
    `--initial-cluster-token=${options.clusterToken}`,
    `--initial-advertise-peer-urls=${options.peerUrl}`,
  ];
  if (options.skipHashCheck) argv.push('--skip-hash-check');
  return argv;
}

/** Output that says the snapshot file itself is bad (etcdctl 3.4 and etcdutl 3.5 wordings). */
const CORRUPT = /expected sha256|integrity check failed|snapshot file .* (corrupt|invalid)|invalid database|file size too small/i;

/** What the snapshot tools' failures mean: a damaged snapshot, else `ETCD_TOOL_FAILED`. */
export const ETCD_TOOLS: ToolErrors = {
  engine: 'etcd',
  fallbackCode: 'ETCD_TOOL_FAILED',
  diagnose: (stderr) => (CORRUPT.test(stderr) ? { code: 'SNAPSHOT_CORRUPT', summary: 'the snapshot is corrupt' } : undefined),
};

/**
 * Runs the tool with `argv` to completion (core/host/run-tool.ts), stdout captured.
 * @throws PermanentError `SNAPSHOT_CORRUPT` when the tool reports a hash/integrity failure,
 *   `MISSING_TOOL` when it cannot be started, else `ETCD_TOOL_FAILED`; the tool's stderr is in the message.
 */
function runEtcdTool(tool: EtcdTool, argv: string[], options: { timeoutMs?: number } = {}): Promise<{ stdout: string }> {
  return runTool(tool.command, argv, {
    errors: ETCD_TOOLS,
    what: `${tool.command} ${argv.join(' ')}`,
    env: { ...process.env, ...tool.env },
    captureStdout: true,
    timeoutMs: options.timeoutMs ?? 30 * 60_000,
  });
}

/** What `snapshot status` reports about a snapshot file. */
export interface SnapshotStatus {
  /** etcd's hash of the backend's key space (crc32), as reported by the tool. */
  hash: number;
  /** Highest revision stored in the snapshot's key bucket. */
  revision: number;
  /** Entries in the backend, all buckets (not the number of keys). */
  totalKey: number;
  /** Backend size in bytes. */
  totalSize: number;
  /** Storage version (etcdutl 3.5+ only). */
  version?: string;
}

/** The end of `text`, at most `max` characters. */
function tail(text: string, max: number): string {
  const trimmed = text.trim();
  return trimmed.length <= max ? trimmed : `…${trimmed.slice(-max)}`;
}

/** Parses the `-w json` output of `snapshot status`. */
export function parseSnapshotStatus(stdout: string): SnapshotStatus {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(stdout.trim()) as Record<string, unknown>;
  } catch {
    throw new PermanentError(`snapshot status printed something that is not JSON: ${tail(stdout, 300)}`, {
      code: 'ETCD_TOOL_FAILED', engine: 'etcd',
    });
  }
  const num = (field: string): number => {
    const value = parsed[field];
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new PermanentError(`snapshot status JSON has no numeric "${field}": ${tail(stdout, 300)}`, {
        code: 'ETCD_TOOL_FAILED', engine: 'etcd',
      });
    }
    return value;
  };
  const status: SnapshotStatus = { hash: num('hash'), revision: num('revision'), totalKey: num('totalKey'), totalSize: num('totalSize') };
  if (typeof parsed.version === 'string') status.version = parsed.version;
  return status;
}

/** Runs `snapshot status` on a snapshot file and parses its answer. */
export async function snapshotStatus(snapshotPath: string, tool: EtcdTool = detectEtcdTool()): Promise<SnapshotStatus> {
  const { stdout } = await runEtcdTool(tool, snapshotStatusArgv(tool, snapshotPath), { timeoutMs: 10 * 60_000 });
  return parseSnapshotStatus(stdout);
}

/** Runs `snapshot restore` into a data dir (which must not exist yet). */
export async function snapshotRestore(options: SnapshotRestoreOptions, tool: EtcdTool = detectEtcdTool()): Promise<void> {
  await runEtcdTool(tool, snapshotRestoreArgv(tool, options));
}
