/**
 * The two error names that cross every boundary. Step Functions matches `ErrorEquals` on the
 * error's *name*, so these names are part of the public contract: never rename them.
 *
 * - {@link TransientError}: worth retrying (network blips, throttling, lock timeouts, 5xx).
 * - {@link PermanentError}: retrying cannot help (bad input, auth, corrupt snapshot).
 *
 * Anything else that escapes a driver is treated as permanent by {@link classify}.
 */

export interface BackupErrorOptions {
  /** Stable machine-readable code, e.g. `ETCD_UNAVAILABLE`, `CHECKSUM_MISMATCH`. */
  code: string;
  /** Engine that raised it, when there is one. */
  engine?: string;
  cause?: unknown;
}

abstract class BackupError extends Error {
  readonly code: string;
  readonly engine?: string;
  abstract readonly retryable: boolean;

  constructor(message: string, options: BackupErrorOptions) {
    super(message, { cause: options.cause });
    this.code = options.code;
    this.engine = options.engine;
  }

  /** Plain JSON for state-machine outputs and `--json` CLI output; never includes the cause's secrets. */
  toJSON(): { name: string; code: string; engine?: string; message: string } {
    return { name: this.name, code: this.code, engine: this.engine, message: this.message };
  }
}

/** A failure that may succeed if the same call is made again later. */
export class TransientError extends BackupError {
  override readonly name = 'TransientError';
  readonly retryable = true;
}

/** A failure that will happen again on retry; stop and report it. */
export class PermanentError extends BackupError {
  override readonly name = 'PermanentError';
  readonly retryable = false;
}

export type ClassifiedError = TransientError | PermanentError;

/**
 * The code of a refused login, the same for every engine (the CLI exits 2 on it: the credentials
 * are the user's to fix). Build it with {@link authFailed}.
 */
export const AUTH_FAILED = 'AUTH_FAILED';

/**
 * The database refused the credentials: PermanentError {@link AUTH_FAILED}, with the driver's own
 * code kept in the message, e.g. `authentication failed (MYSQL_AUTH): Access denied for user …`.
 */
export function authFailed(message: string, options: { engine: string; driverCode: string; cause?: unknown }): PermanentError {
  return new PermanentError(`authentication failed (${options.driverCode}): ${message}`, { code: AUTH_FAILED, engine: options.engine, cause: options.cause });
}

/**
 * The code of a host name that does not resolve (DNS answers "no such name"), the same for every
 * engine: a typo in the config, the user's to fix (the CLI exits 2), not worth retrying. A DNS
 * server that cannot answer right now (`EAI_AGAIN`) stays transient.
 */
export const UNKNOWN_HOST = 'UNKNOWN_HOST';

/** True when `text` (an error's message or code) says a host name does not resolve. */
export function isUnknownHostText(text: string): boolean {
  return /\bENOTFOUND\b|Name resolution failed for target/.test(text);
}

/** PermanentError {@link UNKNOWN_HOST}, with the driver's own code kept in the message. */
export function unknownHost(message: string, options: { engine: string; driverCode: string; cause?: unknown }): PermanentError {
  return new PermanentError(`unknown host (${options.driverCode}): ${message}`, { code: UNKNOWN_HOST, engine: options.engine, cause: options.cause });
}

/** Maps a driver's native error to one of ours, or returns undefined when it does not recognise it. */
export type ErrorMapper = (error: unknown) => ClassifiedError | undefined;

const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN',
  'ESOCKETTIMEDOUT', 'ECONNABORTED',
]);

/** True for Node socket errors that a retry can cure. */
export function isNetworkError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && NETWORK_CODES.has(code);
}

/**
 * Turns anything thrown into a {@link TransientError} or {@link PermanentError}.
 * Our own errors pass through; the engine's mapper gets a say; Node network errors are transient;
 * everything else is permanent (unknown = permanent, so we never retry a bug forever).
 */
export function classify(error: unknown, mapper?: ErrorMapper, engine?: string): ClassifiedError {
  if (error instanceof TransientError || error instanceof PermanentError) return error;
  const named = byName(error, engine);
  if (named) return named;
  const mapped = mapper?.(error);
  if (mapped) return mapped;
  const message = error instanceof Error ? error.message : String(error);
  if (isNetworkError(error)) {
    return new TransientError(message, { code: 'NETWORK', engine, cause: error });
  }
  return new PermanentError(message, { code: 'UNKNOWN', engine, cause: error });
}

/**
 * Errors that carry our names without being our classes: thrown by external plugins (which cannot
 * import these classes) or rebuilt from a serialised result. Their code and message are kept.
 */
function byName(error: unknown, engine?: string): ClassifiedError | undefined {
  const { name, code, message, engine: ownEngine } = (error ?? {}) as { name?: unknown; code?: unknown; message?: unknown; engine?: unknown };
  if (name !== 'TransientError' && name !== 'PermanentError') return undefined;
  const options = {
    code: typeof code === 'string' ? code : 'UNKNOWN',
    engine: typeof ownEngine === 'string' ? ownEngine : engine,
    cause: error,
  };
  const text = typeof message === 'string' ? message : String(error);
  return name === 'TransientError' ? new TransientError(text, options) : new PermanentError(text, options);
}

/** True when the error (by name, so it survives serialisation) should be retried. */
export function isTransient(error: unknown): boolean {
  return (error as { name?: unknown } | undefined)?.name === 'TransientError';
}

/**
 * The message form that carries the stable code across boundaries that keep only a name and a
 * message (a Lambda error seen by Step Functions): `CODE: message`.
 */
export function messageWithCode(error: ClassifiedError): string {
  return error.message.startsWith(`${error.code}: `) ? error.message : `${error.code}: ${error.message}`;
}

/** Rebuilds our error from a name and a `CODE: message` text (the inverse of {@link messageWithCode}). */
export function fromNameAndMessage(name: string, text: string): ClassifiedError {
  const match = /^([A-Z][A-Z0-9_]*): ([\s\S]*)$/.exec(text);
  const options = { code: match ? match[1] : 'UNKNOWN' };
  const message = match ? match[2] : text;
  return name === 'TransientError' ? new TransientError(message, options) : new PermanentError(message, options);
}

/** Throws PermanentError `ABORTED` (`what` was stopped) once `signal` is aborted: a step stopped on purpose, not a failure to classify. */
export function stopIfAborted(signal: AbortSignal | undefined, what: string, engine?: string): void {
  if (signal?.aborted) throw new PermanentError(`${what} aborted`, { code: 'ABORTED', ...(engine ? { engine } : {}) });
}
