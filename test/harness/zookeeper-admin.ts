/**
 * A stand-in for a ZooKeeper AdminServer's `/commands/snapshot`, answering as the real ones do:
 * 3.9 from its sources (branch-3.9 Commands.SnapshotCommand, JettyAdminServer.CommandServlet,
 * StreamOutputter, JsonOutputter: headers `last_zxid: 0x<hex>` and `snapshot_size`, the file's bytes
 * as `application/octet-stream` without a length; errors as `{"command","error"}` JSON with their
 * status), 3.8 from an answer recorded off a running 3.8 server (test/fixtures/zookeeper).
 * There is no 3.9 server on this machine.
 */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

export type AdminAnswer =
  /**
   * 3.9: the snapshot streamed; `cutAfter` breaks the connection after that many bytes, `lastZxid`
   * null leaves the header out, `announcedSize` replaces the file's size in `snapshot_size`.
   */
  | { kind: 'snapshot'; file: string; lastZxid: bigint | null; cutAfter?: number; announcedSize?: number }
  /** 3.9's JSON error answers (401 missing or bad credentials, 403 no ALL on /, 429, 500, 503). */
  | { kind: 'error'; status: number; error: string | null }
  /** 3.8: the recorded answer to an unknown command. */
  | { kind: '3.8' }
  | { kind: 'not-found' };

export interface FakeAdminServer {
  url: string;
  /** Each request: its path and query, and its Authorization header. */
  requests: { url: string; authorization?: string }[];
  close(): Promise<void>;
}

const RECORDED_38 = path.join(__dirname, '..', 'fixtures', 'zookeeper', 'admin-3.8-snapshot-unknown-command.json');

/** The answer 3.8.0 gave, recorded (status, headers, body). */
export async function recorded38Answer(): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  return JSON.parse(await readFile(RECORDED_38, 'utf8'));
}

async function answerWith(answer: AdminAnswer, res: http.ServerResponse): Promise<void> {
  if (answer.kind === '3.8') {
    const recorded = await recorded38Answer();
    res.writeHead(recorded.status, recorded.headers).end(recorded.body);
  } else if (answer.kind === 'not-found') {
    res.writeHead(404, { 'content-type': 'text/html;charset=iso-8859-1' }).end('<html><body><h2>HTTP ERROR 404 Not Found</h2></body></html>');
  } else if (answer.kind === 'error') {
    res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify({ command: 'snapshot', error: answer.error }, null, 2));
  } else {
    const { size } = await stat(answer.file);
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      ...(answer.lastZxid === null ? {} : { last_zxid: `0x${answer.lastZxid.toString(16)}` }),
      snapshot_size: String(answer.announcedSize ?? size),
    });
    if (answer.cutAfter === undefined) {
      createReadStream(answer.file).pipe(res);
      return;
    }
    const bytes = (await readFile(answer.file)).subarray(0, answer.cutAfter);
    res.write(bytes, () => res.socket?.destroy());
  }
}

/** Starts the stand-in on a free loopback port; `answer` decides each reply. */
export async function startFakeAdminServer(answer: (request: http.IncomingMessage) => AdminAnswer): Promise<FakeAdminServer> {
  const requests: FakeAdminServer['requests'] = [];
  const server = http.createServer((req, res) => {
    requests.push({ url: req.url ?? '', authorization: req.headers.authorization });
    answerWith(answer(req), res).catch((error: Error) => res.destroy(error));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
