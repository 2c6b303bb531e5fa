/**
 * The one place that decides which AWS region this process's clients (S3, SSM, Secrets Manager)
 * talk to. Every client is built with this region; none falls back to a default of its own.
 *
 * | variable | who sets it |
 * |---|---|
 * | `AWS_REGION` | Lambda; the stack's SSM document for the host agent (the stack's region, where its bucket and secrets are); an operator |
 * | `AWS_DEFAULT_REGION` | the AWS CLI's variable, set by operators |
 * | `AWS_SSM_REGION_NAME` | the SSM agent, for every command it runs: the region of the Systems Manager endpoint the host is registered with — the region the command came from |
 *
 * The first one set wins. With none, the region is left to the SDK (the shared config file's
 * profile), and a client with no region at all fails on its first call with the SDK's error.
 */

/** The variables read, first wins. */
export const REGION_VARIABLES = ['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_SSM_REGION_NAME'] as const;

/**
 * The region every AWS client of this process uses, or undefined to leave it to the SDK.
 *
 * @example
 * ```ts
 * awsRegionFromEnv({ AWS_SSM_REGION_NAME: 'eu-west-1' }); // 'eu-west-1' (an agent run by SSM)
 * ```
 */
export function awsRegionFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  for (const name of REGION_VARIABLES) {
    const value = env[name]?.trim();
    if (value) return value;
  }
  return undefined;
}
