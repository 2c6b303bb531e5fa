/**
 * Whether host names resolve, for drivers whose client hides why it cannot connect (ZooKeeper's C
 * client retries a name that does not resolve until its own timeout): a name DNS says does not
 * exist (`ENOTFOUND`) is a typo in the config, not an outage; a resolver that cannot answer now
 * (`EAI_AGAIN`) is not counted.
 */
import { lookup } from 'node:dns/promises';

/** Looks a name up: `lookup` from node:dns by default. */
export type HostLookup = (host: string) => Promise<unknown>;

/** The names of `hosts` that DNS says do not exist (each looked up once, all at once). */
export async function namesThatDoNotResolve(hosts: readonly string[], resolve: HostLookup = lookup): Promise<string[]> {
  const names = [...new Set(hosts)];
  const missing = await Promise.all(names.map((host) => resolve(host).then(() => false, (error: { code?: string }) => error?.code === 'ENOTFOUND')));
  return names.filter((_, i) => missing[i]);
}
