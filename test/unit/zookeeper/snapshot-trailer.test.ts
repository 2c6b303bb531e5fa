/**
 * The end of a snapshot as each version writes it (FileSnap.serialize): 3.5 a seal, 3.6–3.8 a
 * ZxidDigest and a second seal, 3.9 (serializeLastProcessedZxid.enabled, its default) also the last
 * processed zxid and a third seal. Built byte for byte: there is no 3.9 server here.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { adler32 } from '../../../drivers/zookeeper/files/adler32';
import { readSnapshot } from '../../../drivers/zookeeper/files/snapshot-file';
import { tempDir } from '../../harness/test-run';
import { JuteWriter } from './jute-writer';

let dir: string;
beforeAll(async () => { dir = await tempDir('zk-snapshot-trailer'); });

/** A snapshot of the root alone, and its seals as SnapStream.sealStream writes them. */
function snapshotBytes(trailer: { digest?: boolean; lastProcessedZxid?: bigint }): Buffer {
  const w = new JuteWriter().raw(Buffer.from('ZKSN')).int(2).long(0n);
  w.int(0).int(0); // no sessions, no ACLs
  w.string('').buffer(Buffer.alloc(0)).long(-1n);
  for (let i = 0; i < 3; i += 1) w.long(0n);
  w.long(0n).int(0).int(0).int(0).long(0n).long(0n);
  w.string('/');
  const seal = () => { w.long(adler32(w.bytes())).string('/'); };
  seal();
  if (trailer.digest) {
    w.long(0x1dn).int(2).long(123456789n);
    seal();
  }
  if (trailer.lastProcessedZxid !== undefined) {
    w.long(trailer.lastProcessedZxid);
    seal();
  }
  return w.bytes();
}

async function write(name: string, bytes: Buffer): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, bytes);
  return file;
}

it('reads a 3.9 snapshot: the digest, then the last processed zxid and a third seal', async () => {
  // Prepare
  const file = await write('snapshot.1d', snapshotBytes({ digest: true, lastProcessedZxid: 0x2fn }));

  // Act
  const scan = await readSnapshot(file);

  // Assess
  expect(scan).toMatchObject({ zxid: 0x1dn, nodeCount: 1, zxidDigest: { zxid: 0x1dn, digestVersion: 2, digest: 123456789n }, lastProcessedZxid: 0x2fn });
});

it('still reads 3.8 snapshots (no last processed zxid)', async () => {
  const scan = await readSnapshot(await write('snapshot.1e', snapshotBytes({ digest: true })));
  expect(scan.lastProcessedZxid).toBeUndefined();
  expect(scan.zxidDigest?.digest).toBe(123456789n);
});

it('refuses a third seal that does not hold, and bytes after it', async () => {
  // Prepare
  const good = snapshotBytes({ digest: true, lastProcessedZxid: 0x2fn });
  const flipped = Buffer.from(good);
  flipped[good.length - 13 - 1] ^= 0xff; // the last byte of the last processed zxid
  const longer = Buffer.concat([good, Buffer.from([1])]);

  // Act / Assess
  await expect(readSnapshot(await write('snapshot.20', flipped))).rejects.toMatchObject({ code: 'ZK_CORRUPT_SNAPSHOT', message: expect.stringMatching(/checksum/) });
  await expect(readSnapshot(await write('snapshot.21', longer))).rejects.toMatchObject({ code: 'ZK_CORRUPT_SNAPSHOT', message: expect.stringMatching(/bytes follow its end/) });
});
