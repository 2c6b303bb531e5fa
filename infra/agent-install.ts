/**
 * Puts the host agent on every managed database host and keeps it current: the agent bundle
 * (scripts/host-bundle.ts) published as an asset of the stack, the install document
 * (agent-install-document.ts), and a State Manager association that runs it on every instance
 * tagged for dbbackup — when the stack is deployed with a new bundle (a new document), when a
 * newly tagged host appears, and once a day to repair drift.
 */
import { AssetHashType, BundlingOutput, DockerImage, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import path from 'node:path';
import { HOST_BUNDLE_FILE, writeHostBundle } from '../scripts/host-bundle';
import { agentInstallDocument } from './agent-install-document';
import { HOST_PACKAGES } from './runtime-dependencies';
import type { ManagedTag } from './iam-statements';

export interface AgentInstallProps {
  /** The repository root (what the bundle is built from). */
  readonly projectRoot: string;
  /** The tag that marks database hosts. */
  readonly managedTag: ManagedTag;
  /** How often the association re-runs besides on changes. @default 'rate(1 day)' */
  readonly schedule?: string;
}

/** The agent bundle, its install document and the association. */
export class AgentInstall extends Construct {
  public readonly bundle: s3assets.Asset;
  public readonly documentName: string;
  public readonly association: ssm.CfnAssociation;

  constructor(scope: Construct, id: string, props: AgentInstallProps) {
    super(scope, id);
    this.bundle = new s3assets.Asset(this, 'Bundle', {
      // The bundle is built from the repository, not from this path (it only has to exist).
      path: path.join(props.projectRoot, 'bin'),
      assetHashType: AssetHashType.OUTPUT,
      bundling: {
        image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:22'),
        outputType: BundlingOutput.ARCHIVED,
        local: {
          tryBundle(outputDir: string): boolean {
            writeHostBundle(props.projectRoot, path.join(outputDir, HOST_BUNDLE_FILE));
            return true;
          },
        },
      },
    });
    const document = new ssm.CfnDocument(this, 'Resource', {
      documentType: 'Command',
      documentFormat: 'JSON',
      content: agentInstallDocument({
        bundleUrl: this.bundle.httpUrl, release: this.bundle.assetHash, packages: HOST_PACKAGES, builtWith: `Node.js ${process.version} on ${process.platform}-${process.arch}`,
      }),
    });
    this.documentName = document.ref;
    this.association = new ssm.CfnAssociation(this, 'Association', {
      name: this.documentName,
      associationName: `${Stack.of(this).stackName}-install-agent`,
      targets: [{ key: `tag:${props.managedTag.key}`, values: [props.managedTag.value] }],
      scheduleExpression: props.schedule ?? 'rate(1 day)',
      maxConcurrency: '50%',
      maxErrors: '100%',
    });
  }

  /** What a database host's role needs to download the bundle. */
  public hostStatements(): iam.PolicyStatement[] {
    return [new iam.PolicyStatement({ sid: 'DownloadAgentBundle', actions: ['s3:GetObject'], resources: [this.bundle.bucket.arnForObjects(this.bundle.s3ObjectKey)] })];
  }
}
