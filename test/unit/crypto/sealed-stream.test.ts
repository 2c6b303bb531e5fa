/**
 * Sealed artifacts (core/crypto/sealed-stream.ts): what is sealed opens to the same bytes at every
 * size around the segment boundaries, the same plaintext seals to the same bytes, and every kind
 * of damage — a flipped byte, a cut, an extension, segments swapped, another key or name — fails
 * with SEALED_ARTIFACT_DAMAGED before any of the damaged segment is released.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  HEADER_BYTES, SEALED_DAMAGED, SEGMENT_BYTES, openStream, sealStream, sealedSize, sealingParameters,
} from '../../../core/crypto/sealed-stream';

const key = randomBytes(32);
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** `data` through `transform`, fed in pieces of `piece` bytes; resolves with the output and what was released before a failure. */
async function through(transform: Transform, data: Buffer, piece = 64 * 1024): Promise<{ out: Buffer; error?: Error }> {
  const parts: Buffer[] = [];
  const pieces = function* pieces() {
    for (let at = 0; at < data.length; at += piece) yield data.subarray(at, at + piece);
  };
  try {
    await pipeline(Readable.from(pieces()), transform, async (source: AsyncIterable<Buffer>) => {
      for await (const part of source) parts.push(part);
    });
    return { out: Buffer.concat(parts) };
  } catch (error) {
    return { out: Buffer.concat(parts), error: error as Error };
  }
}

async function seal(plain: Buffer, name = 'data/shop/t/000000.tsv.zst', dataKey = key): Promise<Buffer> {
  const { out, error } = await through(sealStream(dataKey, name, sealingParameters(dataKey, name, sha256(plain))), plain);
  if (error) throw error;
  return out;
}

describe('sealed artifacts', () => {
  it.each([0, 1, SEGMENT_BYTES - 1, SEGMENT_BYTES, SEGMENT_BYTES + 1, 3 * SEGMENT_BYTES + 12_345])('open to the bytes sealed (%d bytes)', async (size) => {
    // Prepare
    const plain = randomBytes(size);

    // Act
    const sealed = await seal(plain);
    const opened = await through(openStream(key, 'data/shop/t/000000.tsv.zst'), sealed, 100_003);

    // Assess
    expect(opened.error).toBeUndefined();
    expect(opened.out.equals(plain)).toBe(true);
    expect(sealed.length).toBe(sealedSize(size));
  });

  it('seal the same plaintext under the same name to the same bytes, and anything else to other bytes', async () => {
    // Prepare
    const plain = randomBytes(SEGMENT_BYTES + 10);
    const other = Buffer.from(plain);
    other[5] ^= 1;

    // Act
    const [first, again, renamed, changed] = [await seal(plain), await seal(plain), await seal(plain, 'data/shop/u/000000.tsv.zst'), await seal(other)];

    // Assess
    expect(again.equals(first)).toBe(true);
    expect(renamed.subarray(0, HEADER_BYTES).equals(first.subarray(0, HEADER_BYTES))).toBe(false);
    expect(changed.subarray(0, HEADER_BYTES).equals(first.subarray(0, HEADER_BYTES))).toBe(false);
    expect(first.subarray(HEADER_BYTES).includes(plain.subarray(0, 64))).toBe(false);
  });

  describe('refuse damage, releasing nothing of a damaged segment', () => {
    const plain = randomBytes(2 * SEGMENT_BYTES + 500);
    const name = 'data/shop/t/000000.tsv.zst';
    let sealed: Buffer;
    const segment = (i: number) => sealed.subarray(HEADER_BYTES + i * (SEGMENT_BYTES + 16), HEADER_BYTES + (i + 1) * (SEGMENT_BYTES + 16));

    beforeAll(async () => {
      sealed = await seal(plain, name);
    });

    it.each([
      ['a flipped byte in the first segment', () => { const b = Buffer.from(sealed); b[HEADER_BYTES + 10] ^= 0x40; return b; }, 0, /segment 0 does not authenticate/],
      ['a flipped byte in the last segment\'s tag', () => { const b = Buffer.from(sealed); b[b.length - 1] ^= 1; return b; }, 2 * SEGMENT_BYTES, /last segment \(2\) does not authenticate/],
      ['a flipped byte in the salt', () => { const b = Buffer.from(sealed); b[6] ^= 1; return b; }, 0, /segment 0 does not authenticate/],
      ['the last segment cut off', () => sealed.subarray(0, HEADER_BYTES + 2 * (SEGMENT_BYTES + 16)), SEGMENT_BYTES, /last segment \(1\) does not authenticate/],
      ['the artifact cut in its last segment', () => sealed.subarray(0, sealed.length - 100), 2 * SEGMENT_BYTES, /last segment \(2\) does not authenticate/],
      ['bytes appended', () => Buffer.concat([sealed, Buffer.from('more')]), 2 * SEGMENT_BYTES, /does not authenticate/],
      ['two segments swapped', () => Buffer.concat([sealed.subarray(0, HEADER_BYTES), segment(1), segment(0), sealed.subarray(HEADER_BYTES + 2 * (SEGMENT_BYTES + 16))]), 0, /segment 0 does not authenticate/],
      ['only a header', () => sealed.subarray(0, HEADER_BYTES), 0, /cut short/],
      ['less than a header', () => sealed.subarray(0, 10), 0, /shorter than a sealed artifact's header/],
      ['not a sealed artifact', () => plain, 0, /does not start as a sealed artifact/],
    ] as Array<[string, () => Buffer, number, RegExp]>)('%s', async (_what, damage, releasedAtMost, message) => {
      // Act
      const { out, error } = await through(openStream(key, name), damage());

      // Assess
      expect(error).toMatchObject({ name: 'PermanentError', code: SEALED_DAMAGED, message: expect.stringMatching(message) });
      expect(out.length).toBeLessThanOrEqual(releasedAtMost);
      expect(out.equals(plain.subarray(0, out.length))).toBe(true);
    });

    it('another key or another name', async () => {
      // Act
      const wrongKey = await through(openStream(randomBytes(32), name), sealed);
      const wrongName = await through(openStream(key, 'data/shop/u/000000.tsv.zst'), sealed);

      // Assess
      for (const attempt of [wrongKey, wrongName]) {
        expect(attempt.error).toMatchObject({ code: SEALED_DAMAGED, message: expect.stringContaining('segment 0 does not authenticate') });
        expect(attempt.out.length).toBe(0);
      }
    });
  });

  it('refuses a data key of the wrong length', () => {
    expect(() => sealStream(randomBytes(16), 'x', sealingParameters(key, 'x', sha256(Buffer.alloc(0))))).toThrow(/32 bytes, not 16/);
  });
});
