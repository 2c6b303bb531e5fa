/**
 * ZooKeeper's four-letter-word commands (`srvr`, `mntr`, `conf`, `ruok`) over the client port:
 * one TCP connection per command, the server writes its answer and closes. They must be in the
 * server's `4lw.commands.whitelist` (the driver's README says which).
 */
import net from 'node:net';
import { TransientError, PermanentError } from '../../core/errors';

export interface ZooKeeperAddress {
  host: string;
  port: number;
}

/** Answer a server gives to a command that is not whitelisted. */
const NOT_WHITELISTED = /is not executed because it is not in the whitelist/;

/**
 * Sends one four-letter command and returns the whole answer.
 * @throws TransientError when the server cannot be reached or does not answer in `timeoutMs`;
 *   PermanentError `ZK_4LW_NOT_ALLOWED` when the command is not whitelisted.
 */
export function fourLetterWord(address: ZooKeeperAddress, command: 'srvr' | 'mntr' | 'conf' | 'ruok' | 'stat', timeoutMs = 5_000): Promise<string> {
  const where = `${address.host}:${address.port}`;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect(address.port, address.host, () => socket.write(command));
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer to ${command} in ${timeoutMs} ms`)));
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', (error) => {
      reject(new TransientError(`ZooKeeper at ${where} did not answer ${command}: ${error.message}`, { code: 'ZK_UNREACHABLE', engine: 'zookeeper', cause: error }));
    });
    socket.on('close', (hadError) => {
      if (hadError) return;
      const answer = Buffer.concat(chunks).toString('utf8');
      if (NOT_WHITELISTED.test(answer)) {
        reject(new PermanentError(`ZooKeeper at ${where} refuses the ${command} command: add it to 4lw.commands.whitelist`, { code: 'ZK_4LW_NOT_ALLOWED', engine: 'zookeeper' }));
      } else if (answer.length === 0) {
        reject(new TransientError(`ZooKeeper at ${where} closed the connection without answering ${command}`, { code: 'ZK_UNREACHABLE', engine: 'zookeeper' }));
      } else resolve(answer);
    });
  });
}

/** A member's role, as `srvr` says it (`standalone`, `leader`, `follower`, `observer`; `read-only` while it has no quorum). */
export type ServerMode = 'standalone' | 'leader' | 'follower' | 'observer' | 'read-only';

/** What `srvr` says of a server. */
export interface ServerStatus {
  /** e.g. `3.8.0`. */
  version: string;
  /** The last zxid the server applied. */
  zxid: bigint;
  mode: ServerMode;
  nodeCount: number;
}

/** Parses `srvr`'s answer. @throws Error when it is not one (a server still starting says "This ZooKeeper instance is not currently serving requests"). */
export function parseSrvr(answer: string): ServerStatus {
  const field = (name: string) => new RegExp(`^${name}:\\s*(.+)$`, 'm').exec(answer)?.[1]?.trim();
  const version = field('Zookeeper version');
  const zxid = field('Zxid');
  const mode = field('Mode');
  const nodeCount = field('Node count');
  if (!version || !zxid || !mode || nodeCount === undefined) throw new Error(`not a srvr answer: ${answer.trim().slice(0, 200)}`);
  return { version: version.replace(/[-,].*$/, ''), zxid: BigInt(zxid), mode: mode as ServerMode, nodeCount: Number(nodeCount) };
}

/** `srvr`, parsed. */
export async function serverStatus(address: ZooKeeperAddress, timeoutMs?: number): Promise<ServerStatus> {
  const answer = await fourLetterWord(address, 'srvr', timeoutMs);
  try {
    return parseSrvr(answer);
  } catch (error) {
    throw new TransientError(`ZooKeeper at ${address.host}:${address.port} is not serving: ${(error as Error).message}`, { code: 'ZK_NOT_SERVING', engine: 'zookeeper' });
  }
}

/** `key=value` lines of `conf` (dataDir, dataLogDir, clientPort, serverId...). */
export async function serverConf(address: ZooKeeperAddress, timeoutMs?: number): Promise<Record<string, string>> {
  const answer = await fourLetterWord(address, 'conf', timeoutMs);
  const conf: Record<string, string> = {};
  for (const line of answer.split('\n')) {
    const at = line.indexOf('=');
    if (at > 0) conf[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return conf;
}
