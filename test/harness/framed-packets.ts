/**
 * Row packets framed as the dump hands them to the encoder threads (drivers/mysql/shared/
 * framed-batch.ts), for tests that encode packets they made: the dump frames them off the socket.
 */
import { PACKET_HEADER_BYTES, type FramedBatch } from '../../drivers/mysql/shared/framed-batch';
import type { RowPacket } from '../../drivers/mysql/shared/row-packet';

/** `packets` (payloads) framed as a batch, in a new buffer (their headers' contents are not read). */
export function framePackets(packets: RowPacket[]): FramedBatch {
  let size = 0;
  for (const packet of packets) size += PACKET_HEADER_BYTES + packet.length;
  const framed = new Uint8Array(size);
  const lengths = new Uint32Array(packets.length);
  let at = 0;
  let bytes = 0;
  packets.forEach((packet, i) => {
    framed.set(packet, at + PACKET_HEADER_BYTES);
    at += PACKET_HEADER_BYTES + packet.length;
    lengths[i] = packet.length;
    bytes += packet.length;
  });
  return { packets: framed, lengths, count: packets.length, bytes };
}
