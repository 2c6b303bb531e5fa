/**
 * The spool marker of a restore that writes its target over the network (core/driver/target-writes.ts):
 * what it tells a retry of the same restore and the cleanup after a failure.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beginWritingTarget, doneWritingTarget, hasBegunWritingTarget, targetWritesAfterFailure } from '../../../core/driver/target-writes';
import { writeRestoreMarker } from '../../../core/host/restore-marker';

const DETAILS = { untouched: 'nothing written', partial: 'part written', restored: 'all written' };
let spoolDir: string;
const ctx = () => ({ spoolDir, backup: { backupId: 'b1' } as never });

beforeEach(async () => { spoolDir = await mkdtemp(path.join(os.tmpdir(), 'target-writes-')); });
afterEach(() => rm(spoolDir, { recursive: true, force: true }));

it('says untouched before the first write, partial after it, restored once done', async () => {
  const cleanup = async () => (await targetWritesAfterFailure(ctx(), {}, DETAILS)).target;

  expect([await hasBegunWritingTarget(ctx()), await cleanup()]).toEqual([false, 'untouched']);
  await beginWritingTarget(ctx());
  expect([await hasBegunWritingTarget(ctx()), await cleanup()]).toEqual([true, 'partial']);
  await doneWritingTarget(ctx());
  expect(await cleanup()).toBe('restored');
});

it("finds an earlier attempt's marker under the name an older host agent gave it", async () => {
  await writeRestoreMarker(path.join(spoolDir, 'target-shards'), { backupId: 'b1', spoolDir });

  expect(await hasBegunWritingTarget(ctx())).toBe(true);
  expect(await targetWritesAfterFailure(ctx(), {}, DETAILS)).toMatchObject({ target: 'partial', detail: 'part written' });
});

it("does not take another restore's marker for its own", async () => {
  await writeRestoreMarker(path.join(spoolDir, 'target-writes'), { backupId: 'b0', spoolDir });

  expect(await hasBegunWritingTarget(ctx())).toBe(false);
});
