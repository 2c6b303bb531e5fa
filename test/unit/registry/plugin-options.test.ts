import { LAMBDA_PLUGIN_PATH, pluginOptionsFromEnv } from '../../../core/driver/plugin-loader';
import { PermanentError } from '../../../core/errors';

const SHA_A = 'a'.repeat(64);
const SHA_B = 'B'.repeat(64);

describe('pluginOptionsFromEnv', () => {
  it('reads colon-separated paths, name=sha pins and the unpinned flag', () => {
    // Prepare
    const env = {
      DBBACKUP_PLUGIN_PATH: '/srv/plugins::/home/me/plugins',
      DBBACKUP_PLUGIN_PINS: `dirtree=${SHA_A}, @acme/mongo=${SHA_B}`,
      DBBACKUP_ALLOW_UNPINNED_PLUGINS: 'true',
    };

    // Act
    const options = pluginOptionsFromEnv(env);

    // Assess
    expect(options).toEqual({
      pluginPaths: ['/srv/plugins', '/home/me/plugins'],
      optionalPluginPaths: [],
      pins: { dirtree: SHA_A, '@acme/mongo': SHA_B.toLowerCase() },
      allowUnpinned: true,
    });
  });

  it('accepts pins as a JSON object', () => {
    // Prepare
    const env = { DBBACKUP_PLUGIN_PINS: JSON.stringify({ dirtree: SHA_A }) };

    // Act
    const options = pluginOptionsFromEnv(env);

    // Assess
    expect(options.pins).toEqual({ dirtree: SHA_A });
    expect(options.allowUnpinned).toBe(false);
    expect(options.pluginPaths).toEqual([]);
  });

  it('adds the Lambda layer path, as optional, only inside Lambda', () => {
    // Prepare
    const lambda = { AWS_LAMBDA_FUNCTION_NAME: 'dbbackup-snapshot' };

    // Act
    const inLambda = pluginOptionsFromEnv(lambda);
    const outside = pluginOptionsFromEnv({});

    // Assess
    expect(inLambda.optionalPluginPaths).toEqual([LAMBDA_PLUGIN_PATH]);
    expect(LAMBDA_PLUGIN_PATH).toBe('/opt/dbbackup/plugins');
    expect(outside.optionalPluginPaths).toEqual([]);
  });

  it.each([
    ['a short hash', { DBBACKUP_PLUGIN_PINS: 'dirtree=abc' }],
    ['a pair without =', { DBBACKUP_PLUGIN_PINS: `dirtree:${SHA_A}` }],
    ['broken JSON', { DBBACKUP_PLUGIN_PINS: '{"dirtree":' }],
    ['a typo in the flag', { DBBACKUP_ALLOW_UNPINNED_PLUGINS: 'ture' }],
  ])('rejects %s loudly', (_label, env) => {
    // Act
    const act = () => pluginOptionsFromEnv(env);

    // Assess
    expect(act).toThrow(PermanentError);
    expect(act).toThrow(expect.objectContaining({ code: 'INVALID_PLUGIN_SETTINGS' }));
  });
});
