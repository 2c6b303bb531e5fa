/**
 * The instances file (default `dbbackup.instances.json` at the repository root): which databases
 * the stack backs up, on which schedule, with which recovery point objective.
 *
 * ```json
 * { "instances": [ {
 *     "name": "main", "engine": "etcd",
 *     "config": { "endpoints": ["https://10.0.0.1:2379"], "username": "backup",
 *                 "password": { "$secret": "ssm:/dbbackup/etcd/main/password" } },
 *     "host": "i-0123456789abcdef0",
 *     "schedule": "cron(0 3 * * ? *)", "rpoHours": 26, "rateLimit": 52428800,
 *     "incrementalSchedule": "rate(6 hours)",
 *     "retention": { "keepLast": 7, "maxAgeDays": 30 },
 *     "drill": { "schedule": "cron(0 5 * * ? *)", "host": "i-0fedcba9876543210", "maxAgeHours": 50 } } ] }
 * ```
 *
 * The config of each instance ends up in plain text in its EventBridge rule (and so in the
 * CloudFormation template), so secrets must be `{ "$secret": "ssm:/..." }` or
 * `{ "$secret": "secretsmanager:..." }` references, which the functions resolve at run time.
 * A string under a key that names a secret (password, token, …) is refused, and so is a
 * reference under any other key. Each config is checked against its driver's schema when the
 * file is read (at synth), with its references standing in for the secrets.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { describeIssue, issueProblems, issuesOf } from '../core/config/issues';
import { refuseInlineSecrets } from '../core/config/secret-fields';
import { builtinPlugins } from '../drivers';
import type { DriverPlugin } from '../core/driver/types';
import { MANAGED_INSTANCE_ID, MANAGED_INSTANCE_ID_FORM } from '../core/driver/node-ref';
import { withSecretPlaceholders } from '../core/secrets';
import { compressionSettingsSchema } from '../core/crypto/encoding-settings';

/** The file read when no other is named, relative to the project root. */
export const DEFAULT_INSTANCES_FILE = 'dbbackup.instances.json';

/** Engine and instance names: one store key segment (see core/catalog/layout.ts). */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** An EventBridge schedule expression: `cron(<6 fields>)` or `rate(<n> <unit>)`. */
const SCHEDULE = /^(cron\(\s*\S+(\s+\S+){5}\s*\)|rate\(\s*[1-9]\d*\s+(minute|minutes|hour|hours|day|days)\s*\))$/;

/** An EC2 instance id or an SSM managed (hybrid) instance id. */
const managedInstance = z.string().regex(MANAGED_INSTANCE_ID, `must be an EC2 instance id or an SSM managed instance id (${MANAGED_INSTANCE_ID_FORM})`);

/**
 * Retention of one instance, applied by its scheduled prune (core/catalog/prune.ts): a backup is
 * kept while it is among the `keepLast` newest or younger than `maxAgeDays`; the newest verified
 * one is always kept.
 */
const retentionSchema = z.strictObject({
  keepLast: z.number().int().min(1, 'must be a whole number ≥ 1').optional(),
  maxAgeDays: z.number().positive().optional(),
  /** When the prune runs. */
  schedule: z.string().regex(SCHEDULE, 'must be an EventBridge expression: cron(min hour day month weekday year) or rate(N minutes|hours|days)').default('rate(1 day)'),
}).refine((r) => r.keepLast !== undefined || r.maxAgeDays !== undefined, { message: 'give keepLast and/or maxAgeDays' });

/**
 * The restore drill of one instance (core/drill): on `schedule`, the restore state machine restores
 * the instance's newest verified backup into a scratch target started on `host` (or into the
 * empty `target` there), validates it, tears the scratch target down and records the outcome next
 * to the backup. The alarm fires when no drill has succeeded for `maxAgeHours`.
 */
const drillSchema = z.strictObject({
  /** When the drill runs: an EventBridge expression, e.g. `cron(0 5 ? * SUN *)`. */
  schedule: z.string().regex(SCHEDULE, 'must be an EventBridge expression: cron(min hour day month weekday year) or rate(N minutes|hours|days)'),
  /** The host the drill restores on: best a spare machine (the scratch servers take its memory, disk and ports), not the database's own. */
  host: managedInstance,
  /** An empty restore target on `host` instead of a scratch one; secrets by reference. */
  target: z.lazy(() => configSchema).optional(),
  /** Fields set on the scratch target: what the restore's validation needs of the instance (ZooKeeper's `auth`), secrets by reference. */
  targetSettings: z.lazy(() => configSchema).optional(),
  /** The drill alarm's limit: hours since the newest good drill. */
  maxAgeHours: z.number()
    .min(1, 'must be at least 1 (the drill alarm works in hourly periods)')
    .max(168, 'must be at most 168 (7 days: the longest window a CloudWatch alarm evaluates)'),
});

/** Secret reference schemes the functions can resolve in AWS. */
const AWS_SECRET_REF = /^(ssm:\/\S+|secretsmanager:\S+)$/;

/** Reference to a secret: `{ "$secret": "ssm:/path" }` or `{ "$secret": "secretsmanager:name[#key]" }`. */
export const secretRefSchema = z.strictObject({
  $secret: z.string().regex(AWS_SECRET_REF, 'must be "ssm:/<parameter>" or "secretsmanager:<name-or-arn>[#key]"'),
});

const configSchema = z.record(z.string(), z.unknown()).superRefine(refuseInlineSecrets({
  refSchema: secretRefSchema,
  message: 'must be a { "$secret": "ssm:/..." } reference, not a value: the config is stored in plain text in the EventBridge rule',
}));

/** One backed-up database instance. */
export const instanceSchema = z.strictObject({
  /** Instance name (unique per engine), e.g. `main`. */
  name: z.string().regex(NAME, 'use letters, digits, ".", "_" or "-" (at most 64, starting with a letter or digit)'),
  /** Driver name, e.g. `etcd`. */
  engine: z.string().regex(NAME, 'use letters, digits, ".", "_" or "-"'),
  /** The driver's instance config; secrets as `$secret` references. */
  config: configSchema,
  /**
   * SSM managed instance id of the host where host-local steps run (the agent CLI installed, tagged
   * dbbackup:managed=true). The deployed functions run every host step there through SSM; the
   * host's IAM policy (host-policies.ts) gives it this instance's backups, state and secrets.
   */
  host: managedInstance,
  /** Other hosts that may restore this instance's backups (they may read them, never write). */
  restoreHosts: z.array(managedInstance).default([]),
  /** EventBridge schedule expression, e.g. `cron(0 3 * * ? *)` or `rate(6 hours)`. */
  schedule: z.string().regex(SCHEDULE, 'must be an EventBridge expression: cron(min hour day month weekday year) or rate(N minutes|hours|days)'),
  /**
   * A second schedule, of incremental backups (`incremental: true` in the request: only what
   * changed since the newest verified backup), for an engine whose driver has the `incremental`
   * capability; e.g. full backups weekly on `schedule`, incremental ones every 6 hours.
   */
  incrementalSchedule: z.string().regex(SCHEDULE, 'must be an EventBridge expression: cron(min hour day month weekday year) or rate(N minutes|hours|days)').optional(),
  /** Recovery point objective: the staleness alarm fires when the last good backup is older. */
  rpoHours: z
    .number()
    .min(1, 'must be at least 1 (the staleness alarm works in hourly periods)')
    .max(168, 'must be at most 168 (7 days: the longest window a CloudWatch alarm evaluates)'),
  /** Upload rate limit in bytes/s; absent or 0 = unlimited. */
  rateLimit: z.number().int().nonnegative().optional(),
  /** zstd for every artifact not compressed already, on the host (artifact-keys.ts); `false`: stored as written. */
  compression: z.union([z.literal(false), compressionSettingsSchema]).default({ codec: 'zstd', level: 3 }),
  /**
   * Encryption of every artifact on the host, data keys from KMS (artifact-keys.ts): absent, the
   * stack's key; `{ "kms": "<key ARN>" }`, that key; `false`: none (the bucket's own encryption only).
   */
  encryption: z.union([
    z.literal(false),
    z.strictObject({ kms: z.string().regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/, 'must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>): the hosts\' policies name it') }),
  ]).optional(),
  /** How long backups are kept: a prune runs for this instance on `schedule` (schedules.ts). */
  retention: retentionSchema,
  /** A restore drill of the newest backup, on its own schedule and host. */
  drill: drillSchema.optional(),
});

/** One instance, checked and with its defaults. */
export type InstanceConfig = z.infer<typeof instanceSchema>;
/** One instance as written in the file. */
export type InstanceInput = z.input<typeof instanceSchema>;

/** The whole file. */
export const instancesFileSchema = z
  .strictObject({
    /** Optional JSON schema reference for editors. */
    $schema: z.string().optional(),
    instances: z.array(instanceSchema).min(1, 'list at least one instance'),
  })
  .superRefine((file, ctx) => {
    const seen = new Map<string, number>();
    file.instances.forEach((instance, index) => {
      const key = `${instance.engine}/${instance.name}`;
      const first = seen.get(key);
      if (first !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['instances', index, 'name'], message: `duplicates instances[${first}] (${key})` });
      }
      seen.set(key, index);
      for (const issue of driverConfigIssues(instance.engine, instance.config)) {
        ctx.addIssue({ code: 'custom', path: ['instances', index, ...issue.path], message: issue.message });
      }
      const plugin = builtinPlugins().find((p) => p.manifest.name === instance.engine);
      if (instance.drill?.target && plugin) {
        const target = plugin.manifest.restoreTargetSchema.safeParse(withSecretPlaceholders({ ...instance.drill.target, ...instance.drill.targetSettings }));
        if (!target.success) {
          for (const { path: at, problem } of (issuesOf(target.error) ?? [{ message: String(target.error) }]).flatMap(issueProblems)) {
            ctx.addIssue({ code: 'custom', path: ['instances', index, 'drill', 'target', ...at], message: problem });
          }
        }
      }
      if (instance.incrementalSchedule !== undefined && plugin && !plugin.manifest.capabilities.includes('incremental')) {
        ctx.addIssue({ code: 'custom', path: ['instances', index, 'incrementalSchedule'], message: `engine '${instance.engine}' takes no incremental backups (its driver lacks the incremental capability)` });
      }
    });
  });

/**
 * What the built-in driver of `engine` (the ones the stack's functions carry) says is wrong with
 * `config`, each secret reference standing in for its secret; paths start at `engine` or `config`.
 */
function driverConfigIssues(engine: string, config: Record<string, unknown>): Array<{ path: PropertyKey[]; message: string }> {
  const plugins = builtinPlugins();
  const plugin = plugins.find((p) => p.manifest.name === engine);
  if (!plugin) {
    return [{ path: ['engine'], message: `unknown engine '${engine}' (the functions carry the built-in drivers: ${plugins.map((p) => p.manifest.name).join(', ')})` }];
  }
  const parsed = plugin.manifest.configSchema.safeParse(withSecretPlaceholders(config));
  if (parsed.success) {
    return configHosts(plugin, parsed.data).filter((host) => !managedInstance.safeParse(host).success)
      .map((host) => ({ path: ['config'], message: `names host '${host}', which is not an SSM managed instance id (${MANAGED_INSTANCE_ID_FORM}): the stack could not give it the instance's rights` }));
  }
  return (issuesOf(parsed.error) ?? [{ message: String(parsed.error) }])
    .flatMap(issueProblems)
    .map(({ path, problem }) => ({ path: ['config', ...path], message: problem }));
}

/**
 * Every host the instance's backup steps may run on: its `host`, and those its config names for
 * the nodes of a multi-node engine (a ZooKeeper ensemble's members: BackupDriver.configHosts).
 */
export function backupHosts(instance: InstanceConfig): string[] {
  // The file was checked when it was read (driverConfigIssues): the engine is known and the config parses.
  const plugin = builtinPlugins().find((p) => p.manifest.name === instance.engine)!;
  const parsed = plugin.manifest.configSchema.safeParse(withSecretPlaceholders(instance.config));
  return [...new Set([instance.host, ...(parsed.success ? configHosts(plugin, parsed.data) : [])])];
}

/** The hosts a parsed config names for the backup's nodes (BackupDriver.configHosts). */
function configHosts(plugin: DriverPlugin, config: unknown): string[] {
  return plugin.backup?.configHosts?.(config) ?? [];
}


/** A malformed instances file: the message names the file and the field. */
export class InstancesConfigError extends Error {
  constructor(
    /** The file (or other source) that was read. */
    public readonly source: string,
    /** One line per problem: `<field>: <problem>`. */
    public readonly problems: readonly string[],
  ) {
    super(`${source} is not a valid instances file: ${problems.join('; ')}`);
    this.name = 'InstancesConfigError';
  }
}

/**
 * Validates already-parsed JSON. `source` names it in errors.
 * @throws InstancesConfigError naming each bad field, e.g. `instances[0].schedule: must be …`
 */
export function parseInstances(json: unknown, source: string): InstanceConfig[] {
  const result = instancesFileSchema.safeParse(json);
  if (!result.success) {
    throw new InstancesConfigError(source, result.error.issues.map((issue) => describeIssue(issue, '(file)')));
  }
  return result.data.instances;
}

/**
 * Reads and validates an instances file.
 * @param file path of the file; relative paths are resolved against `cwd`. @default DEFAULT_INSTANCES_FILE
 * @throws InstancesConfigError when the file is missing, not JSON, or malformed
 */
export function loadInstances(file: string = DEFAULT_INSTANCES_FILE, cwd: string = process.cwd()): InstanceConfig[] {
  const absolute = path.resolve(cwd, file);
  let text: string;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch (error) {
    throw new InstancesConfigError(absolute, [`cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InstancesConfigError(absolute, [`is not JSON: ${(error as Error).message}`]);
  }
  return parseInstances(json, absolute);
}

export { secretRefs } from '../core/secrets';
