/**
 * An HTTP proxy in front of an S3 endpoint that counts what clients send through it: an oracle
 * independent of the code under test for "how many bytes did this run upload". Requests are
 * forwarded unchanged (the Host header included, so SigV4 signatures still verify).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { relay } from './http-relay';

/** What went through the proxy since the last reset. */
export interface SentCounts {
  /** UploadPart requests (PUT with a partNumber) and the body bytes they carried. */
  parts: number;
  partBytes: number;
  /** Every other PUT (PutObject of whole objects) and its body bytes. */
  puts: number;
  putBytes: number;
  /** GET requests (object reads and listings), and their paths (`/<bucket>/<key>`, decoded). */
  gets: number;
  gotten: string[];
}

export interface CountingProxy {
  /** `http://127.0.0.1:<port>`: point the client's S3 endpoint here. */
  endpoint: string;
  counts(): SentCounts;
  reset(): void;
  stop(): Promise<void>;
}

/** Starts a proxy to `target` (e.g. s3rver's endpoint). */
export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const upstream = new URL(target);
  let counts: SentCounts = { parts: 0, partBytes: 0, puts: 0, putBytes: 0, gets: 0, gotten: [] };
  const server = http.createServer(function forward(request, response) {
    const isPart = request.method === 'PUT' && new URL(request.url ?? '/', target).searchParams.has('partNumber');
    if (request.method === 'GET') counts = { ...counts, gets: counts.gets + 1, gotten: [...counts.gotten, decodeURIComponent(new URL(request.url ?? '/', target).pathname)] };
    let bytes = 0;
    request.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    request.on('end', () => {
      if (request.method !== 'PUT') return;
      if (isPart) counts = { ...counts, parts: counts.parts + 1, partBytes: counts.partBytes + bytes };
      else counts = { ...counts, puts: counts.puts + 1, putBytes: counts.putBytes + bytes };
    });
    relay(upstream, request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    counts: () => ({ ...counts }),
    reset: () => {
      counts = { parts: 0, partBytes: 0, puts: 0, putBytes: 0, gets: 0, gotten: [] };
    },
    stop: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
