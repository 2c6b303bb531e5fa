/**
 * The backup's prepare step connects from Lambda to the servers of a Cassandra ring, a ZooKeeper
 * ensemble, a Schemaless or Docstore store: with `-c databaseSubnets` and `-c databaseSecurityGroups`
 * it runs in those subnets (and only it), allowed to manage its network interfaces; without them
 * the synth warns, naming each such instance.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../../../infra/build-app';
import type { InstanceInput } from '../../../infra/instances';
import { HANDLER_IDS } from '../../../statemachines/handlers';

const outdir = mkdtempSync(path.join(os.tmpdir(), 'dbbackup-cdk-'));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

const RING: InstanceInput = {
  name: 'ring',
  engine: 'cassandra',
  config: { contactPoints: ['10.0.0.5'], nodes: [{ address: '10.0.0.5', host: 'i-0aaaaaaaaaaaaaaa1' }], username: 'backup', password: { $secret: 'ssm:/dbbackup/cassandra/backup' } },
  host: 'i-0aaaaaaaaaaaaaaa1',
  schedule: 'rate(1 day)',
  rpoHours: 26,
  retention: { keepLast: 7 },
};
const NETWORK = { databaseSubnets: 'subnet-0123456789abcdef0,subnet-0fedcba9876543210', databaseSecurityGroups: 'sg-0123456789abcdef0' };

describe('the database network', () => {
  it('puts the backup\'s prepare function, and only it, in the given subnets and security groups, and the stack still passes cdk-nag', () => {
    // Act
    const { app, stack } = buildApp({ instances: [RING], skipBundling: true, appProps: { outdir, context: NETWORK } });
    app.synth(); // throws on any unacknowledged cdk-nag finding

    // Assess
    const template = Template.fromStack(stack);
    const functions = template.findResources('AWS::Lambda::Function');
    const placed = Object.values(functions).filter((f) => f.Properties.VpcConfig !== undefined).map((f) => f.Properties.Description);
    expect(placed).toEqual(['dbbackup step backup/prepare']);
    expect(Object.keys(functions)).toHaveLength(HANDLER_IDS.length);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'dbbackup step backup/prepare',
      VpcConfig: { SubnetIds: ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'], SecurityGroupIds: ['sg-0123456789abcdef0'] },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Sid: 'DatabaseNetworkInterfaces', Action: Match.arrayWith(['ec2:CreateNetworkInterface', 'ec2:DeleteNetworkInterface']) })]) },
    });
    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('connects from Lambda'));
  });

  it('without one, warns at synth naming each instance whose backups connect from Lambda; refuses half a setting or a wrong id', () => {
    // Act
    const { stack } = buildApp({ instances: [RING], skipBundling: true, appProps: { outdir } });
    const half = () => buildApp({ instances: [RING], skipBundling: true, appProps: { outdir, context: { databaseSubnets: NETWORK.databaseSubnets } } });
    const wrong = () => buildApp({ instances: [RING], skipBundling: true, appProps: { outdir, context: { ...NETWORK, databaseSecurityGroups: 'default' } } });

    // Assess
    Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp("connects from Lambda to the servers of cassandra/ring; without -c databaseSubnets and -c databaseSecurityGroups it runs outside your VPC"));
    expect(Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function')).filter((f) => f.Properties.VpcConfig)).toEqual([]);
    expect(half).toThrow('-c databaseSecurityGroups is missing: databaseSubnets and databaseSecurityGroups go together');
    expect(wrong).toThrow("-c databaseSecurityGroups: 'default' is not a sg-… id");
  });
});
