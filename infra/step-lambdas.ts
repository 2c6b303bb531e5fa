/**
 * One Lambda function per step handler (`functions/<dir>/<file>.ts`), bundled with the local
 * esbuild (never Docker), Node.js 22, the SDK bundled in (the version the code was tested with),
 * packages that cannot be inlined copied next to the bundle (see runtime-dependencies.ts), and a
 * log group with a retention per function.
 */
import { Duration, RemovalPolicy, Size } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import path from 'node:path';
import {
  BACKUP_HANDLERS, handlerEntry, HANDLER_IDS, MAINTENANCE_HANDLERS, RESTORE_HANDLERS,
  type BackupHandler, type HandlerId, type MaintenanceHandler, type RestoreHandler,
} from '../statemachines/handlers';
import { copyPackagesCommands, HOST_ONLY_PACKAGES, packageClosure, UNBUNDLED_PACKAGES } from './runtime-dependencies';

/** Settings shared by every step function. */
export interface StepLambdasProps {
  /** The repository root (holds package-lock.json, functions/, node_modules/). */
  readonly projectRoot: string;
  /** Environment of every function. */
  readonly environment: Readonly<Record<string, string>>;
  /** Memory of each function. @default 1024 MiB */
  readonly memorySize?: number;
  /** Timeout of each invocation (Tasks time out at most this long after). @default 15 minutes */
  readonly timeout?: Duration;
  /** /tmp size. @default Lambda's 512 MiB: no spool runs in a function (host steps run on the database host) */
  readonly ephemeralStorageSize?: Size;
  /** Instruction set. @default x86_64 */
  readonly architecture?: lambda.Architecture;
  /** How long function logs are kept. @default 3 months */
  readonly logRetention?: logs.RetentionDays;
}

/** The functions of every handler. */
export class StepLambdas extends Construct {
  /** Backup functions by handler name. */
  public readonly backup: Readonly<Record<BackupHandler, nodejs.NodejsFunction>>;
  /** Restore functions by handler name. */
  public readonly restore: Readonly<Record<RestoreHandler, nodejs.NodejsFunction>>;
  /** Maintenance functions (started by schedules, not state machines) by handler name. */
  public readonly maintenance: Readonly<Record<MaintenanceHandler, nodejs.NodejsFunction>>;

  constructor(scope: Construct, id: string, props: StepLambdasProps) {
    super(scope, id);
    const unbundled = packageClosure(props.projectRoot, UNBUNDLED_PACKAGES);
    const make = (handler: HandlerId) => {
      const name = handler.replace('/', '-');
      const logGroup = new logs.LogGroup(this, `${name}-logs`, {
        retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      // Its own role, allowed to write only its own log group (instead of AWSLambdaBasicExecutionRole,
      // which may write any log group). Store, SSM and secret access is added per function by the stack.
      const role = new iam.Role(this, `${name}-role`, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `dbbackup step ${handler}`,
      });
      logGroup.grantWrite(role);
      return new nodejs.NodejsFunction(this, name, {
        role,
        description: `dbbackup step ${handler}`,
        entry: handlerEntry(handler, props.projectRoot),
        handler: 'handler',
        projectRoot: props.projectRoot,
        depsLockFilePath: path.join(props.projectRoot, 'package-lock.json'),
        runtime: lambda.Runtime.NODEJS_22_X,
        architecture: props.architecture ?? lambda.Architecture.X86_64,
        memorySize: props.memorySize ?? 1024,
        timeout: props.timeout ?? Duration.minutes(15),
        ...(props.ephemeralStorageSize ? { ephemeralStorageSize: props.ephemeralStorageSize } : {}),
        environment: { ...props.environment, NODE_OPTIONS: '--enable-source-maps' },
        logGroup,
        // The state machines trace with X-Ray; traced functions make one trace of a whole run.
        tracing: lambda.Tracing.ACTIVE,
        bundling: {
          forceDockerBundling: false,
          target: 'node22',
          format: nodejs.OutputFormat.CJS,
          sourceMap: true,
          sourcesContent: false,
          minify: false,
          logLevel: nodejs.LogLevel.ERROR,
          bundleAwsSDK: true,
          // Host-only packages are neither inlined nor copied: no function loads them.
          externalModules: [...UNBUNDLED_PACKAGES, ...HOST_ONLY_PACKAGES],
          commandHooks: {
            beforeBundling: () => [],
            beforeInstall: () => [],
            afterBundling: (inputDir: string, outputDir: string) => copyPackagesCommands(inputDir, outputDir, unbundled),
          },
        },
      });
    };
    this.backup = Object.fromEntries(BACKUP_HANDLERS.map((name) => [name, make(`backup/${name}`)])) as Record<BackupHandler, nodejs.NodejsFunction>;
    this.restore = Object.fromEntries(RESTORE_HANDLERS.map((name) => [name, make(`restore/${name}`)])) as Record<RestoreHandler, nodejs.NodejsFunction>;
    this.maintenance = Object.fromEntries(MAINTENANCE_HANDLERS.map((name) => [name, make(`maintenance/${name}`)])) as Record<MaintenanceHandler, nodejs.NodejsFunction>;
  }

  /** Every function with its handler id. */
  public all(): Array<readonly [HandlerId, nodejs.NodejsFunction]> {
    return HANDLER_IDS.map((id) => [id, this.byId(id)] as const);
  }

  /** The function of one handler. */
  public byId(id: HandlerId): nodejs.NodejsFunction {
    const [dir, name] = id.split('/') as ['backup' | 'restore' | 'maintenance', string];
    if (dir === 'maintenance') return this.maintenance[name as MaintenanceHandler];
    return dir === 'backup' ? this.backup[name as BackupHandler] : this.restore[name as RestoreHandler];
  }
}
