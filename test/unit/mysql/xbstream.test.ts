/**
 * The xbstream reader: checks every chunk's CRC-32 and each file's chunk sequence, captures small
 * files, and reports damage with its offset, whatever the write boundaries.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32 } from 'node:zlib';
import { XbstreamVerifier } from '../../../drivers/mysql/physical/xbstream';

/** Encodes one chunk the way mariabackup writes it. */
function chunk(path: string, payload?: { data: Buffer; offset: number; crc?: number }, type = payload ? 'P' : 'E', flags = 0): Buffer {
  const header = Buffer.alloc(14);
  header.write('XBSTCK01', 0, 'latin1');
  header[8] = flags;
  header[9] = type.charCodeAt(0);
  header.writeUInt32LE(Buffer.byteLength(path), 10);
  const parts: Buffer[] = [header, Buffer.from(path)];
  if (payload) {
    const meta = Buffer.alloc(20);
    meta.writeBigUInt64LE(BigInt(payload.data.length), 0);
    meta.writeBigUInt64LE(BigInt(payload.offset), 8);
    meta.writeUInt32LE(payload.crc ?? crc32(payload.data), 16);
    parts.push(meta, payload.data);
  }
  return Buffer.concat(parts);
}

const part1 = Buffer.from('backup_type = full-backuped\n');
const part2 = Buffer.from('from_lsn = 0\n');
const data = Buffer.alloc(3000, 7);
const goodStream = (): Buffer => Buffer.concat([
  chunk('xtrabackup_checkpoints', { data: part1, offset: 0 }),
  chunk('shop/t.ibd', { data, offset: 0 }),
  chunk('xtrabackup_checkpoints', { data: part2, offset: part1.length }),
  chunk('shop/t.ibd', { data, offset: data.length }),
  chunk('xtrabackup_checkpoints'),
  chunk('shop/t.ibd'),
]);

async function verify(bytes: Buffer, pieceSize = bytes.length): Promise<XbstreamVerifier> {
  const pieces: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += pieceSize) pieces.push(bytes.subarray(at, at + pieceSize));
  const verifier = new XbstreamVerifier(new Set(['xtrabackup_checkpoints']));
  await pipeline(Readable.from(pieces), verifier);
  return verifier;
}

describe('XbstreamVerifier', () => {
  it.each([1, 7, 4096, Infinity])('accepts a valid stream written in pieces of %s bytes and captures the metadata file', async (size) => {
    // Prepare
    const bytes = goodStream();

    // Act
    const summary = (await verify(bytes, size === Infinity ? bytes.length : size)).summary();

    // Assess
    expect(summary).toMatchObject({ bytes: bytes.length, chunks: 6, files: 2, payloadBytes: part1.length + part2.length + 2 * data.length });
    expect(summary.captured.xtrabackup_checkpoints.toString()).toBe('backup_type = full-backuped\nfrom_lsn = 0\n');
    expect(summary.captured['shop/t.ibd']).toBeUndefined();
  });

  it('rejects a flipped payload byte, naming the file and offset', async () => {
    // Prepare
    const bytes = goodStream();
    bytes[bytes.indexOf(data) + 100] ^= 0xff;

    // Act
    const verifying = verify(bytes, 1000);

    // Assess
    await expect(verifying).rejects.toThrow(/invalid checksum in a chunk of shop\/t\.ibd: expected 0x[0-9a-f]+, computed 0x[0-9a-f]+ at offset 0x[0-9a-f]+/);
  });

  it('rejects a missing chunk, a truncated stream, an unclosed file and a damaged header', async () => {
    // Prepare
    const missing = Buffer.concat([chunk('a', { data, offset: 0 }), chunk('a', { data, offset: 2 * data.length }), chunk('a')]);
    const whole = goodStream();
    const truncated = whole.subarray(0, whole.length - 20);
    const unclosed = Buffer.concat([chunk('a', { data, offset: 0 })]);
    const badMagic = Buffer.concat([Buffer.from('XBSTCK02'), whole.subarray(8)]);

    // Assess
    await expect(verify(missing)).rejects.toThrow(/chunk of a at file offset 6000, expected 3000 \(a chunk is missing\)/);
    await expect(verify(truncated)).rejects.toThrow(/ends inside a chunk/);
    await expect(verify(unclosed)).rejects.toThrow(/ends before 1 file\(s\) were closed: a/);
    await expect(verify(badMagic)).rejects.toThrow(/wrong chunk magic/);
  });

  it('skips chunks of an unknown type marked ignorable and rejects unmarked ones', async () => {
    // Prepare
    const extra = { data: Buffer.from('future'), offset: 0 };
    const ignorable = Buffer.concat([chunk('x', extra, 'Z', 0x01), goodStream()]);
    const unknown = Buffer.concat([chunk('x', extra, 'Z', 0), goodStream()]);

    // Act
    const summary = (await verify(ignorable)).summary();

    // Assess
    expect(summary.files).toBe(2);
    await expect(verify(unknown)).rejects.toThrow(/unknown chunk type 0x5a/);
  });
});
