/**
 * Configuration schema of the etcd driver: how to reach an instance (the cluster being backed up);
 * where a backup is restored to is restore-target.ts. Secret references (`{ "$secret": "ssm:/x" }`) are resolved by the
 * framework before the driver sees the config, so every field here is a plain value.
 */
import { z } from 'zod';
import { httpUrl } from './restore-target';

/** Connection config of one etcd cluster (an "instance"). Unknown keys are rejected. */
export const etcdConfigSchema = z
  .object({
    /** Client URLs of the cluster's members, e.g. `["http://10.0.0.1:2379"]`; the first one that answers is used. */
    endpoints: z.array(httpUrl).min(1, 'at least one endpoint is required'),
    /** User for etcd's password auth. */
    username: z.string().min(1).optional(),
    /** Password for etcd's password auth (normally a `$secret` reference in the stored config). */
    password: z.string().optional(),
    /** How long to wait for a connection to an endpoint (ms). Defaults to 5000. */
    dialTimeoutMs: z.number().int().positive().optional(),
  })
  .strict()
  .refine((c) => (c.username === undefined) === (c.password === undefined), {
    message: 'username and password must be given together',
    path: ['password'],
  });

/** Parsed instance config. */
export type EtcdConfig = z.infer<typeof etcdConfigSchema>;

/** What a backup connects to (its circuit breaker's endpoint): the client URLs, sorted. */
export function etcdEndpoint(config: Pick<EtcdConfig, 'endpoints'>): string {
  return [...config.endpoints].sort().join(',');
}

/** Default dial timeout when the config sets none (ms). */
export const DEFAULT_DIAL_TIMEOUT_MS = 5_000;
