/**
 * Reading an {@link AgentResult} back from what the agent left behind: the last JSON line of its
 * stdout, or the JSON document it wrote to the store. Whatever does not have the AgentResult shape
 * is "no result", never a guess.
 */
import { z } from 'zod';
import type { AgentResult } from '../agent/agent-steps';
import { STATE_ROOT } from '../catalog/layout';
import { PermanentError } from '../errors';

/**
 * Where agents write results too large for SSM's output (relative to the store), one folder per
 * host (so a host may be allowed to write only its own). Read once, right after the command ends;
 * the bucket's lifecycle expires them.
 */
export const AGENT_RESULTS_PREFIX = `${STATE_ROOT}/agent-results/`;

/** A host id that is one key segment: an instance id (`i-…`, `mi-…`) or a host name. */
export const HOST_SEGMENT_PATTERN = '[A-Za-z0-9][A-Za-z0-9._-]{0,127}';
const HOST_SEGMENT = new RegExp(`^${HOST_SEGMENT_PATTERN}$`);

/**
 * The key an agent on `host` writes the result of command `id` to: `state/agent-results/<host>/<id>.json`.
 * @throws PermanentError `INVALID_INPUT` for a host that is not one key segment (it comes from the step input).
 */
export function agentResultKey(host: string, id: string): string {
  if (!HOST_SEGMENT.test(host) || host.includes('..')) {
    throw new PermanentError(`host ${JSON.stringify(host)} is not an instance id or host name`, { code: 'INVALID_INPUT' });
  }
  return `${AGENT_RESULTS_PREFIX}${host}/${id}.json`;
}

/** What SSM keeps of a command's stdout in `StandardOutputContent`: a longer result is read from the store. */
export const SSM_STDOUT_LIMIT = 24_000;

const AGENT_RESULT = z.union([
  z.object({ ok: z.literal(true), output: z.unknown() }),
  z.object({
    ok: z.literal(false),
    error: z.object({ name: z.string(), code: z.string().optional(), message: z.string() }),
  }),
]);

/** The error names that cross every boundary; anything else the agent reports becomes permanent. */
const ERROR_NAMES = new Set(['TransientError', 'PermanentError']);

/**
 * `value` as an AgentResult, or undefined when it does not have that shape. An error whose name is
 * neither `TransientError` nor `PermanentError` is reported as a PermanentError (unknown = permanent).
 */
export function asAgentResult(value: unknown): AgentResult | undefined {
  const parsed = AGENT_RESULT.safeParse(value);
  if (!parsed.success) return undefined;
  const result = parsed.data;
  if (result.ok) return { ok: true, output: result.output };
  const { name, code, message } = result.error;
  const error = { name: ERROR_NAMES.has(name) ? name : 'PermanentError', message, ...(code === undefined ? {} : { code }) };
  return { ok: false, error };
}

/** The AgentResult on the last non-empty line of `stdout`, or undefined when there is none. */
export function agentResultFromStdout(stdout: string): AgentResult | undefined {
  const lines = stdout.split('\n');
  for (let index = lines.length - 1; index >= 0; index -= 1) {
    const line = lines[index].trim();
    if (line === '') continue;
    try {
      return asAgentResult(JSON.parse(line));
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** The last `maxChars` characters of `text`, marked when cut, for error messages. */
export function textTail(text: string, maxChars = 2000): string {
  const trimmed = text.trimEnd();
  return trimmed.length <= maxChars ? trimmed : `…${trimmed.slice(trimmed.length - maxChars)}`;
}
