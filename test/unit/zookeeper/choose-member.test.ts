/** Which member a host-local backup runs on (drivers/zookeeper/choose-member.ts): the highest zxid, a follower on a tie, then config order. */
import { memberIndexOf, memberNodeName, pickMember, type ChosenMember } from '../../../drivers/zookeeper/choose-member';
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
