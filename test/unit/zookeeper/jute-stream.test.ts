import { adler32 } from '../../../drivers/zookeeper/files/adler32';
import { JuteStream, JuteTruncated } from '../../../drivers/zookeeper/files/jute-stream';
import { JuteWriter } from './jute-writer';

/** `bytes` in pieces of the given sizes, in turn. */
async function* pieces(bytes: Buffer, sizes: readonly number[]): AsyncGenerator<Buffer> {
  for (let at = 0, i = 0; at < bytes.length; i += 1) {
    const size = sizes[i % sizes.length];
    yield Buffer.from(bytes.subarray(at, at + size));
    at += size;
  }
}

/** Records of a long, a buffer of the given size (its bytes a pattern of its index) and an int. */
function records(sizes: readonly number[]): { bytes: Buffer; datas: Buffer[] } {
  const writer = new JuteWriter();
  const datas = sizes.map((size, i) => Buffer.alloc(size, i + 1));
  datas.forEach((data, i) => writer.long(BigInt(i)).buffer(data).int(-i));
  return { bytes: writer.bytes(), datas };
}

describe('JuteStream', () => {
  it.each([
    ['one byte, then a page', [1, 4093]],
    ['small uneven chunks', [7, 13, 100]],
    ['chunks smaller than a record', [50_000, 3_000]],
    ['chunks larger than the slack', [300_000, 70_000, 1_000_001]],
    ['one chunk', [100_000_000]],
  ])('reads records spanning chunks the same way, and checksums every byte (%s)', async (_name, sizes) => {
    // Prepare: small records between large ones (a node's data up to a megabyte)
    const { bytes, datas } = records([3, 900_000, 0, 10, 200_000, 65_536, 5, 1_048_576, 1, 70_000, 2]);
    const stream = new JuteStream(pieces(bytes, sizes), { checksum: true });

    // Act
    const read: Array<{ n: bigint; data: Buffer; tail: number }> = [];
    while (!(await stream.atEnd())) read.push(await stream.read((r) => ({ n: r.readLong(), data: r.readBuffer()!, tail: r.readInt() })));

    // Assess
    expect(read.map((r) => r.n)).toEqual(datas.map((_d, i) => BigInt(i)));
    read.forEach((r, i) => {
      expect(r.data.equals(datas[i])).toBe(true);
      expect(r.tail).toBe(-i || 0);
    });
    expect(stream.offset).toBe(bytes.length);
    expect(stream.checksum!.value()).toBe(adler32(bytes));
  });

  it.each([
    ['small uneven chunks', [7, 13, 100]],
    ['chunks smaller than a record', [50_000, 3_000]],
    ['chunks larger than the slack', [300_000, 70_000, 1_000_001]],
  ])('with reuse, reads the same records from a source that overwrites each chunk once the next is pulled (%s)', async (_name, sizes) => {
    // Prepare: one buffer for every chunk, scribbled over before it is refilled
    const { bytes, datas } = records([3, 900_000, 0, 10, 200_000, 65_536, 5, 1_048_576, 1, 70_000, 2, 2_500_000, 4]);
    async function* reused(): AsyncGenerator<Buffer> {
      const buffer = Buffer.alloc(Math.max(...sizes));
      for await (const piece of pieces(bytes, sizes)) {
        buffer.fill(0xee);
        piece.copy(buffer);
        yield buffer.subarray(0, piece.length);
      }
      buffer.fill(0xee);
    }
    const stream = new JuteStream(reused(), { checksum: true, reuse: true });

    // Act: each record's data is let go (here: compared) before the next read
    const same: boolean[] = [];
    while (!(await stream.atEnd())) {
      const record = await stream.read((r) => ({ n: r.readLong(), data: r.readBuffer()!, tail: r.readInt() }));
      const i = Number(record.n);
      same.push(record.data.equals(datas[i]) && record.tail === (-i || 0));
    }

    // Assess
    expect(same).toEqual(datas.map(() => true));
    expect(stream.checksum!.value()).toBe(adler32(bytes));
  });

  it('says where a record the stream ends inside began', async () => {
    // Prepare
    const { bytes } = records([10, 500_000]);
    const cut = bytes.subarray(0, bytes.length - 3);
    const stream = new JuteStream(pieces(cut, [100_000]));

    // Act
    await stream.read((r) => [r.readLong(), r.readBuffer(), r.readInt()]);
    const error = await stream.read((r) => [r.readLong(), r.readBuffer(), r.readInt()]).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(JuteTruncated);
    expect(error).toMatchObject({ offset: 8 + 4 + 10 + 4, available: cut.length - (8 + 4 + 10 + 4) });
  });
});
