/**
 * Builds the CDK app exactly as `npx cdk synth` does (infra/app.ts), so tests synthesize the same
 * thing: the stack from the instances file, with the cdk-nag AwsSolutions checks applied.
 */
import { App, Validations, type AppProps } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import path from 'node:path';
import { BackupStack, type BackupStackProps } from './backup-stack';
import { databaseNetworkFromContext } from './database-network';
import { DEFAULT_INSTANCES_FILE, loadInstances, parseInstances, type InstanceInput } from './instances';

/**
 * Feature flags, set here rather than in cdk.json so that tests (which build the app in process)
 * synthesize exactly what `npx cdk synth` does.
 */
export const FEATURE_FLAGS: Readonly<Record<string, unknown>> = {
  // Log delivery to the access-log bucket through its bucket policy (ACLs are disabled on it).
  '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true,
};

/** The stack's name unless the `stackName` context says otherwise. */
export const DEFAULT_STACK_NAME = 'DbBackup';

/** Options of {@link buildApp}. */
export interface BuildAppOptions {
  /** Repository root. @default the parent of infra/ */
  readonly projectRoot?: string;
  /** Instances (checked as the file's are); otherwise read from `instancesFile`. */
  readonly instances?: readonly InstanceInput[];
  /**
   * Instances file, relative to `projectRoot`. @default the `instancesFile` context value, else
   * DBBACKUP_INSTANCES_FILE, else dbbackup.instances.json
   */
  readonly instancesFile?: string;
  /** Skip esbuild bundling (assets are stand-ins: for fast tests only, never to deploy). @default false */
  readonly skipBundling?: boolean;
  /** Passed to the App (context, outdir…). */
  readonly appProps?: AppProps;
  /** Overrides of the stack's props. */
  readonly stackProps?: Partial<BackupStackProps>;
}

/**
 * The account and region the stack is bound to: only those the deployer names (`-c region=…`,
 * `-c account=…`). Otherwise the stack is environment-agnostic: its region and account are
 * `AWS::Region` / `AWS::AccountId`, filled in by CloudFormation wherever it is deployed. Never
 * CDK_DEFAULT_REGION: the CDK CLI sets it to us-east-1 when nothing is configured, which would bake
 * us-east-1 into the agent's document, the install URL and every policy of an offline synth.
 */
function explicitEnvironment(app: App): { account?: string; region?: string } {
  const region = app.node.tryGetContext('region') as string | undefined;
  const account = app.node.tryGetContext('account') as string | undefined;
  return { ...(region ? { region } : {}), ...(account ? { account } : {}) };
}

/** The app and its one stack. */
export interface BuiltApp {
  readonly app: App;
  readonly stack: BackupStack;
}

/** Builds the app: one {@link BackupStack}, cdk-nag AwsSolutions checks on everything. */
export function buildApp(options: BuildAppOptions = {}): BuiltApp {
  const projectRoot = options.projectRoot ?? path.resolve(__dirname, '..');
  const app = new App({ ...options.appProps, context: { ...FEATURE_FLAGS, ...options.appProps?.context } });
  if (options.skipBundling) app.node.setContext('aws:cdk:bundling-stacks', []);
  const instancesFile =
    options.instancesFile ?? (app.node.tryGetContext('instancesFile') as string | undefined) ?? process.env.DBBACKUP_INSTANCES_FILE ?? DEFAULT_INSTANCES_FILE;
  const instances = options.instances ? parseInstances({ instances: options.instances }, 'buildApp({ instances })') : loadInstances(instancesFile, projectRoot);
  const stackName = (app.node.tryGetContext('stackName') as string | undefined) ?? DEFAULT_STACK_NAME;
  const databaseNetwork = databaseNetworkFromContext(app.node.tryGetContext('databaseSubnets'), app.node.tryGetContext('databaseSecurityGroups'));
  const stack = new BackupStack(app, stackName, {
    description: 'dbbackup: scheduled database backups and console-started restores on Step Functions',
    ...(databaseNetwork ? { databaseNetwork } : {}),
    ...options.stackProps,
    instances,
    projectRoot,
    env: { ...explicitEnvironment(app), ...options.stackProps?.env },
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { app, stack };
}
