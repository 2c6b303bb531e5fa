/**
 * Configuration schemas of the etcd driver: how to reach an instance (the cluster being backed up)
 * and where to restore a backup to. Secret references (`{ "$secret": "ssm:/x" }`) are resolved by the
 * framework before the driver sees the config, so every field here is a plain value.
 */
import { z } from 'zod';
import { absolutePath } from '../../core/config/path-field';

/** An `http://` or `https://` URL (etcd client and peer URLs). */
const httpUrl = z.url({ protocol: /^https?$/, message: 'must be an http:// or https:// URL' });

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

/** Where and how to restore an etcd backup: one new single-member cluster. Unknown keys are rejected. */
export const etcdRestoreTargetSchema = z
  .object({
    /** Data directory of the restored member (absolute, no `..`); must be absent or empty (unless forced). */
    dataDir: absolutePath(),
    /** Member name of the restored member. */
    name: z.string().min(1).default('restored'),
    /** Client URL the restored member listens on and advertises, e.g. `http://127.0.0.1:22379`. */
    clientUrl: httpUrl,
    /** Peer URL the restored member listens on and advertises, e.g. `http://127.0.0.1:22380`. */
    peerUrl: httpUrl,
    /**
     * Cluster token of the restored cluster. Defaults to one derived from the backup id, so a restored
     * cluster never shares a token (and so never exchanges raft traffic) with the original.
     */
    clusterToken: z.string().min(1).optional(),
    /** Start the restored member after `snapshot restore` (needed for validation and use). */
    start: z.boolean().default(true),
    /**
     * Let the restore stop an etcd member it finds running on `dataDir` that it did not start
     * itself (an earlier restore's member still in use, or one started by hand). Without it such a
     * member is never stopped and the restore is refused.
     */
    stopRunningServer: z.boolean().default(false),
    /**
     * Credentials for validating the restored cluster when the source had auth enabled (a restored
     * cluster keeps the source's users, roles and auth setting).
     */
    username: z.string().min(1).optional(),
    password: z.string().optional(),
  })
  .strict()
  .refine((t) => (t.username === undefined) === (t.password === undefined), {
    message: 'username and password must be given together',
    path: ['password'],
  });

/** Parsed restore target. */
export type EtcdRestoreTarget = z.infer<typeof etcdRestoreTargetSchema>;

/**
 * The cluster token a restore uses: the target's own, or `restore-<backupId>`. Deterministic, so a
 * retried restore step produces the same cluster; always different from the source cluster's token
 * because it embeds the backup id.
 */
export function clusterTokenFor(target: Pick<EtcdRestoreTarget, 'clusterToken'>, backupId: string): string {
  if (target.clusterToken) return target.clusterToken;
  return `restore-${backupId.replace(/[^A-Za-z0-9._-]/g, '-')}`;
}

/** Default dial timeout when the config sets none (ms). */
export const DEFAULT_DIAL_TIMEOUT_MS = 5_000;
