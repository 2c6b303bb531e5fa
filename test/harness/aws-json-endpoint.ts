/**
 * An AWS JSON-protocol endpoint for stand-ins (SSM: JSON 1.1, `AmazonSSM.<Operation>`; Step
 * Functions: JSON 1.0, `AWSStepFunctions.<Operation>`): an HTTP server on 127.0.0.1 that answers
 * only requests signed for its region and service, as a regional endpoint does, records every call,
 * answers injected errors, and turns a thrown {@link AwsFault} into the service's error shape
 * (`__type`, `message`), which the real AWS SDK clients read.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Thrown inside an operation to answer with an AWS error. */
export class AwsFault extends Error {
  constructor(readonly type: string, message: string, readonly status = 400) {
    super(message);
  }
}

/** One recorded API call. */
export interface RecordedCall {
  operation: string;
  input: Record<string, unknown>;
  /** The `__type` of the error answered, if any. */
  error?: string;
}

/** An error the endpoint answers instead of running the operation. */
export interface InjectedError {
  type: string;
  message?: string;
  /** HTTP status; default 400 (500 for InternalServerError). */
  status?: number;
}

/** Client configuration for an AWS SDK v3 client pointing at the endpoint. */
export interface StandinClientConfig {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  maxAttempts?: number;
}

export interface AwsJsonEndpointOptions {
  region: string;
  /** The signing name requests must be scoped to, e.g. `ssm`, `states`. */
  service: string;
  /** `X-Amz-Target` prefix, e.g. `AmazonSSM.` */
  targetPrefix: string;
  /** The protocol's content type version. */
  jsonVersion: '1.0' | '1.1';
  operations: Record<string, (input: Record<string, unknown>) => unknown>;
}

export interface AwsJsonEndpoint {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  /** Endpoint, region and fake credentials, for `new XxxClient(...)`. */
  clientConfig: StandinClientConfig;
  /** Every call received, in order. */
  calls: RecordedCall[];
  /** Answers the next `times` calls of `operation` with `error`. */
  injectError(operation: string, error: InjectedError, times?: number): void;
  close(): Promise<void>;
}

/** `Credential=<key>/<date>/<region>/<service>/aws4_request` of a SigV4 Authorization header. */
const CREDENTIAL_SCOPE = /Credential=[^/]+\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/;

export async function startAwsJsonEndpoint(options: AwsJsonEndpointOptions): Promise<AwsJsonEndpoint> {
  const { region, service } = options;
  const calls: RecordedCall[] = [];
  const injected = new Map<string, InjectedError[]>();

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const target = String(request.headers['x-amz-target'] ?? '');
    const operation = target.startsWith(options.targetPrefix) ? target.slice(options.targetPrefix.length) : target;
    const call: RecordedCall = { operation, input: {} };
    try {
      const body = await readBody(request);
      call.input = body.length > 0 ? JSON.parse(body) as Record<string, unknown> : {};
      calls.push(call);
      checkScope(request.headers.authorization);
      const fault = injected.get(operation)?.shift();
      if (fault) throw new AwsFault(fault.type, fault.message ?? `injected ${fault.type}`, fault.status ?? (fault.type === 'InternalServerError' ? 500 : 400));
      const handler = options.operations[operation];
      if (!handler) throw new AwsFault('UnknownOperationException', `the stand-in does not implement ${target}`);
      respond(response, 200, await handler(call.input));
    } catch (error) {
      if (!calls.includes(call)) calls.push(call);
      const fault = error instanceof AwsFault ? error : new AwsFault('InternalServerError', String(error), 500);
      call.error = fault.type;
      respond(response, fault.status, { __type: fault.type, message: fault.message, Message: fault.message });
    }
  }

  function checkScope(authorization: string | undefined): void {
    const scope = CREDENTIAL_SCOPE.exec(authorization ?? '');
    if (!scope) throw new AwsFault('MissingAuthenticationTokenException', 'Missing Authentication Token', 403);
    if (scope[1] !== region || scope[2] !== service) {
      throw new AwsFault('InvalidSignatureException', `Credential should be scoped to a valid region (this endpoint is ${region}/${service}, the request was signed for ${scope[1]}/${scope[2]}).`, 403);
    }
  }

  function respond(response: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body ?? {});
    response.writeHead(status, {
      'content-type': `application/x-amz-json-${options.jsonVersion}`,
      'content-length': Buffer.byteLength(text),
      'x-amzn-requestid': randomUUID(),
    });
    response.end(text);
  }

  const server: Server = createServer(function serve(request, response) {
    void handle(request, response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    endpoint,
    clientConfig: { endpoint, region, credentials: { accessKeyId: 'AKIDSTANDIN', secretAccessKey: 'standin-secret' } },
    calls,
    injectError(operation, error, times = 1) {
      const queue = injected.get(operation) ?? [];
      for (let i = 0; i < times; i += 1) queue.push(error);
      injected.set(operation, queue);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}
