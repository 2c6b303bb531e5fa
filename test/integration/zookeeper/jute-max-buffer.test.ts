/**
 * A member restored from a source that runs with a larger `jute.maxbuffer` than ZooKeeper's 1 MiB:
 * without the target's `juteMaxBuffer` it exits on the large record, saying what to set; with it,
 * it serves every byte.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { closeZooKeeper, openZooKeeper } from '../../../drivers/zookeeper/client';
import { startZooKeeperMember, type RunningZooKeeper } from '../../../drivers/zookeeper/member';
import { onFreePorts } from '../../harness/ports';
import { tempDir } from '../../harness/test-run';

const FOUR_MIB = 4 * 1024 * 1024;
const running: RunningZooKeeper[] = [];

async function start(dataDir: string, juteMaxBuffer?: number): Promise<RunningZooKeeper> {
  const member = await onFreePorts(1, ([clientPort]) => startZooKeeperMember({ id: 1, dataDir, host: '127.0.0.1', clientPort, juteMaxBuffer, readyTimeoutMs: 120_000 }));
  running.push(member);
  return member;
}

afterAll(async () => {
  await Promise.all(running.map((m) => m.stop().catch(() => undefined)));
});

it('a member whose files hold a 2 MB record starts only with a larger juteMaxBuffer, and says so without it', async () => {
  // Prepare: a source run with jute.maxbuffer = 4 MiB holds a 2 MB node (in its transaction log)
  const dataDir = path.join(await tempDir('zk-jute'), 'data');
  const source = await start(dataDir, FOUR_MIB);
  const big = randomBytes(2 * 1024 * 1024);
  const client = await openZooKeeper({ connectString: `127.0.0.1:${source.address.port}` });
  try {
    await client.create('/big', big, 0);
  } finally {
    closeZooKeeper(client);
  }
  await source.stop();

  // Act
  const refused = start(dataDir);
  await expect(refused).rejects.toMatchObject({ code: 'ZK_START_FAILED', message: expect.stringContaining('its files hold a record of') });
  const restored = await start(dataDir, FOUR_MIB);

  // Assess
  await expect(refused).rejects.toThrow(/more than its jute\.maxbuffer allows \(the source must run with a larger one\): set juteMaxBuffer \(bytes\) on the target's members/);
  const reader = await openZooKeeper({ connectString: `127.0.0.1:${restored.address.port}` });
  try {
    const [, data] = await reader.get('/big', false) as [unknown, Buffer];
    expect(data.equals(big)).toBe(true);
  } finally {
    closeZooKeeper(reader);
  }
}, 240_000);
