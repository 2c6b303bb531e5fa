/**
 * Forwarding one HTTP request unchanged (method, path, headers — the Host header included, so
 * SigV4 signatures still verify) to an upstream server and piping its answer back: what the test
 * proxies in front of S3 servers share.
 */
import http from 'node:http';

/** Sends `request` on to `upstream` and answers `response` with what it says. */
export function relay(upstream: URL, request: http.IncomingMessage, response: http.ServerResponse): void {
  const outgoing = http.request({
    host: upstream.hostname, port: upstream.port, method: request.method, path: request.url, headers: request.headers,
  }, function relayAnswer(answer) {
    response.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(response);
  });
  outgoing.on('error', () => response.destroy());
  request.pipe(outgoing);
}
