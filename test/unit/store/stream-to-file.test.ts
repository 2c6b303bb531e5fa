/**
 * streamToFile: a download that ends short of the size its source announced fails (retryable),
 * whatever the checksum says, and leaves no file.
 */
import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { streamToFile } from '../../../core/store/transfer';
import { makeTempDir, rejectionOf, removeDir } from '../../fixtures/store/files';

describe('streamToFile', () => {
  let work: string;
  beforeEach(async () => { work = await makeTempDir('stream-to-file'); });
  afterEach(async () => { await removeDir(work); });

  it('fails SHORT_READ, retryable, when the source ends before its announced size, and writes nothing', async () => {
    // Prepare
    const file = path.join(work, 'out.bin');

    // Act
    const error = await rejectionOf(streamToFile(Readable.from([Buffer.alloc(4096, 7)]), file, { key: 'rl/short.bin', totalBytes: 6000 }));

    // Assess
    expect(error).toMatchObject({ name: 'TransientError', code: 'SHORT_READ', retryable: true });
    expect(error.message).toBe('object rl/short.bin ended after 4096 of its 6000 bytes');
    await expect(access(file)).rejects.toMatchObject({ code: 'ENOENT' });
    const longer = await rejectionOf(streamToFile(Readable.from([Buffer.alloc(7000, 7)]), file, { key: 'rl/long.bin', totalBytes: 6000 }));
    expect(longer).toMatchObject({ code: 'SHORT_READ', message: 'object rl/long.bin gave 7000 bytes where the store announced 6000' });
  });

  it('writes a source of its announced size', async () => {
    // Prepare
    const file = path.join(work, 'out.bin');

    // Act
    const result = await streamToFile(Readable.from([Buffer.alloc(3000, 1), Buffer.alloc(3000, 2)]), file, { key: 'rl/whole.bin', totalBytes: 6000 });

    // Assess
    expect(result.size).toBe(6000);
    expect((await readFile(file)).length).toBe(6000);
  });
});
