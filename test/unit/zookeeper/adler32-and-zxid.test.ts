import { Adler32, adler32 } from '../../../drivers/zookeeper/files/adler32';
import { compareZxid, epochOf, fileNameOf, formatZxid, isNextZxid, parseFileName } from '../../../drivers/zookeeper/files/zxid';

describe('Adler-32', () => {
  it('matches the reference value and is the same taken in pieces', () => {
    // Prepare
    const big = Buffer.alloc(100_000, 0xff);

    // Act + Assess
    expect(adler32(Buffer.from('Wikipedia'))).toBe(0x11e60398n);
    expect(adler32(Buffer.alloc(0))).toBe(1n);
    expect(new Adler32().update(big.subarray(0, 7)).update(big.subarray(7, 60_001)).update(big.subarray(60_001)).value()).toBe(adler32(big));
  });

  it('is the byte-by-byte definition at every alignment and length (the word-at-a-time path)', () => {
    // Prepare: the definition, one byte at a time, reduced every byte
    const reference = (bytes: Uint8Array) => {
      let a = 1;
      let b = 0;
      for (const byte of bytes) {
        a = (a + byte) % 65521;
        b = (b + a) % 65521;
      }
      return BigInt(((b << 16) | a) >>> 0);
    };
    const bytes = Buffer.alloc(40_000);
    for (let i = 0; i < bytes.length; i += 1) bytes[i] = (i * 7919 + (i >> 5)) & 0xff;
    bytes.fill(0xff, 20_000, 31_000); // the largest sums

    // Act + Assess
    for (const start of [0, 1, 2, 3, 5]) {
      for (const length of [0, 3, 63, 64, 65, 1024, 1028, 5551, 5552, 5557, 39_000]) {
        const piece = bytes.subarray(start, start + length);
        expect(adler32(piece)).toBe(reference(piece));
      }
    }
    expect(new Adler32().update(bytes.subarray(0, 1001)).update(bytes.subarray(1001)).value()).toBe(reference(bytes));
  });
});

describe('zxids and file names', () => {
  it('parses snapshot and log names, compressed snapshots included, and nothing else', () => {
    expect(parseFileName('log.100000001')).toEqual({ kind: 'log', zxid: 0x100000001n });
    expect(parseFileName('snapshot.1d')).toEqual({ kind: 'snapshot', zxid: 0x1dn });
    expect(parseFileName('snapshot.2a.gz')).toEqual({ kind: 'snapshot', zxid: 0x2an, compression: 'gz' });
    expect(parseFileName('snapshot.ffffffffffffffff')?.zxid).toBe(0xffffffffffffffffn);
    for (const name of ['log.1.gz', 'snapshot.tmp', 'acceptedEpoch', 'log.', 'log.1x', 'snapshot.12345678901234567']) expect(parseFileName(name)).toBeUndefined();
  });

  it('orders as numbers, not strings, and splits epochs', () => {
    // Prepare
    const names = ['log.100', 'log.ff', 'log.200000001', 'log.1'];

    // Act
    const sorted = names.map((n) => parseFileName(n)!.zxid).sort(compareZxid).map((z) => fileNameOf('log', z));

    // Assess
    expect(sorted).toEqual(['log.1', 'log.ff', 'log.100', 'log.200000001']);
    expect(epochOf(0x200000001n)).toBe(2);
    expect(formatZxid(0x200000001n)).toBe('0x200000001');
    expect(formatZxid(-1n)).toBe('0xffffffffffffffff');
  });

  it('knows which zxid may follow which', () => {
    expect(isNextZxid(0x100000005n, 0x100000006n)).toBe(true);
    expect(isNextZxid(0x100000005n, 0x300000001n)).toBe(true);
    expect(isNextZxid(0x100000005n, 0x100000007n)).toBe(false);
    expect(isNextZxid(0x100000005n, 0x200000002n)).toBe(false);
    expect(isNextZxid(0x200000000n, 0x200000001n)).toBe(true);
  });
});
