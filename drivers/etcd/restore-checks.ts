/**
 * The checks that prove a restored etcd member, and a restored cluster, hold the backup: what one
 * member serves (its revision, and the key count and kv digest at the recorded revision), and what
 * the members say together (one cluster id, one leader, the target's members and no others).
 * Mismatches are failed checks; only an unreachable member throws.
 */
import type { Etcd3, IMember, IStatusResponse } from 'etcd3';
import type { BackupRecord, ValidationCheck } from '../../core/driver/types';
import { waitUntilReady } from '../../core/host/readiness';
import { idHex } from './client';
import { mapEtcdError } from './errors';
import { computeKvDigest } from './kv-digest';
import { etcdRecord } from './records';
import type { TargetMember } from './restore-target';

/** A restored member, connected, and what it said about itself. */
export interface CheckedMember {
  member: TargetMember;
  client: Etcd3;
  status: IStatusResponse;
}

/** The status call, its errors classified. */
export function memberStatus(client: Etcd3): Promise<IStatusResponse> {
  return client.maintenance.status().catch((error: unknown) => { throw mapEtcdError(error) ?? error; });
}

/** `new-cluster`: the restored cluster id differs from the source's. */
export function newClusterCheck(backup: BackupRecord, status: IStatusResponse): ValidationCheck {
  const { consistency } = etcdRecord(backup);
  const clusterId = idHex(status.header.cluster_id);
  return { name: 'new-cluster', ok: clusterId !== consistency.clusterId, detail: `restored cluster id ${clusterId}, source cluster id ${consistency.clusterId}` };
}

/**
 * `revision`, `key-count` and `kv-digest` of one member: its revision at least the recorded one, and
 * the key count and digest at the recorded revision equal to the backup's facts.
 * @param suffix appended to each check's name (`:<member>` in a cluster)
 */
export async function memberDataChecks(backup: BackupRecord, { client, status }: CheckedMember, suffix = '', signal?: AbortSignal): Promise<ValidationCheck[]> {
  const { consistency, facts } = etcdRecord(backup);
  const recordedRevision = consistency.revision;
  const currentRevision = Number(status.header.revision);
  const checks: ValidationCheck[] = [{
    name: `revision${suffix}`,
    ok: Number.isSafeInteger(recordedRevision) && currentRevision >= recordedRevision,
    detail: currentRevision === recordedRevision
      ? `restored revision ${currentRevision} equals the recorded revision`
      : `restored revision ${currentRevision}, recorded ${recordedRevision}${currentRevision > recordedRevision ? ' (written to since the restore)' : ' (older than the backup)'}`,
  }];
  let digest: { keyCount: number; digest: string } | undefined;
  let digestError: string | undefined;
  if (currentRevision < recordedRevision) {
    digestError = `the restored cluster is at revision ${currentRevision}, before the recorded revision ${recordedRevision}`;
  } else {
    try {
      digest = await computeKvDigest(client, recordedRevision, { signal });
    } catch (error) {
      const mapped = mapEtcdError(error);
      if (mapped?.code !== 'ETCD_COMPACTED' && !(error instanceof RangeError)) throw mapped ?? error;
      digestError = mapped?.message ?? (error as Error).message;
    }
  }
  checks.push({
    name: `key-count${suffix}`,
    ok: digest !== undefined && digest.keyCount === facts.keyCount,
    detail: digest ? `${digest.keyCount} keys at revision ${recordedRevision}, recorded ${facts.keyCount}` : `unreadable: ${digestError}`,
  });
  checks.push({
    name: `kv-digest${suffix}`,
    ok: digest !== undefined && digest.digest === facts.kvDigest,
    detail: digest ? `digest ${digest.digest}, recorded ${facts.kvDigest}` : `unreadable: ${digestError}`,
  });
  return checks;
}

const trimUrl = (url: string): string => url.replace(/\/+$/, '');
/** A member as `name peer=… client=…`, comparable whatever the order of its URLs. */
const memberLine = (name: string, peerUrls: readonly string[], clientUrls: readonly string[]): string =>
  `${name} peer=${peerUrls.map(trimUrl).sort().join(',')} client=${clientUrls.map(trimUrl).sort().join(',')}`;

/** How long the members of a restored cluster get to agree on one leader (an election may be under way). */
const LEADER_AGREEMENT_MS = 10_000;

/** The members' statuses once they name one leader that is one of them; the last disagreement otherwise. */
async function agreedLeader(checked: readonly CheckedMember[]): Promise<{ ok: boolean; detail: string }> {
  const named = (c: CheckedMember, id: string) => `${c.member.name}=${idHex(id || '0')}`;
  const outcome = await waitUntilReady(async function sameLeader() {
    const statuses = await Promise.all(checked.map((c) => memberStatus(c.client)));
    const leaders = new Set(statuses.map((s) => s.leader));
    const leading = checked.filter((_, i) => statuses[i].leader !== '0' && statuses[i].leader === statuses[i].header.member_id);
    if (leaders.size !== 1 || leading.length !== 1) {
      throw new Error(`leaders named ${checked.map((c, i) => named(c, statuses[i].leader)).join(', ')}; members that lead: ${leading.map((c) => c.member.name).join(', ') || 'none'}`);
    }
    return `${leading[0].member.name} leads; all ${checked.length} members agree`;
  }, { timeoutMs: LEADER_AGREEMENT_MS, pollMs: 100 });
  return outcome.ready ? { ok: true, detail: outcome.value } : { ok: false, detail: `no agreement in ${LEADER_AGREEMENT_MS / 1000} s: ${outcome.last}` };
}

/**
 * What the members of a restored cluster say together:
 * - `cluster-id`: every member reports the same cluster id;
 * - `leader`: every member names the same leader, and exactly one member is it (asked again while
 *   an election is under way, for a few seconds);
 * - `member-list`: the cluster's members (as the first member lists them) are the target's, no more, no fewer.
 */
export async function clusterChecks(checked: readonly CheckedMember[]): Promise<ValidationCheck[]> {
  const clusterIds = new Set(checked.map((c) => c.status.header.cluster_id));
  const { members } = await checked[0].client.cluster.memberList({}).catch((error: unknown) => { throw mapEtcdError(error) ?? error; });
  const listed = members.map((m: IMember) => memberLine(m.name, m.peerURLs, m.clientURLs)).sort();
  const wanted = checked.map((c) => memberLine(c.member.name, [c.member.peerUrl], [c.member.clientUrl])).sort();
  return [
    {
      name: 'cluster-id',
      ok: clusterIds.size === 1,
      detail: `cluster ids ${checked.map((c) => `${c.member.name}=${idHex(c.status.header.cluster_id)}`).join(', ')}`,
    },
    { name: 'leader', ...await agreedLeader(checked) },
    {
      name: 'member-list',
      ok: listed.join('\n') === wanted.join('\n'),
      detail: listed.join('\n') === wanted.join('\n') ? `${listed.length} members, as the target names them` : `listed: ${listed.join('; ')}; target: ${wanted.join('; ')}`,
    },
  ];
}
