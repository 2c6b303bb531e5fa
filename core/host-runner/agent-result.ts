/**
 * Reading an {@link AgentResult} back from what the agent left behind: the last JSON line of its
 * stdout, or the JSON document it wrote to the store. Whatever does not have the AgentResult shape
 * is "no result", never a guess.
 */
import { z } from 'zod';
import type { AgentResult } from '../agent/agent-steps';
import { STATE_ROOT } from '../catalog/layout';

/**
 * Where agents write results too large for SSM's output (relative to the store). Read once, right
 * after the command ends; the bucket's lifecycle expires them.
 */
export const AGENT_RESULTS_PREFIX = `${STATE_ROOT}/agent-results/`;

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
