/**
 * A jute writer for unit tests (org.apache.jute.BinaryOutputArchive, the few parts needed):
 * builds txn logs and snapshots byte for byte as ZooKeeper writes them, to test the readers on
 * cases a live server does not produce on demand (multi, torn entries, gaps).
 */
import { adler32 } from '../../../drivers/zookeeper/files/adler32';
import type { Acl } from '../../../drivers/zookeeper/tree-digest';

export class JuteWriter {
  private readonly parts: Buffer[] = [];

  int(value: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32BE(value);
    this.parts.push(b);
    return this;
  }

  long(value: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(BigInt.asIntN(64, value));
    this.parts.push(b);
    return this;
  }

  bool(value: boolean): this {
    this.parts.push(Buffer.from([value ? 1 : 0]));
    return this;
  }

  byte(value: number): this {
    this.parts.push(Buffer.from([value]));
    return this;
  }

  buffer(value: Buffer): this {
    this.int(value.length);
    this.parts.push(value);
    return this;
  }

  string(value: string): this {
    return this.buffer(Buffer.from(value, 'utf8'));
  }

  acls(list: readonly Acl[]): this {
    this.int(list.length);
    for (const acl of list) this.int(acl.perms).string(acl.scheme).string(acl.id);
    return this;
  }

  raw(bytes: Buffer): this {
    this.parts.push(bytes);
    return this;
  }

  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

export const OPEN: Acl[] = [{ perms: 31, scheme: 'world', id: 'anyone' }];

/** The bytes of a txn: header, record (written by `record`), and a TxnDigest. */
export function txnBytes(header: { clientId?: bigint; zxid: bigint; type: number }, record: (w: JuteWriter) => void, digest = true): Buffer {
  const w = new JuteWriter().long(header.clientId ?? 0x1234n).int(1).long(header.zxid).long(1_700_000_000_000n).int(header.type);
  record(w);
  if (digest) w.int(2).long(42n);
  return w.bytes();
}

/** A txn log file: header, one entry per txn, then `padding` zero bytes. */
export function txnLogFile(txns: readonly Buffer[], padding = 64): Buffer {
  const w = new JuteWriter().raw(Buffer.from('ZKLG', 'latin1')).int(2).long(0n);
  for (const txn of txns) w.long(adler32(txn)).buffer(txn).byte(0x42);
  return Buffer.concat([w.bytes(), Buffer.alloc(padding)]);
}

/** A create record (CreateTxn). */
export const create = (path: string, data = '', ephemeral = false) => (w: JuteWriter) => { w.string(path).buffer(Buffer.from(data)).acls(OPEN).bool(ephemeral).int(1); };
/** A delete record (DeleteTxn). */
export const del = (path: string) => (w: JuteWriter) => { w.string(path); };
/** A setData record (SetDataTxn). */
export const setData = (path: string, data: string) => (w: JuteWriter) => { w.string(path).buffer(Buffer.from(data)).int(1); };
