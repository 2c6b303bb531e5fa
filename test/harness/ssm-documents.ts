/**
 * The SSM stand-in's documents: what SSM checks when a SendCommand names a document and gives it
 * parameters, and the shell script the SSM agent then runs on the instance.
 *
 * Checks copied from SSM (each refusal is `InvalidDocument` or `InvalidParameters`, before anything
 * runs): the document exists; every parameter given is declared; a `String` takes exactly one
 * value; parameters without a default are given; `allowedValues` and `allowedPattern` hold for
 * every value; the values total at most 48 KB. Then `{{ name }}` in the step's inputs is replaced
 * by the value (a `runCommand` line that is exactly `{{ name }}` of a StringList becomes its lines).
 *
 * The stand-in runs the steps of two plugins, in order, the first failure ending the command:
 * `aws:runShellScript` (like `AWS-RunShellScript`, built in with its real parameters, and the
 * project's agent-step document) and `aws:downloadContent` from S3 (the install document).
 */

/** What SSM accepts in all the parameter values of one command. */
export const SSM_PARAMETERS_LIMIT_BYTES = 48 * 1024;

/** A document parameter, as in the document's JSON. */
export interface DocumentParameter {
  type: string;
  default?: string | string[];
  allowedValues?: string[];
  allowedPattern?: string;
}

/** A Command document's content, as in its JSON (schema 2.2). */
export interface CommandDocument {
  schemaVersion: string;
  parameters?: Record<string, DocumentParameter>;
  mainSteps: Array<{ action: string; name: string; inputs: Record<string, unknown> }>;
}

/** One `aws:runShellScript` step, its parameters filled in. */
export interface ShellStep {
  action: 'aws:runShellScript';
  script: string;
  /** `timeoutSeconds` of the step (SSM's default 3600). */
  executionTimeoutSeconds: number;
  workingDirectory?: string;
}

/** One `aws:downloadContent` step from S3, its parameters filled in. */
export interface DownloadStep {
  action: 'aws:downloadContent';
  /** The object's HTTPS URL (`sourceInfo.path`). */
  url: string;
  destinationPath: string;
}

/** What the SSM agent runs for one command: its steps, in order. */
export interface CommandRun {
  steps: Array<ShellStep | DownloadStep>;
  /** The shell steps' scripts, one after the other (for assertions). */
  script: string;
}

/** A refusal SSM answers with: its error type and message. */
export class DocumentFault extends Error {
  constructor(readonly type: 'InvalidDocument' | 'InvalidParameters', message: string) {
    super(message);
  }
}

/** `AWS-RunShellScript` as AWS publishes it (the parameters and step the stand-in needs). */
export const AWS_RUN_SHELL_SCRIPT: CommandDocument = {
  schemaVersion: '2.2',
  parameters: {
    commands: { type: 'StringList' },
    workingDirectory: { type: 'String', default: '', allowedPattern: '.*' },
    executionTimeout: {
      type: 'String',
      default: '3600',
      allowedPattern: '([1-9][0-9]{0,4})|(1[0-6][0-9]{4})|(17[0-1][0-9]{3})|(172[0-7][0-9]{2})|(172800)',
    },
  },
  mainSteps: [{
    action: 'aws:runShellScript',
    name: 'runShellScript',
    inputs: { runCommand: ['{{ commands }}'], workingDirectory: '{{ workingDirectory }}', timeoutSeconds: '{{ executionTimeout }}' },
  }],
};

/** The steps to run for `document` with the parameters of a SendCommand. @throws DocumentFault */
export function commandRun(name: string, document: CommandDocument | undefined, given: Record<string, unknown>): CommandRun {
  if (!document) throw new DocumentFault('InvalidDocument', `Document with name ${name} does not exist.`);
  const values = checkedParameters(document.parameters ?? {}, given);
  const steps = document.mainSteps.map((step) => planStep(name, step, values));
  const script = steps.flatMap((step) => (step.action === 'aws:runShellScript' ? [step.script] : [])).join('\n');
  return { steps, script };
}

function planStep(name: string, step: CommandDocument['mainSteps'][number], values: Record<string, string | string[]>): ShellStep | DownloadStep {
  const input = (key: string): string | undefined => (step.inputs[key] === undefined ? undefined : interpolate(String(step.inputs[key]), values));
  if (step.action === 'aws:runShellScript') {
    const lines = (step.inputs.runCommand as string[]).flatMap((line) => {
      const whole = /^\{\{\s*(\w+)\s*\}\}$/.exec(line);
      return whole && Array.isArray(values[whole[1]]) ? values[whole[1]] as string[] : [interpolate(line, values)];
    });
    const workingDirectory = input('workingDirectory');
    return {
      action: step.action, script: lines.join('\n'), executionTimeoutSeconds: Number(input('timeoutSeconds') ?? '3600'), ...(workingDirectory ? { workingDirectory } : {}),
    };
  }
  if (step.action === 'aws:downloadContent' && input('sourceType') === 'S3') {
    const { path: url } = JSON.parse(input('sourceInfo') ?? '{}') as { path?: string };
    if (!url) throw new DocumentFault('InvalidDocument', `document ${name}: step ${step.name} has no sourceInfo path`);
    return { action: step.action, url, destinationPath: input('destinationPath') ?? '' };
  }
  throw new DocumentFault('InvalidDocument', `document ${name}: the stand-in does not run ${step.action} steps (step ${step.name})`);
}

function checkedParameters(declared: Record<string, DocumentParameter>, given: Record<string, unknown>): Record<string, string | string[]> {
  const values: Record<string, string | string[]> = {};
  let bytes = 0;
  for (const [name, raw] of Object.entries(given)) {
    const parameter = declared[name];
    if (!parameter) throw new DocumentFault('InvalidParameters', `Parameter "${name}" is not defined in the document.`);
    const list = Array.isArray(raw) ? raw.map(String) : [];
    if (parameter.type === 'String' && list.length !== 1) throw new DocumentFault('InvalidParameters', `Parameter "${name}" takes one value.`);
    for (const value of list) {
      bytes += Buffer.byteLength(value);
      if (parameter.allowedValues && !parameter.allowedValues.includes(value)) {
        throw new DocumentFault('InvalidParameters', `Parameter "${name}" value is not one of its allowed values.`);
      }
      if (parameter.allowedPattern && !new RegExp(parameter.allowedPattern).test(value)) {
        throw new DocumentFault('InvalidParameters', `Parameter "${name}" "${value.slice(0, 40)}" failed to satisfy constraint: Member must satisfy regular expression pattern: ${parameter.allowedPattern}`);
      }
    }
    values[name] = parameter.type === 'String' ? list[0] : list;
  }
  if (bytes > SSM_PARAMETERS_LIMIT_BYTES) {
    throw new DocumentFault('InvalidParameters', `the parameters' values total ${bytes} bytes, more than the ${SSM_PARAMETERS_LIMIT_BYTES} SSM accepts`);
  }
  for (const [name, parameter] of Object.entries(declared)) {
    if (name in values) continue;
    if (parameter.default === undefined) throw new DocumentFault('InvalidParameters', `Parameter "${name}" is required.`);
    values[name] = parameter.default;
  }
  return values;
}

function interpolate(text: string, values: Record<string, string | string[]>): string {
  return text.replace(/\{\{\s*(\w+)\s*\}\}/g, (whole, name: string) => {
    const value = values[name];
    return value === undefined ? whole : Array.isArray(value) ? value.join(',') : value;
  });
}
