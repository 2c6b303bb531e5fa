/**
 * The password ZooKeeper gives a session (ZooKeeperServer.generatePasswd), which a restore needs to
 * resume and close the sessions restored with the files: checked against passwords a real 3.8
 * server handed out.
 */
import { sessionPassword } from '../../../drivers/zookeeper/host-local/restored-sessions';

it.each([
  ['10000df5a6d0000', '094778966286e9378f0f83237b623ece'],
  ['10000dd88870000', '2b596d2fdccae4b981d37c27853cba64'],
])('derives session 0x%s\'s password as the server does', (id, password) => {
  expect(sessionPassword(BigInt(`0x${id}`)).toString('hex')).toBe(password);
});
