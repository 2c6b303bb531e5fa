/**
 * Every AWS client's region comes from one place. The host agent runs under SSM with no
 * AWS_REGION, only AWS_SSM_REGION_NAME: it must use that, never a default of us-east-1.
 */
import { awsRegionFromEnv } from '../../../core/aws/region';
import { hostRunnerKindFromEnv } from '../../../core/host-runner/open-host-runner';
import { s3OptionsFromEnv } from '../../../core/store/open-store';

describe('awsRegionFromEnv', () => {
  it.each([
    [{ AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'us-west-2', AWS_SSM_REGION_NAME: 'ap-south-1' }, 'eu-west-1'],
    [{ AWS_DEFAULT_REGION: 'us-west-2', AWS_SSM_REGION_NAME: 'ap-south-1' }, 'us-west-2'],
    [{ AWS_SSM_REGION_NAME: 'ap-south-1' }, 'ap-south-1'],
    [{ AWS_REGION: ' ', AWS_SSM_REGION_NAME: 'ap-south-1' }, 'ap-south-1'],
    [{}, undefined],
  ])('%j → %s', (env, region) => {
    // Act + Assess
    expect(awsRegionFromEnv(env)).toBe(region);
  });
});

describe('clients under the SSM agent\'s environment', () => {
  const ssmAgentEnv = { PATH: '/usr/bin:/bin', HOME: '/root', AWS_SSM_REGION_NAME: 'eu-west-1', AWS_SSM_INSTANCE_ID: 'i-0123456789abcdef0' };

  it('the S3 store uses the SSM agent\'s region, not us-east-1', () => {
    // Act
    const options = s3OptionsFromEnv(ssmAgentEnv);

    // Assess
    expect(options.region).toBe('eu-west-1');
  });

  it('the SSM host runner uses the same region', () => {
    // Act
    const settings = hostRunnerKindFromEnv({ ...ssmAgentEnv, DBBACKUP_HOST_RUNNER: 'ssm', DBBACKUP_SSM_DOCUMENT: 'DbBackup-AgentStep' });

    // Assess
    expect(settings).toMatchObject({ kind: 'ssm', region: 'eu-west-1', ssmDocument: 'DbBackup-AgentStep' });
  });

  it('no region at all leaves it to the SDK\'s configuration instead of inventing one', () => {
    // Act
    const options = s3OptionsFromEnv({ PATH: '/usr/bin' });

    // Assess
    expect(options.region).toBeUndefined();
  });
});
