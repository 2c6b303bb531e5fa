/** `dbbackup verify`'s text: the failures first, and intact artifacts counted once there are many, so no failure is lost among them. */
import { formatVerify } from '../../../bin/format';
import type { VerificationRecord } from '../../../core/catalog/verification';

const record = (intact: number, failed: string[]): VerificationRecord => ({
  backupId: '20261207T000000000Z-abcdef',
  verifiedAt: '2026-12-07T00:00:00.000Z',
  ok: failed.length === 0,
  artifacts: [
    ...Array.from({ length: intact }, (_, i) => ({ name: `data/t${i}.zst`, ok: true })),
    ...failed.map((name) => ({ name, ok: false, detail: 'expected 21 bytes sha256 aa, found 21 bytes sha256 bb', damaged: true })),
  ],
});

it('puts a failure first and counts the intact artifacts of a large backup in one line', () => {
  // Act
  const text = formatVerify(record(40, ['data/lost.zst']));

  // Assess
  expect(text.split('\n')).toEqual([
    'verify 20261207T000000000Z-abcdef: FAILED (40 of 41 artifacts intact)',
    '  FAIL data/lost.zst: expected 21 bytes sha256 aa, found 21 bytes sha256 bb',
    '  ok   40 artifacts (--json lists each)',
  ]);
});

it('names each intact artifact of a small backup', () => {
  // Act
  const text = formatVerify(record(2, []));

  // Assess
  expect(text.split('\n')).toEqual(['verify 20261207T000000000Z-abcdef: ok (2 of 2 artifacts intact)', '  ok   data/t0.zst', '  ok   data/t1.zst']);
});
