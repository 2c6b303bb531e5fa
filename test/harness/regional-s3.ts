/**
 * A bucket that lives in one region: a proxy in front of an S3 endpoint (s3rver) that refuses,
 * as S3 does, any request signed for another region — `400 AuthorizationHeaderMalformed`, "the
 * region 'us-east-1' is wrong; expecting 'eu-west-1'" — and forwards the others unchanged (Host
 * header included, so signatures still verify). It records the region of every request.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { relay } from './http-relay';

/** `Credential=<key>/<date>/<region>/<service>/aws4_request` of a SigV4 Authorization header. */
const CREDENTIAL_SCOPE = /Credential=[^/]+\/\d{8}\/([^/]+)\/s3\/aws4_request/;

export interface RegionalS3 {
  /** `http://127.0.0.1:<port>`: point the clients' S3 endpoint here. */
  endpoint: string;
  region: string;
  /** The region each request was signed for, in order (`none` when unsigned). */
  signedRegions: string[];
  stop(): Promise<void>;
}

/** Starts the proxy to `target` for a bucket in `region`. */
export async function startRegionalS3(target: string, region: string): Promise<RegionalS3> {
  const upstream = new URL(target);
  const signedRegions: string[] = [];
  const server = http.createServer(function forward(request, response) {
    const signed = CREDENTIAL_SCOPE.exec(request.headers.authorization ?? '')?.[1] ?? 'none';
    signedRegions.push(signed);
    if (signed !== region) {
      const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AuthorizationHeaderMalformed</Code><Message>The authorization header is malformed; the region '${signed}' is wrong; expecting '${region}'</Message><Region>${region}</Region></Error>`;
      request.resume();
      response.writeHead(400, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body), 'x-amz-bucket-region': region });
      response.end(body);
      return;
    }
    relay(upstream, request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    region,
    signedRegions,
    stop: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
