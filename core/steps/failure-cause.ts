/**
 * The error a state machine caught (`$.error`: `{ Error, Cause }`), as a failure path reads it. In
 * AWS a Lambda's error arrives with its Cause as JSON (`{"errorType", "errorMessage", "trace"}`);
 * the local runner passes the message itself. Either way the message is what people read.
 */

/** The message of a caught error's Cause: its `errorMessage` when it is Lambda's JSON, else the text. */
export function causeMessage(cause: unknown): string {
  if (typeof cause !== 'string') return String(cause);
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    return typeof parsed.errorMessage === 'string' ? parsed.errorMessage : cause;
  } catch {
    return cause;
  }
}

/** A caught error: its name (TransientError, PermanentError, States.Timeout…) and message. */
export interface CaughtError {
  name: string;
  message: string;
}

/** The error a Catch put at `$.error`, or undefined when the state has none (the success path). */
export function caughtError(state: unknown): CaughtError | undefined {
  const error = (state as { error?: { Error?: unknown; Cause?: unknown } } | undefined)?.error;
  if (!error || typeof error !== 'object') return undefined;
  return { name: typeof error.Error === 'string' ? error.Error : 'Error', message: causeMessage(error.Cause) };
}
