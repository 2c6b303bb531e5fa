/** Which member a host-local backup runs on (drivers/zookeeper/choose-member.ts): the highest zxid, a follower on a tie, then config order. */
import { memberIndexOf, memberNodeName, pickMember, type ChosenMember } from '../../../drivers/zookeeper/choose-member';
import { assertSomeNameResolves } from '../../../drivers/zookeeper/errors';
import { connectStringHosts } from '../../../drivers/zookeeper/client';
import type { ServerMode } from '../../../drivers/zookeeper/four-letter';

const member = (index: number, zxid: bigint, mode: ServerMode): ChosenMember => ({ index, status: { version: '3.8.0', zxid, mode, nodeCount: 10 } });

it('takes the member with the highest zxid, compared as 64-bit numbers', () => {
  expect(pickMember([member(0, 0x1_0000_0005n, 'follower'), member(1, 0x2_0000_0001n, 'leader'), member(2, 0xffff_fffen, 'follower')])?.index).toBe(1);
});

it('spares the leader when a follower has the same zxid, then keeps config order', () => {
  expect(pickMember([member(0, 7n, 'leader'), member(1, 7n, 'follower'), member(2, 7n, 'follower')])?.index).toBe(1);
  expect(pickMember([member(2, 7n, 'follower'), member(1, 7n, 'follower')])?.index).toBe(1);
  expect(pickMember([member(0, 7n, 'standalone')])?.index).toBe(0);
  expect(pickMember([])).toBeUndefined();
});

it('names nodes by member and reads the names back, nothing else', () => {
  const config = { members: [{ address: 'a:1' }, { address: 'b:1' }] };
  expect(memberNodeName(1)).toBe('member-2');
  expect(memberIndexOf('member-2', config)).toBe(1);
  expect(memberIndexOf('member-3', config)).toBeUndefined();
  expect(memberIndexOf('member-0', config)).toBeUndefined();
  expect(memberIndexOf('leader', config)).toBeUndefined();
});

describe('an ensemble none of whose host names resolve', () => {
  const resolver = (missing: string[], unanswered: string[] = []) => async (host: string) => {
    if (missing.includes(host)) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    if (unanswered.includes(host)) throw Object.assign(new Error(`getaddrinfo EAI_AGAIN ${host}`), { code: 'EAI_AGAIN' });
    return { address: '10.0.0.1' };
  };

  it('is PermanentError UNKNOWN_HOST naming them (a typo: not retried)', async () => {
    // Act
    const refused = await assertSomeNameResolves(['zk-1.exmaple', 'zk-2.exmaple', 'zk-1.exmaple'], resolver(['zk-1.exmaple', 'zk-2.exmaple'])).catch((error: Error) => error);

    // Assess
    expect(refused).toMatchObject({ name: 'PermanentError', code: 'UNKNOWN_HOST', message: expect.stringContaining('ZK_UNKNOWN_HOST') });
    expect((refused as Error).message).toContain('zk-1.exmaple, zk-2.exmaple');
  });

  it('passes when one member resolves, or when the resolver cannot answer now (an outage, retried)', async () => {
    await expect(assertSomeNameResolves(['zk-1.exmaple', 'zk-2.example'], resolver(['zk-1.exmaple']))).resolves.toBeUndefined();
    await expect(assertSomeNameResolves(['zk-1.example'], resolver([], ['zk-1.example']))).resolves.toBeUndefined();
  });

  it('finds the host names of a connect string, chroot and IPv6 brackets left out', () => {
    expect(connectStringHosts('zk-1:2181,10.0.0.2:2182,[::1]:2183/app/chroot')).toEqual(['zk-1', '10.0.0.2', '::1']);
  });
});
