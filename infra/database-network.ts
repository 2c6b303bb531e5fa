/**
 * Where the functions that connect to databases run. Host steps run on the database hosts, inside
 * their network; but the backup's prepare step connects from Lambda to discover what it backs up
 * (a Cassandra ring's nodes over CQL, a ZooKeeper ensemble's members, every shard server of a
 * Schemaless or Docstore instance). Outside a VPC it reaches only public addresses, so every
 * backup of such an instance on private addresses would time out at Prepare.
 *
 * With `databaseNetwork` (`-c databaseSubnets=subnet-…,subnet-… -c databaseSecurityGroups=sg-…`),
 * those functions run in the given subnets with the given security groups. The subnets must reach
 * the databases and S3, SSM, Secrets Manager, KMS and STS (a NAT gateway, or VPC endpoints).
 */
import { Annotations, type Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { BUILTIN_DRIVERS } from '../drivers';
import type { InstanceConfig } from './instances';

/** The subnets and security groups of the functions that connect to databases. */
export interface DatabaseNetwork {
  readonly subnetIds: readonly string[];
  readonly securityGroupIds: readonly string[];
}

/** Engines whose backup prepare step connects to the database's servers: those that list the nodes a backup takes (capability `multi-node`). */
export const ENGINES_PREPARED_OVER_THE_NETWORK: readonly string[] = BUILTIN_DRIVERS
  .filter((driver) => driver.plugin.manifest.capabilities.includes('multi-node'))
  .map((driver) => driver.plugin.manifest.name);

/**
 * `databaseSubnets` and `databaseSecurityGroups` from the app's context (comma-separated ids), or
 * undefined when neither is given.
 * @throws Error when only one is given, or an id is not a subnet's or a security group's
 */
export function databaseNetworkFromContext(subnets: unknown, securityGroups: unknown): DatabaseNetwork | undefined {
  if (subnets === undefined && securityGroups === undefined) return undefined;
  const ids = (value: unknown, name: string, prefix: string): string[] => {
    const list = String(value ?? '').split(',').map((id) => id.trim()).filter(Boolean);
    if (list.length === 0) throw new Error(`-c ${name} is missing: databaseSubnets and databaseSecurityGroups go together`);
    const wrong = list.find((id) => !new RegExp(`^${prefix}-[0-9a-f]{8,17}$`).test(id));
    if (wrong) throw new Error(`-c ${name}: '${wrong}' is not a ${prefix}-… id`);
    return list;
  };
  return { subnetIds: ids(subnets, 'databaseSubnets', 'subnet'), securityGroupIds: ids(securityGroups, 'databaseSecurityGroups', 'sg') };
}

/**
 * Puts `fn` in `network`: its VPC config, and leave to manage its network interfaces (what AWS's
 * AWSLambdaVPCAccessExecutionRole allows, less the logs its own role already writes).
 */
export function placeInNetwork(fn: lambda.Function, role: iam.IRole, network: DatabaseNetwork): void {
  role.addToPrincipalPolicy(new iam.PolicyStatement({
    sid: 'DatabaseNetworkInterfaces',
    actions: ['ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets', 'ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
    resources: ['*'],
  }));
  const cfn = fn.node.defaultChild as lambda.CfnFunction;
  cfn.vpcConfig = { subnetIds: [...network.subnetIds], securityGroupIds: [...network.securityGroupIds] };
  // Lambda checks the role may make network interfaces when it creates the function.
  cfn.node.addDependency(role);
}

/** Without a database network, a synth warning naming each instance whose backups would fail to reach its servers from Lambda. */
export function warnWithoutDatabaseNetwork(stack: Stack, instances: readonly InstanceConfig[], network: DatabaseNetwork | undefined): void {
  if (network) return;
  const reached = instances.filter((i) => ENGINES_PREPARED_OVER_THE_NETWORK.includes(i.engine)).map((i) => `${i.engine}/${i.name}`);
  if (reached.length === 0) return;
  Annotations.of(stack).addWarningV2('dbbackup:databaseNetwork',
    `the backup's prepare step connects from Lambda to the servers of ${reached.join(', ')}; without -c databaseSubnets and -c databaseSecurityGroups it runs outside your VPC and reaches public addresses only`);
}
