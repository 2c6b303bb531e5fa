/**
 * The secret values one process has resolved, so that none of them leaves it in a log line or an
 * error message, whatever a driver or its client library put there (a connection string, a
 * server's echo of a bad option). Step outputs carry references, never values (the request schemas
 * admit a reference only in a field that holds a secret, and drivers never return those fields).
 *
 * Values shorter than {@link MIN_MASKED_LENGTH} are not masked: masking every `a` or `12` in a
 * message would make it unreadable, and so short a secret protects nothing.
 */
import { REDACTED } from '../secrets';
import type { SecretResolver } from '../secrets';
import type { Logger } from '../logger';
import type { CircuitGuard } from '../resilience/circuit-guard';

/** The shortest resolved value that is masked. */
export const MIN_MASKED_LENGTH = 4;

export class ResolvedSecrets {
  private readonly values = new Set<string>();

  /** A resolver that remembers every value `resolver` returns. */
  remembering(resolver: SecretResolver): SecretResolver {
    const secrets = this;
    return async function resolveAndRemember(ref, field) {
      const value = await resolver(ref, field);
      if (value.length >= MIN_MASKED_LENGTH) secrets.values.add(value);
      return value;
    };
  }

  /** `text` with every remembered value replaced by `***`. */
  mask(text: string): string {
    let masked = text;
    for (const value of this.values) masked = masked.split(value).join(REDACTED);
    return masked;
  }

  /** A copy of a JSON-like value with every string masked. */
  maskDeep<T>(value: T): T {
    if (this.values.size === 0) return value;
    const copy = (node: unknown): unknown => {
      if (typeof node === 'string') return this.mask(node);
      if (Array.isArray(node)) return node.map(copy);
      if (node instanceof Error) return this.mask(node.message);
      if (node === null || typeof node !== 'object') return node;
      return Object.fromEntries(Object.entries(node).map(([key, child]) => [key, copy(child)]));
    };
    return copy(value) as T;
  }

  /**
   * A circuit guard whose calls' errors are masked before the breaker sees them: it keeps the last
   * failure's message in the store. The message of the thrown error is masked in place.
   */
  maskingGuard(guard: CircuitGuard): CircuitGuard {
    const secrets = this;
    return function maskedGuardCall(target, fn) {
      return guard(target, async function callMasked() {
        try {
          return await fn();
        } catch (error) {
          if (error instanceof Error) error.message = secrets.mask(error.message);
          throw error;
        }
      });
    };
  }

  /**
   * A logger that masks every remembered value in the message and the extra fields.
   *
   * @example
   * ```ts
   * const secrets = new ResolvedSecrets();
   * const logger = secrets.maskingLogger(consoleLogger('info'));
   * ```
   */
  maskingLogger(logger: Logger): Logger {
    const level = (write: Logger['info']): Logger['info'] => (message, extra) => write(this.mask(message), extra === undefined ? undefined : this.maskDeep(extra));
    return {
      debug: level(logger.debug.bind(logger)),
      info: level(logger.info.bind(logger)),
      warn: level(logger.warn.bind(logger)),
      error: level(logger.error.bind(logger)),
    };
  }
}
