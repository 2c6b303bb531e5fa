/**
 * The xbstream verifier as a stage of the pipeline that writes the stream: it passes every byte on
 * unchanged, and `verifyXbstream` reads a stream larger than the verifier's buffers to its end
 * (nothing stalls on an unread output).
 */
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32 } from 'node:zlib';
import { verifyXbstream, XbstreamVerifier } from '../../../drivers/mysql/physical/xbstream';

/** One payload chunk (or an end-of-file chunk without `data`) as mariabackup writes it. */
function chunk(path: string, data?: Buffer, offset = 0): Buffer {
  const header = Buffer.alloc(14);
  header.write('XBSTCK01', 0, 'latin1');
  header[9] = (data ? 'P' : 'E').charCodeAt(0);
  header.writeUInt32LE(Buffer.byteLength(path), 10);
  if (!data) return Buffer.concat([header, Buffer.from(path)]);
  const meta = Buffer.alloc(20);
  meta.writeBigUInt64LE(BigInt(data.length), 0);
  meta.writeBigUInt64LE(BigInt(offset), 8);
  meta.writeUInt32LE(crc32(data), 16);
  return Buffer.concat([header, Buffer.from(path), meta, data]);
}

/** A valid stream of one file in `chunks` chunks of `size` bytes, plus a captured metadata file. */
function stream(chunks: number, size: number): Buffer {
  const parts = [chunk('xtrabackup_binlog_info', Buffer.from('binlog.000001\t42\t0-1-7\n')), chunk('xtrabackup_binlog_info')];
  for (let i = 0; i < chunks; i += 1) parts.push(chunk('shop/t.ibd', Buffer.alloc(size, i), i * size));
  parts.push(chunk('shop/t.ibd'));
  return Buffer.concat(parts);
}

/** `bytes` in pieces of `piece` bytes. */
const pieces = (bytes: Buffer, piece: number): Readable =>
  Readable.from(Array.from({ length: Math.ceil(bytes.length / piece) }, (_, i) => bytes.subarray(i * piece, (i + 1) * piece)));

describe('XbstreamVerifier as a pass-through', () => {
  it('passes every byte on unchanged while it checks them', async () => {
    // Prepare
    const bytes = stream(40, 100_000);
    const out: Buffer[] = [];
    const verifier = new XbstreamVerifier(new Set(['xtrabackup_binlog_info']));

    // Act
    await pipeline(pieces(bytes, 65_536), verifier, new Writable({ write: (data: Buffer, _e, done) => { out.push(data); done(); } }));

    // Assess
    expect(Buffer.concat(out).equals(bytes)).toBe(true);
    expect(verifier.summary()).toMatchObject({ bytes: bytes.length, files: 2, payloadBytes: 40 * 100_000 + 23 });
    expect(verifier.summary().captured.xtrabackup_binlog_info.toString()).toBe('binlog.000001\t42\t0-1-7\n');
  });

  it('verifyXbstream reads a stream larger than every buffer to its end', async () => {
    // Prepare: 24 MiB, several times the verifier's 4 MiB buffers.
    const bytes = stream(24, 1024 * 1024);

    // Act
    const summary = await verifyXbstream(pieces(bytes, 65_536));

    // Assess
    expect(summary).toMatchObject({ bytes: bytes.length, chunks: 27, files: 2 });
  });

  it('verifyXbstream rejects with the damage, as the pipeline it is in would', async () => {
    // Prepare
    const bytes = stream(4, 50_000);
    bytes[bytes.length - 30_000] ^= 0xff;

    // Act
    const verifying = verifyXbstream(pieces(bytes, 4096));

    // Assess
    await expect(verifying).rejects.toThrow(/invalid checksum in a chunk of shop\/t\.ibd/);
  });
});
