/**
 * What a schedule passes its state machine must fit EventBridge's limit on a target's input (8 192
 * characters): an instance whose request is longer (a sharded store of hundreds of shards, say)
 * fails the synth naming it, instead of the deploy.
 */
import { App, Stack } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { InstanceConfig } from '../../../infra/instances';
import { backupRule, drillRule, InstanceSchedules, MAX_TARGET_INPUT_CHARS } from '../../../infra/schedules';

const KEY = 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555';

/** An instance whose config holds `shards` shard entries of ~60 characters each. */
function instanceWith(shards: number): InstanceConfig {
  const shardList = Array.from({ length: shards }, (_, i) => ({ host: `db-${String(i).padStart(4, '0')}.internal`, port: 3306, database: `cells_${i}` }));
  return {
    name: 'cells', engine: 'schemaless', config: { shards: shardList }, host: 'i-0123456789abcdef0', restoreHosts: [],
    schedule: 'rate(1 day)', rpoHours: 26, retention: { keepLast: 7, schedule: 'rate(1 day)' }, compression: false, encryption: false,
    drill: { schedule: 'rate(7 days)', host: 'i-0fedcba9876543210', maxAgeHours: 192, target: { shards: shardList } },
  } as InstanceConfig;
}

function synthesize(instance: InstanceConfig, rule: 'backup' | 'drill'): void {
  const stack = new Stack(new App(), 'Bare', { env: { account: '123456789012', region: 'eu-west-1' } });
  const machine = new sfn.StateMachine(stack, 'Machine', { definitionBody: sfn.DefinitionBody.fromChainable(sfn.Pass.jsonPath(stack, 'Nothing')) });
  new InstanceSchedules(stack, 'Schedules', { instances: [instance], ruleOf: rule === 'backup' ? backupRule(machine, KEY) : drillRule(machine) });
}

describe('schedule inputs', () => {
  it('pass a request that fits EventBridge\'s limit, and refuse at synth one that does not, naming the instance', () => {
    // Prepare: ~60 characters a shard: 100 shards fit, 200 do not
    const fits = instanceWith(100);
    const tooLong = instanceWith(200);

    // Act
    const small = () => synthesize(fits, 'backup');
    const backup = () => synthesize(tooLong, 'backup');
    const drill = () => synthesize(tooLong, 'drill');

    // Assess
    expect(JSON.stringify(fits.config).length).toBeLessThan(MAX_TARGET_INPUT_CHARS - 500);
    expect(small).not.toThrow();
    expect(backup).toThrow(/^instance schemaless\/cells: its backup request is \d+ characters of JSON, more than the 8192 EventBridge passes a schedule's target/);
    expect(drill).toThrow(/^instance schemaless\/cells: its drill request is \d+ characters of JSON, more than the 8192/);
  });
});
