/**
 * ZooKeeper 3.9's AdminServer `snapshot` command (ZOOKEEPER-4570, Commands.SnapshotCommand):
 * `GET <adminUrl>/commands/snapshot?streaming=true` makes the server write a fresh snapshot and
 * streams its bytes back (`application/octet-stream`), its zxid in the `last_zxid` header
 * (`0x` and hex: the zxid in the file's name, the start of a fuzzy snapshot) and its length in
 * `snapshot_size`. The command wants `Authorization: <scheme> <auth>` (digest: `digest user:password`)
 * and ALL permission on `/` for that id.
 *
 * What the servers answer, from their sources (branch-3.9 Commands.runCommand/SnapshotCommand,
 * JettyAdminServer) and, for 3.8, recorded from a running 3.8 server:
 * - 3.8 and older: 200 `{"command":"snapshot","error":"Unknown command: snapshot"}` (JSON);
 *   a URL that is no AdminServer's: 404.
 * - 3.9: 401 without or with unusable credentials, 403 when the id lacks ALL on `/`, 429 when a
 *   snapshot was taken less than `admin.rateLimiterIntervalInMS` ago, 503 when
 *   `admin.snapshot.enabled=false`, 500 when `serializeLastProcessedZxid.enabled=false` or the
 *   snapshot failed, 200 JSON "not currently serving" while the server is not serving.
 */
import http from 'node:http';
import https from 'node:https';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { writeArtifact } from '../../../core/driver/spool';
import { resolveInside } from '../../../core/io/resolve-inside';
import type { ArtifactRef } from '../../../core/driver/types';
import { TransientError, authFailed } from '../../../core/errors';
import type { ZooKeeperAuth } from '../config';
import { fileNameOf } from '../files/zxid';

const ENGINE = 'zookeeper';
/** How long the server may stay silent (it writes the whole snapshot before it answers). */
const DEFAULT_IDLE_TIMEOUT_MS = 300_000;
/** How long a connection may take (a host that drops packets would otherwise hold the backup for the idle timeout). */
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** A JSON answer is small; a longer one is not read whole. */
const MAX_JSON_BYTES = 64 * 1024;

export interface AdminSnapshotOptions {
  /** The AdminServer's base URL, e.g. `http://10.0.0.5:8080` (no trailing `/`). */
  adminUrl: string;
  /** The config's credentials; the first `digest` entry is sent. */
  auth?: readonly ZooKeeperAuth[];
  /** Where the snapshot is written: `spoolDir/folder/snapshot.<zxid hex>`. */
  spoolDir: string;
  folder: string;
  idleTimeoutMs?: number;
  connectTimeoutMs?: number;
  signal?: AbortSignal;
}

/** The snapshot, spooled; or why the server cannot give one (the caller copies a snapshot file instead). */
export type AdminSnapshotResult = { lastZxid: bigint; artifact: ArtifactRef } | { unsupported: string };

/** `Authorization` header value for the config's credentials: the first `digest` entry. */
export function adminAuthorization(auth: readonly ZooKeeperAuth[] | undefined): string | undefined {
  const digest = auth?.find((entry) => entry.scheme === 'digest');
  return digest ? `digest ${digest.credential}` : undefined;
}

/** `last_zxid` (`0x1a2b`; hex without `0x` is taken too). */
export function parseLastZxid(value: string | string[] | undefined): bigint | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  const match = text === undefined ? null : /^(?:0x)?([0-9a-f]{1,16})$/i.exec(text.trim());
  return match ? BigInt(`0x${match[1]}`) : undefined;
}

function request(url: URL, headers: Record<string, string>, timeouts: { idleMs: number; connectMs: number }, signal?: AbortSignal): Promise<http.IncomingMessage> {
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    let connecting: NodeJS.Timeout | undefined;
    const req = client.get(url, { headers, signal }, resolve);
    req.on('socket', function watchConnect(socket) {
      if (!socket.connecting) return;
      connecting = setTimeout(() => req.destroy(new Error(`no connection in ${timeouts.connectMs} ms`)), timeouts.connectMs);
      socket.once('connect', () => clearTimeout(connecting));
    });
    req.setTimeout(timeouts.idleMs, () => req.destroy(new Error(`no answer in ${timeouts.idleMs} ms`)));
    req.on('close', () => clearTimeout(connecting));
    req.on('error', reject);
  });
}

async function readJson(response: http.IncomingMessage): Promise<{ error?: unknown } | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response) {
    size += (chunk as Buffer).length;
    if (size > MAX_JSON_BYTES) break;
    chunks.push(chunk as Buffer);
  }
  response.destroy();
  try {
    const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    return parsed !== null && typeof parsed === 'object' ? parsed as { error?: unknown } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Asks the AdminServer at `adminUrl` for a fresh snapshot and streams it into the spool as
 * `folder/snapshot.<last_zxid hex>`, hashed as it is written.
 * @returns the snapshot's zxid and artifact, or `{ unsupported }` when the server has no such
 *   command (3.8), has it disabled or failing, is no AdminServer, or cannot be reached
 * @throws PermanentError `AUTH_FAILED` (401/403); TransientError `ZK_ADMIN_RATE_LIMITED` (429),
 *   `ZK_NOT_SERVING`, `ZK_ADMIN_SNAPSHOT_CUT` (the stream broke or came short)
 * @example
 * const taken = await adminSnapshot({ adminUrl: 'http://10.0.0.5:8080', auth, spoolDir, folder: 'snapshot' });
 * if ('unsupported' in taken) logger.warn(taken.unsupported);
 */
export async function adminSnapshot(options: AdminSnapshotOptions): Promise<AdminSnapshotResult> {
  const url = new URL(`${options.adminUrl}/commands/snapshot?streaming=true`);
  const where = `the ZooKeeper AdminServer at ${options.adminUrl}`;
  const authorization = adminAuthorization(options.auth);
  let response: http.IncomingMessage;
  try {
    const timeouts = { idleMs: options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS, connectMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS };
    response = await request(url, authorization ? { authorization } : {}, timeouts, options.signal);
  } catch (error) {
    if (options.signal?.aborted) throw error;
    return { unsupported: `${where} cannot be reached: ${(error as Error).message}` };
  }
  const status = response.statusCode ?? 0;
  const type = String(response.headers['content-type'] ?? '');

  if (status === 200 && type.startsWith('application/octet-stream')) return spool(response, options, where);

  const answer = type.includes('json') ? await readJson(response) : (response.destroy(), undefined);
  const said = typeof answer?.error === 'string' ? `: ${answer.error}` : '';
  if (status === 401 || status === 403) {
    const hint = authorization ? 'the digest credential in auth was refused' : 'the config has no digest credential in auth to send';
    throw authFailed(`${where} answered ${status} to the snapshot command (it needs ALL permission on /): ${hint}${said}`, { engine: ENGINE, driverCode: 'ZK_ADMIN_AUTH' });
  }
  if (status === 429) {
    throw new TransientError(`${where} refused the snapshot command: one was taken less than admin.rateLimiterIntervalInMS ago (429)`, { code: 'ZK_ADMIN_RATE_LIMITED', engine: ENGINE });
  }
  if (status === 200 && typeof answer?.error === 'string') {
    if (/^Unknown command/.test(answer.error)) return { unsupported: `${where} has no snapshot command (ZooKeeper before 3.9)${said}` };
    if (/not currently serving/.test(answer.error)) {
      throw new TransientError(`${where} is not serving${said}`, { code: 'ZK_NOT_SERVING', engine: ENGINE });
    }
    return { unsupported: `${where} did not take a snapshot${said}` };
  }
  if (status === 503) return { unsupported: `${where} has the snapshot command disabled (admin.snapshot.enabled=false, 503)` };
  if (status === 500) return { unsupported: `${where} could not take a snapshot (500; serializeLastProcessedZxid.enabled=false, or the snapshot failed: see the server's log)${said}` };
  if (status === 404) return { unsupported: `${where} has no /commands/snapshot (404): not an AdminServer's URL` };
  return { unsupported: `${where} answered ${status} ${type || 'without a content type'} to the snapshot command${said}` };
}

async function spool(response: http.IncomingMessage, options: AdminSnapshotOptions, where: string): Promise<AdminSnapshotResult> {
  const lastZxid = parseLastZxid(response.headers.last_zxid);
  if (lastZxid === undefined) {
    response.destroy();
    return { unsupported: `${where} streamed a snapshot without a last_zxid header (got ${JSON.stringify(response.headers.last_zxid ?? null)})` };
  }
  const name = path.posix.join(options.folder, fileNameOf('snapshot', lastZxid));
  let artifact: ArtifactRef;
  try {
    artifact = await writeArtifact(options.spoolDir, name, response);
  } catch (error) {
    if (options.signal?.aborted) throw error;
    throw new TransientError(`${where} broke off streaming snapshot ${fileNameOf('snapshot', lastZxid)}: ${(error as Error).message}`, { code: 'ZK_ADMIN_SNAPSHOT_CUT', engine: ENGINE, cause: error });
  }
  const announced = Number(response.headers.snapshot_size);
  if (Number.isSafeInteger(announced) && announced !== artifact.size) {
    await rm(resolveInside(options.spoolDir, name), { force: true });
    throw new TransientError(`${where} streamed ${artifact.size} bytes of snapshot ${fileNameOf('snapshot', lastZxid)}, but announced ${announced} (snapshot_size)`, { code: 'ZK_ADMIN_SNAPSHOT_CUT', engine: ENGINE });
  }
  return { lastZxid, artifact };
}
