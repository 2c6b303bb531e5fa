/**
 * The SSM Command document that runs one host step on a database host, and the parameters a
 * SendCommand gives it. The stack deploys it (infra/agent-documents.ts) and the Lambdas may send
 * only it: the step from a fixed list, its input as base64 JSON, a result key of one fixed shape
 * and a timeout, each checked by SSM against the document (`allowedValues`, `allowedPattern`)
 * before anything runs. Where the agent writes (the store) and in which region are fixed when the
 * document is built, not chosen per command. No free shell line travels.
 *
 * The host runs, for a command with parameters step/input/resultKey:
 *
 *     AWS_REGION='<region>' <agentCommand> --store '<storeUrl>' agent '<step>' --input-base64 '<input>' --result-key '<resultKey>'
 */
import { AGENT_STEP_NAMES, type AgentStep } from '../agent/agent-step-names';
import { AGENT_RESULTS_PREFIX, HOST_SEGMENT_PATTERN } from './agent-result';

/** The agent command on hosts when none is configured: `dbbackup` on the PATH (see the install document). */
export const DEFAULT_AGENT_COMMAND = 'dbbackup';

/** SSM's largest execution timeout of a shell step (48 hours). */
export const MAX_EXECUTION_TIMEOUT_SECONDS = 172_800;

/** What the document's parameters accept, as SSM checks them. */
export const AGENT_DOCUMENT_PATTERNS = {
  /** Standard base64; a plain character class, so SSM's (Java) matcher never recurses on 48 KB. */
  input: '^[A-Za-z0-9+/]+={0,2}$',
  /** `state/agent-results/<host>/<uuid>.json`, what the runner creates (agent-result.ts). */
  resultKey: `^${escapeRegExp(AGENT_RESULTS_PREFIX)}${HOST_SEGMENT_PATTERN}/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\\.json$`,
  /** 1 … 172800 seconds (a whole number without leading zeros; the upper bound is checked by the runner). */
  executionTimeout: '^[1-9][0-9]{0,5}$',
} as const;

/** A parameter of an SSM document (the subset we use). */
export interface SsmDocumentParameter {
  type: 'String' | 'StringList';
  description: string;
  default?: string;
  allowedValues?: string[];
  allowedPattern?: string;
}

/** An SSM Command document, schema 2.2, with shell steps (the subset we use). */
export interface SsmCommandDocument {
  schemaVersion: '2.2';
  description: string;
  parameters: Record<string, SsmDocumentParameter>;
  mainSteps: Array<{ action: string; name: string; inputs: Record<string, unknown> }>;
}

/** What is fixed when the document is built. */
export interface AgentDocumentOptions {
  /** The store the agent reads and writes (`--store`): the stack's bucket. */
  storeUrl: string;
  /** The region of the store and the secrets (the stack's), set as the agent's `AWS_REGION`. */
  region: string;
  /** Command that runs the agent CLI on hosts. Default `dbbackup` (on the PATH). */
  agentCommand?: string;
  /** Further variables for the agent (names `[A-Z_][A-Z0-9_]*`), e.g. a test's S3 endpoint. */
  environment?: Readonly<Record<string, string>>;
}

const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;

/**
 * The document's content.
 * @throws Error for an empty agent command or a malformed variable name (the stack's own
 *   configuration, so it fails the synth)
 */
export function agentStepDocument(options: AgentDocumentOptions): SsmCommandDocument {
  const agentCommand = (options.agentCommand ?? DEFAULT_AGENT_COMMAND).trim();
  if (agentCommand === '') throw new Error('the agent document needs a non-empty agent command');
  const environment = { AWS_REGION: options.region, ...options.environment };
  for (const name of Object.keys(environment)) {
    if (!ENV_NAME.test(name)) throw new Error(`agent document: '${name}' is not an environment variable name`);
  }
  const assignments = Object.entries(environment).map(([name, value]) => `${name}=${shellQuote(value)}`).join(' ');
  const line = `${assignments} ${agentCommand} --store ${shellQuote(options.storeUrl)} agent '{{ step }}' --input-base64 '{{ input }}' --result-key '{{ resultKey }}'`;
  return {
    schemaVersion: '2.2',
    description: 'dbbackup: runs one host step of a backup or restore with the dbbackup agent on this database host',
    parameters: {
      step: { type: 'String', description: 'the host step to run', allowedValues: [...AGENT_STEP_NAMES] },
      input: { type: 'String', description: "the step's input: JSON, base64-encoded", allowedPattern: AGENT_DOCUMENT_PATTERNS.input },
      resultKey: { type: 'String', description: 'store key where the agent also writes its result', allowedPattern: AGENT_DOCUMENT_PATTERNS.resultKey },
      executionTimeout: {
        type: 'String', description: 'seconds the step may run before SSM stops it', default: '3600', allowedPattern: AGENT_DOCUMENT_PATTERNS.executionTimeout,
      },
    },
    mainSteps: [{
      action: 'aws:runShellScript',
      name: 'runAgentStep',
      inputs: { timeoutSeconds: '{{ executionTimeout }}', runCommand: [line] },
    }],
  };
}

/** The SendCommand `Parameters` for one step. */
export function agentStepParameters(step: AgentStep, input: unknown, resultKey: string, timeoutSeconds: number): Record<string, string[]> {
  return {
    step: [step],
    input: [Buffer.from(JSON.stringify(input ?? null), 'utf8').toString('base64')],
    resultKey: [resultKey],
    executionTimeout: [String(timeoutSeconds)],
  };
}

/** Bytes of all parameter values together (what SSM's ~48 KB limit counts). */
export function parameterBytes(parameters: Record<string, string[]>): number {
  return Object.entries(parameters).reduce((sum, [name, values]) => sum + Buffer.byteLength(name) + values.reduce((n, v) => n + Buffer.byteLength(v), 0), 0);
}

/** `value` as one single-quoted shell word. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
