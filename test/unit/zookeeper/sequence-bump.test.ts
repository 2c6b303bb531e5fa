/**
 * Which children of a parent ZooKeeper numbered (their suffix below the parent's cversion), and the
 * refusal, before the target is touched, of a tree whose sequence bumps would be too long.
 */
import { highestSequence, MAX_BUMP_PAIRS, SequenceHighWater } from '../../../drivers/zookeeper/logical/sequence-bump';

describe('highestSequence', () => {
  it('takes only suffixes below the parent\'s cversion as sequence numbers: a timestamp or an int32 maximum under a young parent is a name', () => {
    expect(highestSequence(['job-0000000004', 'job-0000000017', 'note'], 30)).toBe(17);
    expect(highestSequence(['evt-1733450000', 'job-2147483647', 'job-0000000002'], 5)).toBe(2);
    expect(highestSequence(['evt-1733450000'], 5)).toBeUndefined();
    expect(highestSequence(['job-0000000030'], 30)).toBeUndefined(); // numbered at cversion 30, the listing would show 31
    expect(highestSequence(['phone-99999999999'], 2 ** 31 - 1)).toBeUndefined(); // eleven digits: the last ten are above int32
  });
});

describe('SequenceHighWater', () => {
  it('bumps a parent the backup recorded past its highest number, counting the children the restore creates', () => {
    // Prepare
    const highWater = new SequenceHighWater();

    // Act
    highWater.noteChild('/queue', false);
    highWater.noteParent('/queue', 49);
    for (let i = 30; i < 50; i += 1) highWater.noteChild(`/queue/job-${String(i).padStart(10, '0')}`, false);
    highWater.noteChild('/events', false);
    highWater.noteChild('/events/evt-1733450000', false);

    // Assess
    expect([...highWater.entries()]).toEqual([['/queue', 49]]);
    expect(() => highWater.assertBumpable()).not.toThrow();
  });

  it('refuses, naming the parent, a tree whose bumps exceed the limit; one that recorded no numbers reads names and says a new backup would not', () => {
    // Prepare
    const recorded = new SequenceHighWater();
    recorded.noteParent('/busy', MAX_BUMP_PAIRS + 5);
    recorded.noteChild('/busy/job-0010000005', false);
    const byName = new SequenceHighWater();
    byName.noteChild('/events/evt-1733450000', true);

    // Act / Assess
    expect(() => recorded.assertBumpable()).toThrow(expect.objectContaining({
      code: 'ZK_SEQUENCE_BUMP_TOO_LONG',
      message: `restoring this tree would take ${MAX_BUMP_PAIRS + 5} create/delete pairs to raise its parents' next sequence numbers past those of their restored children (/busy: past ${MAX_BUMP_PAIRS + 5}, ${MAX_BUMP_PAIRS + 5} pairs), beyond the ${MAX_BUMP_PAIRS} a restore sends; nothing was written to the target`,
    }));
    expect(() => byName.assertBumpable()).toThrow(/\/events: past 1733450000, 1733450000 pairs\), .*nothing was written to the target \(this backup, taken by an older version, does not record which children ZooKeeper numbered/);
  });
});
