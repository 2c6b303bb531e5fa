/** A hashing thread that dies (core/io/hash-threads.ts): the hashes it held fail with a typed, retryable error, and the next hash gets a new thread. */
import { TransientError } from '../../../core/errors';
import { OffThreadSha256, sha256OffThread } from '../../../core/io/hash-threads';
import { createHash } from 'node:crypto';

/** Every Worker the module under test starts, so a test can stop one. */
const started: Array<import('node:worker_threads').Worker> = [];
jest.mock('node:worker_threads', () => {
  const actual = jest.requireActual<typeof import('node:worker_threads')>('node:worker_threads');
  class RecordedWorker extends actual.Worker {
    constructor(...args: ConstructorParameters<typeof actual.Worker>) {
      super(...args);
      started.push(this);
    }
  }
  return { ...actual, Worker: RecordedWorker };
});

/** Bytes over one stage (1 MiB), so the hash goes to a thread. */
const big = Buffer.alloc(3 << 20, 7);

it('fails the hashes a stopped thread held with TransientError HASH_THREAD_STOPPED, and hashes on a new thread after', async () => {
  // Prepare: one hash with stages on a thread, its digest not asked yet
  const held = new OffThreadSha256();
  await held.update(big);
  expect(started).toHaveLength(1);

  // Act
  await started[0].terminate();
  const lost = await held.digest().then(() => undefined, (error: unknown) => error);
  const again = await sha256OffThread(big);

  // Assess
  expect(lost).toBeInstanceOf(TransientError);
  expect(lost).toMatchObject({ code: 'HASH_THREAD_STOPPED', message: expect.stringContaining('a hashing thread stopped') });
  expect(started).toHaveLength(2);
  expect(again.toString('hex')).toBe(createHash('sha256').update(big).digest('hex'));
});
