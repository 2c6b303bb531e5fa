/**
 * Whether two host names name one machine, as far as can be told without asking DNS: case and a
 * trailing dot aside, the usual names of the local machine's loopback (`localhost`, `127.0.0.1`,
 * `::1` and the names /etc/hosts gives them) are one; 127.0.0.2 and the like stay apart (a server
 * may listen on one of them only). Config checks use it where two names for one server would have
 * two parts of a store write into one place (two shards into one database, two ZooKeeper members
 * onto one port).
 */
const LOOPBACK = new Set(['localhost', 'localhost.localdomain', '127.0.0.1', '::1', '[::1]', 'ip6-localhost', 'ip6-loopback']);

/** `host` as the machine it names, for comparing (not for connecting or for messages). */
export function machineOf(host: string): string {
  const name = host.trim().toLowerCase().replace(/\.$/, '');
  return LOOPBACK.has(name) ? 'loopback' : name;
}
