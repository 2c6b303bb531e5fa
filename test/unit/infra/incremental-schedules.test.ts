/**
 * An instance's optional second schedule, of incremental backups (instances.test.ts: the file allows
 * it only for an engine whose driver takes them): its rule, in a bare Stack, starts the backup state
 * machine with the instance's request and `incremental: true`.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { InstanceConfig } from '../../../infra/instances';
import { backupRule, InstanceSchedules } from '../../../infra/schedules';

describe('incrementalSchedule', () => {
  it('starts the backup state machine on it with the instance\'s request and incremental: true', () => {
    // Prepare: an instance as the file gives it once checked (of an engine with the capability)
    const instance: InstanceConfig = {
      name: 'main', engine: 'dirdelta', config: { root: '/srv/docs' }, host: 'i-0123456789abcdef0', restoreHosts: [], rateLimit: 1024,
      schedule: 'cron(0 3 ? * SUN *)', incrementalSchedule: 'rate(6 hours)', rpoHours: 26, retention: { keepLast: 7, schedule: 'rate(1 day)' },
      compression: false, encryption: false,
    };
    const stack = new Stack(new App(), 'Bare', { env: { account: '123456789012', region: 'eu-west-1' } });
    const machine = new sfn.StateMachine(stack, 'Backup', { definitionBody: sfn.DefinitionBody.fromChainable(sfn.Pass.jsonPath(stack, 'Nothing')) });

    // Act
    const schedules = new InstanceSchedules(stack, 'IncrementalSchedules', { instances: [instance], ruleOf: backupRule(machine, 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555', { incremental: true }) });

    // Assess
    const template = Template.fromStack(stack);
    expect([...schedules.rules.keys()]).toEqual(['dirdelta/main']);
    template.resourceCountIs('AWS::Events::Rule', 1);
    template.hasResourceProperties('AWS::Events::Rule', {
      Description: 'dbbackup: back up incrementally dirdelta/main on rate(6 hours)',
      ScheduleExpression: 'rate(6 hours)',
      Targets: [Match.objectLike({
        Arn: { Ref: Match.stringLikeRegexp('^Backup') },
        Input: Match.serializedJson({ engine: 'dirdelta', instance: 'main', config: { root: '/srv/docs' }, host: 'i-0123456789abcdef0', rateLimit: 1024, incremental: true }),
      })],
    });
  });
});
