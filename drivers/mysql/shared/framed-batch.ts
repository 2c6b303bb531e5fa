/**
 * A batch of row packets as the encoder threads get it (encode-pool.ts): the packets as the
 * server framed them on the wire, each after its 4-byte protocol header, back to back in one
 * transferable buffer, and their payload lengths. A run of rows that arrived in one socket read
 * is copied into it whole (result-rows.ts), headers and all, rather than row by row.
 */
import type { RowPacket } from './row-packet';

/** The protocol header before each packet: a 3-byte payload length and a sequence id. */
export const PACKET_HEADER_BYTES = 4;

export interface FramedBatch {
  /** `count` packets, each after its header, back to back; its buffer is the batch's alone (it is transferred). */
  packets: Uint8Array<ArrayBuffer>;
  /** The payload length of each packet (its header not counted). */
  lengths: Uint32Array<ArrayBuffer>;
  count: number;
  /** The payload bytes of all the packets: what batch and chunk sizes are counted in. */
  bytes: number;
}

/** The packets (payloads) of `batch`, in order: views of its buffer. */
export function* packetsOf(batch: FramedBatch): Generator<RowPacket> {
  const buffer = Buffer.from(batch.packets.buffer, batch.packets.byteOffset, batch.packets.length);
  let at = 0;
  for (let i = 0; i < batch.count; i += 1) {
    at += PACKET_HEADER_BYTES;
    yield buffer.subarray(at, at + batch.lengths[i]);
    at += batch.lengths[i];
  }
}
