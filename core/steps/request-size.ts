/**
 * How big a request (what the console, a schedule or the CLI starts a backup or restore with) may
 * be. Each host step carries the request's config or target to the host in an SSM command, whose
 * parameters hold about 48 KB in all (host-runner/ssm-runner.ts `SSM_PARAMETERS_LIMIT`) beside the
 * state's other fields: a longer request would be refused at the first host step in AWS — and run
 * here, where a field that long reaches a database tool's command line (`spawn E2BIG`, the target
 * half written). So it is refused before anything starts, here as there.
 */
import { PermanentError } from '../errors';

/**
 * The most bytes of JSON a request may take: a config of a few hundred shards fits. A host step's
 * input travels base64-encoded (4 characters for 3 bytes) beside the state's other fields, so an
 * SSM command's ~48 KB hold some 36 KB of state: this leaves room for the rest.
 */
export const MAX_REQUEST_BYTES = 24 * 1024;

/**
 * @throws PermanentError `INVALID_INPUT` when `request` takes more than {@link MAX_REQUEST_BYTES} as JSON
 */
export function assertRequestFits(request: unknown, what: string): void {
  const bytes = Buffer.byteLength(JSON.stringify(request) ?? '');
  if (bytes > MAX_REQUEST_BYTES) {
    throw new PermanentError(
      `the ${what} is ${bytes} bytes of JSON, more than the ${MAX_REQUEST_BYTES} a request may be (each host step carries it in an SSM command, which holds about 48 KB): is a field pasted whole where a reference belongs?`,
      { code: 'INVALID_INPUT' },
    );
  }
}
