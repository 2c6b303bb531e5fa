/**
 * The dump's row format: MySQL's `LOAD DATA` text format with its defaults (fields separated by
 * TAB, lines by LF, `\` escapes, `\N` for NULL), over the raw bytes of the text protocol. Values are
 * never interpreted: what the server sent is what is written and what `LOAD DATA ... CHARACTER SET
 * binary` puts back, byte for byte, whatever the column type or character set.
 */
import type { FieldPacket } from 'mysql2';
import { packRow, type RowPacket } from './row-packet';
import { kernel } from './row-kernel';

/** One row as the server sent it: raw bytes per column, null for SQL NULL. */
export type RawRow = Array<Buffer | null>;

const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const BACKSLASH = 0x5c;
const NUL = 0x00;


/**
 * mysql2 `typeCast` that returns every value as its raw bytes (null for NULL): no number, date or
 * charset conversion. Use with `rowsAsArray: true` on a data connection (connection.ts: binary results).
 */
export function rawTypeCast(field: { buffer(): Buffer | null }): Buffer | null {
  return field.buffer();
}

/** Type of the `typeCast` option, for passing {@link rawTypeCast} to mysql2. */
export type RawTypeCast = (field: FieldPacket & { buffer(): Buffer | null }, next: () => unknown) => unknown;

/** One row as a line of the dump, LF-terminated (the dump itself encodes packets: {@link encodePackets}). */
export function encodeRow(row: RawRow): Buffer {
  return encodePackets([packRow(row)]);
}

/**
 * Row packets `[start, end)` (see row-packet.ts) as consecutive dump lines, straight from the
 * packets in one pass (the dump's hot loop: no per-column Buffer).
 */
export function encodePackets(packets: RowPacket[], start = 0, end = packets.length): Buffer {
  let size = 0;
  for (let r = start; r < end; r += 1) size += packets[r].length;
  const out = Buffer.allocUnsafe(kernel.maxLineBytes(size, end - start));
  let o = 0;
  for (let r = start; r < end; r += 1) o = kernel.encodePacket(packets[r], 0, packets[r].length, out, o);
  return out.subarray(0, o);
}

function unescapeField(field: Buffer): Buffer | null {
  if (field.length === 2 && field[0] === BACKSLASH && field[1] === 0x4e) return null; // \N
  if (field.indexOf(BACKSLASH) === -1) return field;
  const out = Buffer.allocUnsafe(field.length);
  let offset = 0;
  for (let i = 0; i < field.length; i += 1) {
    const byte = field[i];
    if (byte !== BACKSLASH || i === field.length - 1) {
      out[offset++] = byte;
      continue;
    }
    const next = field[++i];
    out[offset++] = next === 0x74 ? TAB : next === 0x6e ? LF : next === 0x72 ? CR : next === 0x30 ? NUL : next === 0x5a ? 0x1a : next === 0x62 ? 0x08 : next;
  }
  return out.subarray(0, offset);
}

/** Splits one line (without its LF) back into the row it encodes. */
export function decodeLine(line: Buffer): RawRow {
  const row: RawRow = [];
  let start = 0;
  for (;;) {
    const tab = line.indexOf(TAB, start);
    if (tab === -1) {
      row.push(unescapeField(line.subarray(start)));
      return row;
    }
    row.push(unescapeField(line.subarray(start, tab)));
    start = tab + 1;
  }
}

/** The `LOAD DATA` clauses that read this format exactly. */
export const LOAD_DATA_FORMAT =
  "CHARACTER SET binary FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n'";
