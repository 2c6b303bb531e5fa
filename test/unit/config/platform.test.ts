/** Where a process runs, and so which secret references it resolves: decided in one place. */
import { platformOf, secretSchemesOn } from '../../../core/config/platform';
import { settingsFromEnv } from '../../../core/config/settings';
import { currentProcess } from '../../../core/host/process-identity';

describe('platformOf', () => {
  it('takes DBBACKUP_PLATFORM when it is set, whatever the role', () => {
    const local = settingsFromEnv({ DBBACKUP_PLATFORM: 'local' });
    const aws = settingsFromEnv({ DBBACKUP_PLATFORM: 'aws' });

    expect(platformOf(local, 'lambda')).toBe('local');
    expect(platformOf(local, 'agent')).toBe('local');
    expect(platformOf(aws, 'cli')).toBe('aws');
  });

  it('puts Lambda functions and agents no local CLI orchestrates in AWS, the CLI and its own agents locally', () => {
    const unset = settingsFromEnv({});

    expect(platformOf(unset, 'lambda')).toBe('aws');
    expect(platformOf(unset, 'agent')).toBe('aws');
    expect(platformOf({ ...unset, orchestrator: currentProcess() }, 'agent')).toBe('local');
    expect(platformOf(unset, 'cli')).toBe('local');
  });

  it('refuses an unknown DBBACKUP_PLATFORM, naming the allowed values', () => {
    expect(() => settingsFromEnv({ DBBACKUP_PLATFORM: 'ec2' }))
      .toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: "DBBACKUP_PLATFORM must be one of aws, local (or unset); got 'ec2'" }));
  });
});

describe('secretSchemesOn', () => {
  it('resolves only SSM Parameter Store and Secrets Manager references in AWS', () => {
    expect(secretSchemesOn('aws')).toEqual(['ssm', 'secretsmanager']);
    expect(secretSchemesOn('local')).toEqual(['env', 'file', 'ssm', 'secretsmanager']);
  });
});
