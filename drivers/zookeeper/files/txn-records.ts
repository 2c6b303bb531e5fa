/**
 * The transactions of a txn log, as ZooKeeper 3.8 writes them (Util.marshallTxnEntry): a TxnHeader,
 * the record of its type (zookeeper.jute, module org.apache.zookeeper.txn), then, since 3.6 and
 * when digests are on, a TxnDigest. Type numbers are ZooDefs.OpCode's; which record goes with which
 * type is SerializeUtils.deserializeTxn's (and DataTree.processTxn's for the parts of a multi).
 */
import type { Acl } from '../tree-digest';
import { JuteFormatError, JuteReader, JuteUnderflow } from './jute-reader';

/** ZooDefs.OpCode, for the types a txn log holds. */
export const OpCode = {
  create: 1,
  delete: 2,
  setData: 5,
  setACL: 7,
  check: 13,
  multi: 14,
  create2: 15,
  reconfig: 16,
  createContainer: 19,
  deleteContainer: 20,
  createTTL: 21,
  createSession: -10,
  closeSession: -11,
  error: -1,
} as const;

/** TxnHeader. */
export interface TxnHeader {
  /** The session that made the request. */
  clientId: bigint;
  cxid: number;
  zxid: bigint;
  /** Milliseconds since the epoch. */
  time: bigint;
  type: number;
}

/** TxnDigest: the server's digest of the whole tree after this txn (3.6+, when digests are on). */
export interface TxnDigest {
  version: number;
  treeDigest: bigint;
}

/** A txn's record, by the OpCode it was written under. */
export type TxnRecord =
  | { op: 'create' | 'create2'; path: string; data: Buffer; acl: Acl[]; ephemeral: boolean; parentCVersion: number }
  | { op: 'createContainer'; path: string; data: Buffer; acl: Acl[]; parentCVersion: number }
  | { op: 'createTTL'; path: string; data: Buffer; acl: Acl[]; parentCVersion: number; ttl: bigint }
  | { op: 'delete' | 'deleteContainer'; path: string }
  | { op: 'setData' | 'reconfig'; path: string; data: Buffer; version: number }
  | { op: 'setACL'; path: string; acl: Acl[]; version: number }
  | { op: 'check'; path: string; version: number }
  | { op: 'createSession'; timeOut: number }
  /** `paths2Delete` is absent when the server wrote no CloseSessionTxn (zookeeper.closeSessionTxn.enabled=false, or before 3.6). */
  | { op: 'closeSession'; paths2Delete?: string[] }
  | { op: 'error'; err: number }
  | { op: 'multi'; txns: TxnRecord[] };

/** One txn: its header, record and digest. */
export interface Txn {
  header: TxnHeader;
  record: TxnRecord;
  digest?: TxnDigest;
}

/** A txn type this reader does not know (a newer server's): the log cannot be replayed. */
export class UnsupportedTxnType extends Error {
  constructor(readonly type: number) {
    super(`unsupported txn type ${type}`);
    this.name = 'UnsupportedTxnType';
  }
}

function readHeader(r: JuteReader): TxnHeader {
  return { clientId: r.readLong(), cxid: r.readInt(), zxid: r.readLong(), time: r.readLong(), type: r.readInt() };
}

const EMPTY = Buffer.alloc(0);
/** A record's data, as a view of the txn's bytes (parseTxn's callers hash it or keep it). */
const data = (r: JuteReader): Buffer => r.readBuffer() ?? EMPTY;

/** The record of `type` (CreateTxn, DeleteTxn, ...), for a top-level txn or a part of a multi. */
function readRecord(r: JuteReader, type: number): TxnRecord {
  switch (type) {
    case OpCode.create:
    case OpCode.create2:
      return {
        op: type === OpCode.create ? 'create' : 'create2',
        path: r.readString('path'), data: data(r), acl: r.readAclVector(), ephemeral: r.readBool(), parentCVersion: r.readInt(),
      };
    case OpCode.createContainer:
      return { op: 'createContainer', path: r.readString('path'), data: data(r), acl: r.readAclVector(), parentCVersion: r.readInt() };
    case OpCode.createTTL:
      return { op: 'createTTL', path: r.readString('path'), data: data(r), acl: r.readAclVector(), parentCVersion: r.readInt(), ttl: r.readLong() };
    case OpCode.delete:
    case OpCode.deleteContainer:
      return { op: type === OpCode.delete ? 'delete' : 'deleteContainer', path: r.readString('path') };
    case OpCode.setData:
    case OpCode.reconfig:
      return { op: type === OpCode.setData ? 'setData' : 'reconfig', path: r.readString('path'), data: data(r), version: r.readInt() };
    case OpCode.setACL:
      return { op: 'setACL', path: r.readString('path'), acl: r.readAclVector(), version: r.readInt() };
    case OpCode.check:
      return { op: 'check', path: r.readString('path'), version: r.readInt() };
    case OpCode.createSession:
      return { op: 'createSession', timeOut: r.readInt() };
    case OpCode.closeSession:
      return { op: 'closeSession', paths2Delete: (r.readVector((v) => v.readString('path')) ?? []) };
    case OpCode.error:
      return { op: 'error', err: r.readInt() };
    case OpCode.multi: {
      const parts = r.readVector((v) => ({ type: v.readInt(), bytes: v.readBuffer() ?? EMPTY })) ?? [];
      return { op: 'multi', txns: parts.map((part) => readRecord(new JuteReader(part.bytes), part.type)) };
    }
    default:
      throw new UnsupportedTxnType(type);
  }
}

/** CreateTxnV0 (before parentCVersion existed): read as a create whose parentCVersion is -1, as SerializeUtils does. */
function readCreateV0(r: JuteReader): TxnRecord {
  return { op: 'create', path: r.readString('path'), data: data(r), acl: r.readAclVector(), ephemeral: r.readBool(), parentCVersion: -1 };
}

function readDigest(r: JuteReader): TxnDigest | undefined {
  if (r.remaining < 12) return undefined;
  return { version: r.readInt(), treeDigest: r.readLong() };
}

/**
 * Parses the bytes of one txn (what its crc covers).
 * @throws JuteFormatError when they are not a txn of their type; UnsupportedTxnType for an unknown type
 */
export function parseTxn(bytes: Buffer): Txn {
  const r = new JuteReader(bytes);
  try {
    const header = readHeader(r);
    const start = r.offset;
    let record: TxnRecord;
    try {
      record = readRecord(r, header.type);
      // A closeSession written without its record but with a digest can parse as a short vector; it must end the bytes, or leave exactly a digest.
      if (header.type === OpCode.closeSession && r.remaining !== 0 && r.remaining !== 12) throw new JuteUnderflow(bytes.length + 1);
    } catch (error) {
      if (!(error instanceof JuteUnderflow || error instanceof JuteFormatError)) throw error;
      r.offset = start;
      if (header.type === OpCode.create) record = readCreateV0(r);
      else if (header.type === OpCode.closeSession) record = { op: 'closeSession' };
      else throw error;
    }
    return { header, record, digest: readDigest(r) };
  } catch (error) {
    if (error instanceof JuteUnderflow) throw new JuteFormatError(`txn record ends early (${bytes.length} bytes)`, 0);
    throw error;
  }
}
