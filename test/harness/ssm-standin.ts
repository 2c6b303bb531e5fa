/**
 * An SSM stand-in for tests: an HTTP server on 127.0.0.1 speaking the SSM JSON 1.1 protocol
 * (`X-Amz-Target: AmazonSSM.<Operation>`) well enough for the real @aws-sdk/client-ssm, which
 * actually runs the commands on this machine with `sh -c`, as the SSM agent would on the instance.
 *
 * Operations: SendCommand, GetCommandInvocation, ListCommandInvocations, CancelCommand.
 * Behaviour copied from SSM:
 * - one region: a request signed for another region (or service) is refused
 *   (`InvalidSignatureException`), as a regional endpoint does;
 * - documents: `AWS-RunShellScript` and those given in `documents`; a SendCommand naming another is
 *   refused (`InvalidDocument`), and its parameters are checked against the document before
 *   anything runs — declared, required, `allowedValues`, `allowedPattern`, 48 KB in all
 *   (`InvalidParameters`, see ssm-documents.ts);
 * - the script runs with the SSM agent's environment, not this process's: only `PATH`, `HOME`,
 *   `AWS_SSM_REGION_NAME` and `AWS_SSM_INSTANCE_ID` (no `AWS_REGION`, no credentials, no test
 *   variables), so what an agent needs must come from the document or the host's files;
 * - an instance id SSM's model refuses (`(^i-(\w{8}|\w{17})$)|(^mi-\w{17}$)`; at most 50 in a
 *   SendCommand) → `ValidationException`, in SSM's words, before anything else is looked at;
 * - unknown instance ids → `InvalidInstanceId`; unknown command/invocation → `InvocationDoesNotExist`
 *   (GetCommandInvocation) or `InvalidCommandId` (CancelCommand);
 * - status Pending → InProgress → Success | Failed | TimedOut | Cancelled, `ResponseCode` -1 until the end;
 * - the step's `timeoutSeconds` (AWS-RunShellScript: `executionTimeout`, default 3600) kills the
 *   script: status TimedOut, `ExecutionTimedOut`;
 * - instances listed as offline never receive the command: after `TimeoutSeconds` it is TimedOut,
 *   `DeliveryTimedOut` (the stand-in does not enforce SSM's 30-second minimum, so tests stay short);
 * - `StandardOutputContent` keeps the first 24 000 characters, `StandardErrorContent` the first 8 000,
 *   ListCommandInvocations' plugin `Output` the first 2 500.
 * Every call is recorded for assertions, and errors can be injected (e.g. throttling).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { AwsFault as SsmFault, startAwsJsonEndpoint, type InjectedError, type RecordedCall, type StandinClientConfig } from './aws-json-endpoint';
import { AWS_RUN_SHELL_SCRIPT, DocumentFault, commandRun, type CommandDocument, type CommandRun, type ShellStep } from './ssm-documents';
import { downloadFromS3, type InstanceS3 } from './ssm-download';

/** SSM's model's pattern of an instance id (`InstanceId`, each of `InstanceIds`). */
const SSM_INSTANCE_ID = /(^i-(\w{8}|\w{17})$)|(^mi-\w{17}$)/;
/** The most instance ids one SendCommand may name. */
const SSM_MOST_INSTANCE_IDS = 50;

/** SSM's answer to a request whose `member` (an instance id) breaks its model, unless `value` is one. */
function checkInstanceId(value: unknown, member: string): void {
  if (typeof value === 'string' && SSM_INSTANCE_ID.test(value)) return;
  throw new SsmFault('ValidationException', `1 validation error detected: Value '${String(value)}' at '${member}' failed to satisfy constraint: Member must satisfy regular expression pattern: ${SSM_INSTANCE_ID.source}`);
}

/** SSM's answer to a request whose list `member` of instance ids breaks its model, unless every one is an id and they are few enough. */
function checkInstanceIds(values: unknown[], member: string): void {
  const wrong = values.length > SSM_MOST_INSTANCE_IDS
    ? `Member must have length less than or equal to ${SSM_MOST_INSTANCE_IDS}`
    : values.some((v) => typeof v !== 'string' || v.length < 10 || v.length > 20 || !SSM_INSTANCE_ID.test(v))
      ? `Member must satisfy constraint: [Member must have length less than or equal to 20, Member must have length greater than or equal to 10, Member must satisfy regular expression pattern: ${SSM_INSTANCE_ID.source}]`
      : undefined;
  if (wrong) throw new SsmFault('ValidationException', `1 validation error detected: Value '[${values.map(String).join(', ')}]' at '${member}' failed to satisfy constraint: ${wrong}`);
}

/** SSM's limits on what it keeps of a command's output. */
export const SSM_LIMITS = { stdout: 24_000, stderr: 8_000, listOutput: 2_500 } as const;


/** Options of {@link startSsmStandin}. */
export interface SsmStandinOptions {
  /** Online managed instances: commands sent to them run here. Default `['i-0standin000000001']`. */
  instanceIds?: string[];
  /** Known instances whose SSM agent is offline: commands stay Pending until their delivery timeout. */
  offlineInstanceIds?: string[];
  /** The region of this endpoint, its instances and their SSM agents. Default `us-east-1`. */
  region?: string;
  /** Documents besides `AWS-RunShellScript`, by name (their JSON content). */
  documents?: Record<string, CommandDocument | object>;
  /** `PATH` of the SSM agent's environment. Default: the usual system directories and this Node's. */
  path?: string;
  /** `HOME` of the SSM agent's environment (where an agent finds `~/.aws`). Default: this user's. */
  home?: string;
  /** Working directory of the scripts (unless the document's `workingDirectory` says otherwise). */
  cwd?: string;
  /** What `aws:downloadContent` reads S3 with (the instances' role): the S3 endpoint and credentials. */
  instanceS3?: InstanceS3;
  /** GetCommandInvocation answers `InvocationDoesNotExist` for this long after SendCommand (SSM's eventual consistency). */
  invocationVisibleAfterMs?: number;
}



/** The stand-in's view of one command on one instance. */
export interface StandinInvocation {
  commandId: string;
  instanceId: string;
  script: string;
  status: 'Pending' | 'InProgress' | 'Success' | 'Failed' | 'TimedOut' | 'Cancelled';
  statusDetails: string;
  responseCode: number;
  /** Everything the script wrote, untruncated. */
  stdout: string;
  stderr: string;
  pid?: number;
  requestedAt: Date;
  startedAt?: Date;
  endedAt?: Date;
}

/** A running stand-in. */
export interface SsmStandin {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  /** Endpoint, the stand-in's region and fake credentials, for `new SSMClient(...)`. */
  clientConfig: StandinClientConfig;
  /** Every call received, in order. */
  calls: RecordedCall[];
  /** The invocation of `commandId` on `instanceId` (the first one when no instance is given). */
  invocation(commandId: string, instanceId?: string): StandinInvocation | undefined;
  /** Adds (or replaces) a document, as CreateDocument would. */
  addDocument(name: string, content: CommandDocument | object): void;
  /** Answers the next `times` calls of `operation` (e.g. `GetCommandInvocation`) with `error`. */
  injectError(operation: string, error: InjectedError, times?: number): void;
  /** Resolves when the invocation has reached a final status. */
  waitForEnd(commandId: string, instanceId?: string, timeoutMs?: number): Promise<StandinInvocation>;
  /** Kills every script still running and closes the server. */
  stop(): Promise<void>;
}


interface CommandRecord {
  commandId: string;
  documentName: string;
  instanceIds: string[];
  parameters: Record<string, string[]>;
  run: CommandRun;
  comment?: string;
  timeoutSeconds?: number;
  outputS3BucketName?: string;
  outputS3KeyPrefix?: string;
  requestedAt: Date;
  invocations: Map<string, InvocationRecord>;
}

interface InvocationRecord extends StandinInvocation {
  child?: ChildProcess;
  timers: NodeJS.Timeout[];
  ended: Promise<void>;
  markEnded: () => void;
}

const FINAL = new Set(['Success', 'Failed', 'TimedOut', 'Cancelled']);
/** Output kept in memory per stream, far above SSM's limits but bounded. */
const CAPTURE_LIMIT = 16 * 1024 * 1024;

/** The SSM agent's PATH on a typical Linux host (systemd's default). */
export const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';


/** Starts the stand-in on a random port of 127.0.0.1. */
export async function startSsmStandin(options: SsmStandinOptions = {}): Promise<SsmStandin> {
  const region = options.region ?? 'us-east-1';
  const documents: Record<string, CommandDocument> = { 'AWS-RunShellScript': AWS_RUN_SHELL_SCRIPT, ...(options.documents as Record<string, CommandDocument>) };
  const agentPath = options.path ?? withNodeDir(SYSTEM_PATH);
  const home = options.home ?? os.homedir();
  const online = new Set(options.instanceIds ?? ['i-0standin000000001']);
  const offline = new Set(options.offlineInstanceIds ?? []);
  for (const id of [...online, ...offline]) {
    if (!SSM_INSTANCE_ID.test(id)) throw new Error(`the SSM stand-in's instance '${id}' is not an id SSM could know (${SSM_INSTANCE_ID.source})`);
  }
  const commands = new Map<string, CommandRecord>();

  function sendCommand(input: Record<string, unknown>): unknown {
    const documentName = String(input.DocumentName ?? '');
    const instanceIds = (input.InstanceIds ?? []) as string[];
    if (!Array.isArray(instanceIds) || instanceIds.length === 0) throw new SsmFault('InvalidInstanceId', 'no instance ids');
    checkInstanceIds(instanceIds, 'instanceIds');
    for (const id of instanceIds) {
      if (!online.has(id) && !offline.has(id)) throw new SsmFault('InvalidInstanceId', `Instances [[${id}]] not in a valid state for account 000000000000`);
    }
    const parameters = (input.Parameters ?? {}) as Record<string, string[]>;
    let run: CommandRun;
    try {
      run = commandRun(documentName, documents[documentName], parameters);
    } catch (error) {
      if (error instanceof DocumentFault) throw new SsmFault(error.type, error.message);
      throw error;
    }
    const record: CommandRecord = {
      commandId: randomUUID(),
      documentName,
      instanceIds,
      parameters,
      run,
      comment: typeof input.Comment === 'string' ? input.Comment : undefined,
      timeoutSeconds: typeof input.TimeoutSeconds === 'number' ? input.TimeoutSeconds : undefined,
      outputS3BucketName: typeof input.OutputS3BucketName === 'string' ? input.OutputS3BucketName : undefined,
      outputS3KeyPrefix: typeof input.OutputS3KeyPrefix === 'string' ? input.OutputS3KeyPrefix : undefined,
      requestedAt: new Date(),
      invocations: new Map(),
    };
    commands.set(record.commandId, record);
    for (const instanceId of instanceIds) {
      const invocation = newInvocation(record, instanceId);
      record.invocations.set(instanceId, invocation);
      if (online.has(instanceId)) setImmediate(function deliver() { runInvocation(record, invocation); });
      else deliveryTimeout(record, invocation);
    }
    return { Command: commandView(record, region) };
  }

  function newInvocation(record: CommandRecord, instanceId: string): InvocationRecord {
    let markEnded: () => void = () => {};
    const ended = new Promise<void>((resolve) => { markEnded = resolve; });
    return {
      commandId: record.commandId,
      instanceId,
      script: record.run.script,
      status: 'Pending',
      statusDetails: 'Pending',
      responseCode: -1,
      stdout: '',
      stderr: '',
      requestedAt: record.requestedAt,
      timers: [],
      ended,
      markEnded,
    };
  }

  function finish(invocation: InvocationRecord, status: StandinInvocation['status'], details: string, code: number): void {
    if (FINAL.has(invocation.status)) return;
    invocation.status = status;
    invocation.statusDetails = details;
    invocation.responseCode = code;
    invocation.endedAt = new Date();
    for (const timer of invocation.timers) clearTimeout(timer);
    invocation.markEnded();
  }

  function deliveryTimeout(record: CommandRecord, invocation: InvocationRecord): void {
    const seconds = record.timeoutSeconds ?? 3600;
    invocation.timers.push(setTimeout(function undelivered() {
      finish(invocation, 'TimedOut', 'DeliveryTimedOut', -1);
    }, seconds * 1000));
  }

  function runInvocation(record: CommandRecord, invocation: InvocationRecord): void {
    if (FINAL.has(invocation.status)) return; // cancelled before delivery
    invocation.status = 'InProgress';
    invocation.statusDetails = 'InProgress';
    invocation.startedAt = new Date();
    void (async function runSteps() {
      for (const step of record.run.steps) {
        if (FINAL.has(invocation.status)) return;
        const code = step.action === 'aws:runShellScript' ? await runShell(step, invocation) : await download(step.url, step.destinationPath, invocation);
        if (code !== 0) return finish(invocation, 'Failed', 'Failed', code);
      }
      finish(invocation, 'Success', 'Success', 0);
    })();
  }

  /** `aws:downloadContent` from S3: the object into the destination directory; 0, or 1 with the error on stderr. */
  async function download(url: string, destinationPath: string, invocation: InvocationRecord): Promise<number> {
    try {
      await downloadFromS3(url, path.resolve(options.cwd ?? os.tmpdir(), destinationPath), options.instanceS3);
      return 0;
    } catch (error) {
      invocation.stderr += `aws:downloadContent failed: ${(error as Error).message}\n`;
      return 1;
    }
  }

  /** One `aws:runShellScript` step; resolves with its exit code (a timeout ends the invocation itself). */
  function runShell(step: ShellStep, invocation: InvocationRecord): Promise<number> {
    const cwd = step.workingDirectory || options.cwd;
    const env = { PATH: agentPath, HOME: home, AWS_SSM_REGION_NAME: region, AWS_SSM_INSTANCE_ID: invocation.instanceId };
    const child = spawn('sh', ['-c', step.script], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    invocation.child = child;
    invocation.pid = child.pid;
    child.stdout?.setEncoding('utf8').on('data', function captureStdout(chunk: string) {
      if (invocation.stdout.length < CAPTURE_LIMIT) invocation.stdout += chunk;
    });
    child.stderr?.setEncoding('utf8').on('data', function captureStderr(chunk: string) {
      if (invocation.stderr.length < CAPTURE_LIMIT) invocation.stderr += chunk;
    });
    const timer = setTimeout(function executionTimedOut() {
      killGroup(invocation);
      finish(invocation, 'TimedOut', 'ExecutionTimedOut', 137);
    }, step.executionTimeoutSeconds * 1000);
    invocation.timers.push(timer);
    return new Promise((resolve) => {
      child.once('error', function spawnFailed(error) {
        invocation.stderr += String(error);
        resolve(1);
      });
      child.once('close', function scriptEnded(code, signal) {
        clearTimeout(timer);
        invocation.child = undefined;
        resolve(code ?? (signal ? 128 + signalNumber(signal) : 1));
      });
    });
  }

  function findCommand(commandId: unknown, fault: string): CommandRecord {
    const record = typeof commandId === 'string' ? commands.get(commandId) : undefined;
    if (!record) throw new SsmFault(fault, fault === 'InvalidCommandId' ? '' : `command ${String(commandId)} does not exist`);
    return record;
  }

  function getCommandInvocation(input: Record<string, unknown>): unknown {
    checkInstanceId(input.InstanceId, 'instanceId');
    const record = findCommand(input.CommandId, 'InvocationDoesNotExist');
    const invocation = record.invocations.get(String(input.InstanceId));
    if (!invocation) throw new SsmFault('InvocationDoesNotExist', '');
    if (Date.now() - record.requestedAt.getTime() < (options.invocationVisibleAfterMs ?? 0)) throw new SsmFault('InvocationDoesNotExist', '');
    const started = invocation.startedAt;
    const ended = invocation.endedAt;
    return {
      CommandId: record.commandId,
      InstanceId: invocation.instanceId,
      Comment: record.comment ?? '',
      DocumentName: record.documentName,
      DocumentVersion: '$DEFAULT',
      PluginName: 'aws:runShellScript',
      ResponseCode: invocation.responseCode,
      ExecutionStartDateTime: started ? started.toISOString() : '',
      ExecutionElapsedTime: started ? `PT${(((ended ?? new Date()).getTime() - started.getTime()) / 1000).toFixed(3)}S` : '',
      ExecutionEndDateTime: ended && started ? ended.toISOString() : '',
      Status: invocation.status,
      StatusDetails: invocation.statusDetails,
      StandardOutputContent: invocation.stdout.slice(0, SSM_LIMITS.stdout),
      StandardOutputUrl: outputUrl(record, invocation, 'stdout'),
      StandardErrorContent: invocation.stderr.slice(0, SSM_LIMITS.stderr),
      StandardErrorUrl: outputUrl(record, invocation, 'stderr'),
      CloudWatchOutputConfig: { CloudWatchLogGroupName: '', CloudWatchOutputEnabled: false },
    };
  }

  function listCommandInvocations(input: Record<string, unknown>): unknown {
    if (input.InstanceId !== undefined) checkInstanceId(input.InstanceId, 'instanceId');
    const selected = typeof input.CommandId === 'string' ? [findCommand(input.CommandId, 'InvalidCommandId')] : [...commands.values()];
    const details = input.Details === true;
    const rows = selected.flatMap((record) => [...record.invocations.values()]
      .filter((invocation) => input.InstanceId === undefined || invocation.instanceId === input.InstanceId)
      .map((invocation) => ({
        CommandId: record.commandId,
        InstanceId: invocation.instanceId,
        InstanceName: '',
        Comment: record.comment ?? '',
        DocumentName: record.documentName,
        DocumentVersion: '$DEFAULT',
        RequestedDateTime: epochSeconds(record.requestedAt),
        Status: invocation.status,
        StatusDetails: invocation.statusDetails,
        TraceOutput: '',
        StandardOutputUrl: outputUrl(record, invocation, 'stdout'),
        StandardErrorUrl: outputUrl(record, invocation, 'stderr'),
        CommandPlugins: details ? [{
          Name: 'aws:runShellScript',
          Status: invocation.status,
          StatusDetails: invocation.statusDetails,
          ResponseCode: invocation.responseCode,
          ...(invocation.startedAt ? { ResponseStartDateTime: epochSeconds(invocation.startedAt) } : {}),
          ...(invocation.endedAt ? { ResponseFinishDateTime: epochSeconds(invocation.endedAt) } : {}),
          Output: invocation.stdout.slice(0, SSM_LIMITS.listOutput),
          StandardOutputUrl: outputUrl(record, invocation, 'stdout'),
          StandardErrorUrl: outputUrl(record, invocation, 'stderr'),
        }] : [],
      })));
    return { CommandInvocations: rows };
  }

  function cancelCommand(input: Record<string, unknown>): unknown {
    if (Array.isArray(input.InstanceIds)) checkInstanceIds(input.InstanceIds, 'instanceIds');
    const record = findCommand(input.CommandId, 'InvalidCommandId');
    const only = Array.isArray(input.InstanceIds) ? new Set(input.InstanceIds as string[]) : undefined;
    for (const invocation of record.invocations.values()) {
      if (only && !only.has(invocation.instanceId)) continue;
      if (FINAL.has(invocation.status)) continue;
      killGroup(invocation);
      finish(invocation, 'Cancelled', 'Cancelled', -1);
    }
    return {};
  }


  const server = await startAwsJsonEndpoint({
    region, service: 'ssm', targetPrefix: 'AmazonSSM.', jsonVersion: '1.1',
    operations: { SendCommand: sendCommand, GetCommandInvocation: getCommandInvocation, ListCommandInvocations: listCommandInvocations, CancelCommand: cancelCommand },
  });

  function lookup(commandId: string, instanceId?: string): InvocationRecord | undefined {
    const record = commands.get(commandId);
    if (!record) return undefined;
    return instanceId === undefined ? record.invocations.values().next().value : record.invocations.get(instanceId);
  }

  return {
    endpoint: server.endpoint,
    clientConfig: server.clientConfig,
    calls: server.calls,
    invocation: lookup,
    addDocument(name, content) {
      documents[name] = content as CommandDocument;
    },
    injectError: server.injectError,
    async waitForEnd(commandId, instanceId, timeoutMs = 30_000) {
      const invocation = lookup(commandId, instanceId);
      if (!invocation) throw new Error(`no invocation of ${commandId}`);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`invocation ${commandId} still ${invocation.status} after ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        await Promise.race([invocation.ended, timeout]);
      } finally {
        clearTimeout(timer);
      }
      return invocation;
    },
    async stop() {
      const closing: Promise<void>[] = [];
      for (const record of commands.values()) {
        for (const invocation of record.invocations.values()) {
          for (const timer of invocation.timers) clearTimeout(timer);
          if (invocation.child) {
            const child = invocation.child;
            closing.push(new Promise((resolve) => child.once('close', () => resolve())));
            killGroup(invocation);
          }
          finish(invocation, 'Cancelled', 'Cancelled', -1);
        }
      }
      await Promise.all(closing);
      await server.close();
    },
  };
}

/** SIGKILL to the script's whole process group (it was spawned detached, as its leader). */
function killGroup(invocation: InvocationRecord): void {
  if (invocation.pid === undefined || !invocation.child) return;
  try {
    process.kill(-invocation.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

function signalNumber(signal: NodeJS.Signals): number {
  const numbers: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
  return numbers[signal] ?? 0;
}

/** `path` with the directory of this Node appended, so `#!/usr/bin/env node` finds it wherever it is installed. */
export function withNodeDir(searchPath: string): string {
  const nodeDir = path.dirname(process.execPath);
  return searchPath.split(':').includes(nodeDir) ? searchPath : `${searchPath}:${nodeDir}`;
}

function outputUrl(record: CommandRecord, invocation: StandinInvocation, stream: 'stdout' | 'stderr'): string {
  if (!record.outputS3BucketName) return '';
  const prefix = record.outputS3KeyPrefix ? `${record.outputS3KeyPrefix}/` : '';
  return `https://s3.amazonaws.com/${record.outputS3BucketName}/${prefix}${record.commandId}/${invocation.instanceId}/awsrunShellScript/0.awsrunShellScript/${stream}`;
}

function commandView(record: CommandRecord, region: string): Record<string, unknown> {
  return {
    CommandId: record.commandId,
    DocumentName: record.documentName,
    DocumentVersion: '$DEFAULT',
    Comment: record.comment ?? '',
    ExpiresAfter: epochSeconds(new Date(record.requestedAt.getTime() + (record.timeoutSeconds ?? 3600) * 1000)),
    Parameters: record.parameters,
    InstanceIds: record.instanceIds,
    Targets: [],
    RequestedDateTime: epochSeconds(record.requestedAt),
    Status: 'Pending',
    StatusDetails: 'Pending',
    OutputS3Region: region,
    OutputS3BucketName: record.outputS3BucketName ?? '',
    OutputS3KeyPrefix: record.outputS3KeyPrefix ?? '',
    MaxConcurrency: '50',
    MaxErrors: '0',
    TargetCount: record.instanceIds.length,
    CompletedCount: 0,
    ErrorCount: 0,
    DeliveryTimedOutCount: 0,
    ServiceRole: '',
    NotificationConfig: { NotificationArn: '', NotificationEvents: [], NotificationType: '' },
    CloudWatchOutputConfig: { CloudWatchLogGroupName: '', CloudWatchOutputEnabled: false },
    TimeoutSeconds: record.timeoutSeconds ?? 3600,
  };
}

/** awsJson 1.1 timestamps are epoch seconds. */
function epochSeconds(date: Date): number {
  return date.getTime() / 1000;
}


