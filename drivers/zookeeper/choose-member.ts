/**
 * Which member a host-local backup is taken on: the one with the highest zxid (it has applied the
 * most), a follower rather than the leader when zxids tie (the leader has work enough), asked with
 * `srvr` on every member at once. Members that do not answer are passed over; none answering is a
 * TransientError the state machine retries.
 */
import { TransientError } from '../../core/errors';
import { assertSomeNameResolves } from './errors';
import { serverStatus, type ServerStatus } from './four-letter';
import { parseAddress, type ZooKeeperConfig } from './config';

export interface ChosenMember {
  /** Its index in the config's `members`. */
  index: number;
  status: ServerStatus;
}

/** The node name of the config's member `index`: `member-1`, `member-2`... */
export function memberNodeName(index: number): string {
  return `member-${index + 1}`;
}

/** The config's member index of a node name from {@link memberNodeName}, or undefined. */
export function memberIndexOf(nodeName: string, config: Pick<ZooKeeperConfig, 'members'>): number | undefined {
  const match = /^member-(\d+)$/.exec(nodeName);
  const index = match ? Number(match[1]) - 1 : -1;
  return index >= 0 && index < config.members.length ? index : undefined;
}

/** Leader last among equals: it serves every write already. */
const rolePreference = (status: ServerStatus): number => (status.mode === 'leader' ? 1 : 0);

/** Picks among answered members (exported for unit tests): highest zxid, then not the leader, then config order. */
export function pickMember(answers: readonly ChosenMember[]): ChosenMember | undefined {
  return [...answers].sort((a, b) => {
    if (a.status.zxid !== b.status.zxid) return a.status.zxid > b.status.zxid ? -1 : 1;
    return rolePreference(a.status) - rolePreference(b.status) || a.index - b.index;
  })[0];
}

/**
 * Asks every member `srvr` and picks one (see {@link pickMember}). A member in `read-only` mode
 * (cut off from its quorum) is passed over.
 * @throws TransientError `ZK_UNREACHABLE` when no member serves; PermanentError `UNKNOWN_HOST` when no member's host name resolves (a typo, not an outage).
 */
export async function chooseMember(config: Pick<ZooKeeperConfig, 'members'>): Promise<ChosenMember> {
  const asked = await Promise.allSettled(config.members.map((m) => serverStatus(parseAddress(m.address))));
  const answers: ChosenMember[] = [];
  const problems: string[] = [];
  asked.forEach((answer, index) => {
    if (answer.status === 'fulfilled' && answer.value.mode !== 'read-only') answers.push({ index, status: answer.value });
    else problems.push(`${config.members[index].address}: ${answer.status === 'rejected' ? (answer.reason as Error).message : 'read-only (no quorum)'}`);
  });
  const chosen = pickMember(answers);
  const refused = asked.find((a): a is PromiseRejectedResult => a.status === 'rejected' && (a.reason as { code?: string }).code === 'ZK_4LW_NOT_ALLOWED');
  if (!chosen && refused) throw refused.reason; // configuration, not a passing outage: not retried
  if (!chosen) {
    await assertSomeNameResolves(config.members.map((m) => parseAddress(m.address).host));
    throw new TransientError(`no ZooKeeper member serves (${problems.join('; ')})`, { code: 'ZK_UNREACHABLE', engine: 'zookeeper' });
  }
  return chosen;
}

