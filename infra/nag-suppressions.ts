/**
 * The cdk-nag AwsSolutions findings this stack accepts, each acknowledged on the narrowest
 * construct (a role's policy, a state machine) with the reason it is acceptable. cdk-nag 3 runs as
 * a CDK policy-validation plugin; acknowledgments use CDK's `Validations.of(x).acknowledge()`
 * (cdk-nag 3 removed `NagSuppressions`). Anything not listed here fails `cdk synth`.
 */
import { Stack, Token, Validations, type CfnElement } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import type { BackupStack } from './backup-stack';
import { BACKUPS_ROOT, DRILL_FILE, POOL_ROOT, STATE_ROOT, VERIFICATION_FILE } from '../core/catalog/layout';
import { FUNCTION_ACCESS } from './function-access';
import { hostSecretPrefixes, restoreSecretPrefixes, type HostScope } from './host-policies';
import { AGENT_RESULTS_PREFIX } from '../core/host-runner/agent-result';
import { RESTORES_ROOT } from '../core/restore/restore-records';

/** One accepted finding: the rule id (with its finding in brackets for granular rules) and why. */
export interface AcceptedFinding {
  readonly id: string;
  readonly reason: string;
}

function acknowledge(scope: IConstruct, findings: readonly AcceptedFinding[]): void {
  for (const finding of findings) Validations.of(scope).acknowledge(finding);
}

/** `<LogicalId.Arn>` as cdk-nag writes a GetAtt in a finding. */
function arnRef(element: IConstruct): string {
  const cfn = (element.node.defaultChild ?? element) as CfnElement;
  return `<${Stack.of(element).resolve(cfn.logicalId) as string}.Arn>`;
}

/** The default policy of a role (where grants land). */
function defaultPolicy(role: iam.IRole): IConstruct {
  const policy = role.node.tryFindChild('DefaultPolicy');
  if (!policy) throw new Error(`${role.node.path} has no default policy to acknowledge findings on`);
  return policy;
}

function storeFindings(bucketRef: string): AcceptedFinding[] {
  return [
    {
      id: `AwsSolutions-IAM5[Resource::${bucketRef}/${BACKUPS_ROOT}/*]`,
      reason: `Backup artifacts and manifests are objects with generated keys under ${BACKUPS_ROOT}/; access is limited to that prefix of the one backup bucket.`,
    },
    {
      id: `AwsSolutions-IAM5[Resource::${bucketRef}/${STATE_ROOT}/*]`,
      reason: `Circuit-breaker state and host-agent results are objects with generated keys under ${STATE_ROOT}/; access is limited to that prefix of the one backup bucket.`,
    },
    {
      id: `AwsSolutions-IAM5[Resource::${bucketRef}/${BACKUPS_ROOT}/*/${DRILL_FILE}]`,
      reason: `A restore drill's verdict is the ${DRILL_FILE} beside each backup's manifest; the drill record function may write that one file of a backup and nothing else.`,
    },
    {
      id: `AwsSolutions-IAM5[Resource::${bucketRef}/${BACKUPS_ROOT}/*/${VERIFICATION_FILE}]`,
      reason: `A backup's verification record is the ${VERIFICATION_FILE} beside its manifest; the restore cleanup function records there the damage a failed restore found, and may write no other file of a backup.`,
    },
    {
      id: `AwsSolutions-IAM5[Resource::${bucketRef}/${POOL_ROOT}/*]`,
      reason: `Pooled artifacts are objects named by their sha256 under ${POOL_ROOT}/<engine>/<instance>/; finalize may only read them and the prune function only list and delete them.`,
    },
  ];
}

/** How cdk-nag prints the stack's region and account in an ARN: the value, or `<AWS::Region>` when unknown at synth. */
function regionAccount(stack: Stack): { region: string; account: string } {
  return {
    region: Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region,
    account: Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account,
  };
}

function secretFindings(stack: Stack, parameterPrefix: string, secretNamePrefix: string): AcceptedFinding[] {
  const { region, account } = regionAccount(stack);
  return [
    {
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:${region}:${account}:parameter${parameterPrefix.replace(/\/$/, '')}/*]`,
      reason: `Secret references name SSM parameters chosen by operators; reading is limited to the ${parameterPrefix} path.`,
    },
    {
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:${region}:${account}:secret:${secretNamePrefix}*]`,
      reason: `Secret references name Secrets Manager secrets chosen by operators (ARNs end in a random suffix); reading is limited to names starting ${secretNamePrefix}.`,
    },
    {
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:kms:${region}:${account}:key/*]`,
      reason: 'SecureString parameters and secrets may use any key the operator chose; kms:Decrypt is only allowed through SSM and Secrets Manager (kms:ViaService condition).',
    },
  ];
}

function hostRunnerFindings(stack: Stack): AcceptedFinding[] {
  const { region, account } = regionAccount(stack);
  return [
    {
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:${region}:${account}:instance/*]`,
      reason: 'Database hosts are chosen per instance at run time; ssm:SendCommand is only allowed to instances tagged for dbbackup (ssm:resourceTag condition) and only with the stack\'s agent-step document.',
    },
    {
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:${region}:${account}:managed-instance/*]`,
      reason: 'Hybrid (mi-) database hosts are chosen per instance at run time; ssm:SendCommand is only allowed to managed instances tagged for dbbackup (ssm:resourceTag condition).',
    },
    {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'ssm:GetCommandInvocation and ssm:CancelCommand support no resource-level permissions; they only read or cancel commands.',
    },
  ];
}

/** The wildcards of one database host's policy (host-policies.ts): each within that host's own prefixes. */
function hostPolicyFindings(stack: Stack, bucketRef: string, host: string, scope: HostScope, prefixes: { readonly parameterPrefix: string; readonly secretNamePrefix: string }): AcceptedFinding[] {
  const { region, account } = regionAccount(stack);
  const mine = hostSecretPrefixes(host, prefixes);
  const only = `, for ${host}'s own credentials only (source-instance condition)`;
  const perInstance = [...scope.own, ...scope.restoreOnly].flatMap(({ engine, name }) => [
    {
      id: `AwsSolutions-IAM5[Resource::${bucketRef}/${BACKUPS_ROOT}/${engine}/${name}/*]`,
      reason: `Artifacts and run records of ${engine}/${name} have generated keys; access is limited to that instance's prefix${only}; deleting and writing manifests are denied.`,
    },
    {
      id: `AwsSolutions-IAM5[Resource::${bucketRef}/${POOL_ROOT}/${engine}/${name}/*]`,
      reason: `Pooled artifacts of ${engine}/${name} are named by their sha256; access is limited to that instance's pool${only}; deleting is denied.`,
    },
    {
      id: `AwsSolutions-IAM5[Resource::${bucketRef}/${STATE_ROOT}/circuit-breakers/${engine}/${name}/*]`,
      reason: `Circuit-breaker state of ${engine}/${name}'s endpoints has generated keys; access is limited to that instance's prefix${only}.`,
    },
    {
      id: `AwsSolutions-IAM5[Resource::${bucketRef}/${RESTORES_ROOT}/${engine}/${name}/*]`,
      reason: `The records restore steps hand on to each other (per restore id) for ${engine}/${name} have generated keys; read and write only, limited to that instance's prefix${only}.`,
    },
    {
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:${region}:${account}:parameter${restoreSecretPrefixes({ engine, name }, prefixes).parameter}*]`,
      reason: `Credentials of ${engine}/${name}'s restore targets spread over hosts are parameters operators put under that path; reading is limited to it${only}.`,
    },
    {
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:${region}:${account}:secret:${restoreSecretPrefixes({ engine, name }, prefixes).secret}*]`,
      reason: `Credentials of ${engine}/${name}'s restore targets spread over hosts are secrets operators name under that prefix; reading is limited to it${only}.`,
    },
  ]);
  return [
    ...perInstance,
    {
      id: `AwsSolutions-IAM5[Resource::${bucketRef}/${AGENT_RESULTS_PREFIX}${host}/*]`,
      reason: `Agent results have generated keys; ${host} may only write (not read) results under its own prefix${only}.`,
    },
    {
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:${region}:${account}:parameter${mine.parameter}*]`,
      reason: `Restore targets' credentials for ${host} are parameters operators put under ${mine.parameter}; reading is limited to that path${only}.`,
    },
    {
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:${region}:${account}:secret:${mine.secret}*]`,
      reason: `Restore targets' credentials for ${host} are secrets operators name under ${mine.secret}; reading is limited to that prefix${only}.`,
    },
    {
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:kms:${region}:${account}:key/*]`,
      reason: `SecureString parameters and secrets may use any key the operator chose; kms:Decrypt is only allowed through SSM and Secrets Manager (kms:ViaService)${only}.`,
    },
  ];
}

/** Acknowledges the accepted findings of `stack`. */
export function suppressAcceptedFindings(stack: BackupStack, options: { readonly parameterPrefix: string; readonly secretNamePrefix: string }): void {
  const bucketRef = arnRef(stack.store.bucket);
  const secrets = secretFindings(stack, options.parameterPrefix, options.secretNamePrefix);
  const hostRunner = hostRunnerFindings(stack);

  for (const [handler, fn] of stack.functions.all()) {
    const access = FUNCTION_ACCESS[handler];
    const policy = defaultPolicy(fn.role!);
    acknowledge(policy, storeFindings(bucketRef));
    acknowledge(policy, [{
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray tracing of the function (xray:PutTraceSegments, PutTelemetryRecords), as CDK grants it for Tracing.ACTIVE, supports no resource-level permissions.',
    }]);
    if (access.hostRunner) acknowledge(policy, hostRunner);
    if (access.secrets) acknowledge(policy, secrets);
    acknowledge(fn, [
      {
        id: 'AwsSolutions-L1',
        reason: 'Pinned to Node.js 22, the runtime the functions are built (esbuild target node22) and tested for; moving to a newer runtime is a deliberate upgrade.',
      },
    ]);
  }

  for (const [host, policy] of stack.hostPolicies.byHost) {
    acknowledge(policy, hostPolicyFindings(stack, bucketRef, host, stack.hostPolicies.scopes.get(host)!, options));
  }

  for (const machine of [stack.backup.stateMachine, stack.restore.stateMachine]) {
    acknowledge(machine, [
      {
        id: 'AwsSolutions-SF1',
        reason: 'Logs at ERROR level without execution data by design: inputs carry secret references and host names, and the execution history already records every state.',
      },
    ]);
    acknowledge(defaultPolicy(machine.role), [
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'X-Ray tracing (xray:PutTraceSegments, PutTelemetryRecords, GetSampling*) and CloudWatch Logs delivery (logs:*LogDelivery*, DescribeLogGroups, resource policies) support no resource-level permissions.',
      },
    ]);
  }
  const fnByMachine = [
    [stack.backup.stateMachine, Object.values(stack.functions.backup)],
    [stack.restore.stateMachine, Object.values(stack.functions.restore)],
  ] as const;
  for (const [machine, fns] of fnByMachine) {
    acknowledge(
      defaultPolicy(machine.role),
      fns.map((fn) => ({
        id: `AwsSolutions-IAM5[Resource::${arnRef(fn)}:*]`,
        reason: 'lambda:InvokeFunction on the step function and its versions/aliases (ARN:*), as the LambdaInvoke task integration grants it.',
      })),
    );
  }
}
