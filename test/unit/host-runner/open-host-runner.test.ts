import { hostRunnerFromSettings, hostRunnerKindFromEnv } from '../../../core/host-runner/open-host-runner';
import { InlineHostRunner } from '../../../core/host-runner/inline-runner';
import { LocalProcessHostRunner } from '../../../core/host-runner/local-process-runner';
import { SsmHostRunner } from '../../../core/host-runner/ssm-runner';
import type { StepDeps } from '../../../core/steps/step-deps';

describe('hostRunnerKindFromEnv', () => {
  it('defaults to the inline runner with nothing else set', () => {
    // Act
    const settings = hostRunnerKindFromEnv({});

    // Assess
    expect(settings).toEqual({ kind: 'inline' });
  });

  it('reads the kind, agent command, SSM document, region, SSM output bucket and local directory', () => {
    // Prepare
    const env = {
      DBBACKUP_HOST_RUNNER: ' SSM ',
      DBBACKUP_AGENT_COMMAND: '/opt/dbbackup/bin/dbbackup --log-level info',
      DBBACKUP_SSM_DOCUMENT: 'DbBackup-AgentStep',
      AWS_REGION: 'eu-central-1',
      DBBACKUP_SSM_OUTPUT_BUCKET: 'ssm-logs',
      DBBACKUP_HOST_RUNNER_DIR: '/var/lib/dbbackup/runner',
    };

    // Act
    const settings = hostRunnerKindFromEnv(env);

    // Assess
    expect(settings).toEqual({
      kind: 'ssm',
      agentCommand: '/opt/dbbackup/bin/dbbackup --log-level info',
      ssmDocument: 'DbBackup-AgentStep',
      region: 'eu-central-1',
      ssmOutputBucket: 'ssm-logs',
      localDirectory: '/var/lib/dbbackup/runner',
    });
  });

  it('rejects an unknown kind with INVALID_CONFIG', () => {
    // Act
    const reading = () => hostRunnerKindFromEnv({ DBBACKUP_HOST_RUNNER: 'ssh' });

    // Assess
    expect(reading).toThrow(expect.objectContaining({ name: 'PermanentError', code: 'INVALID_CONFIG' }));
  });
});

describe('hostRunnerFromSettings', () => {
  const deps = {} as StepDeps;

  it.each([
    ['inline', InlineHostRunner],
    ['local', LocalProcessHostRunner],
    ['ssm', SsmHostRunner],
  ] as const)('builds the %s runner', (kind, type) => {
    // Act
    const runner = hostRunnerFromSettings({ kind, deps, ssmDocument: 'DbBackup-AgentStep', region: 'us-east-1' });

    // Assess
    expect(runner).toBeInstanceOf(type);
    expect(runner.kind).toBe(kind);
  });

  it('refuses the SSM runner without the agent-step document\'s name', () => {
    // Act
    const building = () => hostRunnerFromSettings({ kind: 'ssm', region: 'us-east-1' });

    // Assess
    expect(building).toThrow(expect.objectContaining({ name: 'PermanentError', code: 'INVALID_CONFIG' }));
  });

  it('refuses the inline runner without step dependencies', () => {
    // Act
    const building = () => hostRunnerFromSettings({ kind: 'inline' });

    // Assess
    expect(building).toThrow(expect.objectContaining({ name: 'PermanentError', code: 'INVALID_CONFIG' }));
  });
});
