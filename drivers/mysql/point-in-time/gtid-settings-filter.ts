/**
 * Drops from the binlog tool's output the session settings that give each replayed transaction
 * its source's GTID (`/*M!100001 SET @@session.gtid_seq_no=12*\/\/*!*\/;`, with `gtid_domain_id`
 * and `server_id`), for a replay after a logical restore: the target is another server with a
 * GTID history of its own, not a copy of the source. Given the source's numbers it refuses the
 * replay under `gtid_strict_mode` once its own sequence is higher, and otherwise moves its GTID
 * position back; without them it logs the replayed transactions under its own GTIDs.
 *
 * The settings are whole lines right after a GTID event's header; lines of any other text pass
 * unchanged (the output is copied by byte ranges, not decoded).
 */
import { Transform, type TransformCallback } from 'node:stream';

const SETTING = /^\/\*M!100001 SET @@session\.(gtid_seq_no|gtid_domain_id|server_id)=\d+\*\/\/\*!\*\/;\r?$/;
/** The line before a setting: the GTID event's header, or the setting before it (all of them follow the header). */
const AFTER_GTID_HEADER = /^(#\d{6} .*\tGTID \d+-\d+-\d+|\/\*M!\d+ SET @@session\.\w+=\w+\*\/\/\*!\*\/;)/;
/** Every setting line starts so; a line that does not cannot be one. */
const START = Buffer.from('/*M!100001 SET @@session.');
/** Longer lines are neither settings nor GTID headers: a partial line at a chunk's end is held back only up to this. */
const LONGEST = 256;

export class GtidSettingsFilter extends Transform {
  private held: Buffer = Buffer.alloc(0);
  /** Whether the next byte starts a line (the last byte passed on was a line break). */
  private lineStart = true;
  /** The last whole line passed on (its first bytes): a setting counts only right after a GTID event's header or another setting. */
  private lastLine = '';

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const data = this.held.length > 0 ? Buffer.concat([this.held, chunk]) : chunk;
    const lastNewline = data.lastIndexOf(0x0a);
    // A short partial last line waits for the next chunk: it may be a setting, or the header one follows.
    const holdTail = data.length - (lastNewline + 1) < LONGEST;
    const upTo = holdTail ? lastNewline + 1 : data.length;
    this.held = Buffer.from(data.subarray(upTo));
    this.emitWithout(data.subarray(0, upTo));
    callback();
  }

  override _flush(callback: TransformCallback): void {
    this.emitWithout(this.held);
    callback();
  }

  /** Pushes `data` less its setting lines (those that start at a line's start). */
  private emitWithout(data: Buffer): void {
    let from = 0;
    let search = 0;
    for (;;) {
      const at = data.indexOf(START, search);
      if (at === -1) break;
      search = at + 1;
      if (at > 0 ? data[at - 1] !== 0x0a : !this.lineStart) continue;
      const end = data.indexOf(0x0a, at);
      const lineEnd = end === -1 ? data.length : end;
      if (!SETTING.test(data.toString('latin1', at, lineEnd))) continue;
      const before = at > 0 ? data.toString('latin1', data.lastIndexOf(0x0a, at - 2) + 1, at - 1) : this.lastLine;
      if (!AFTER_GTID_HEADER.test(before)) continue; // the same text inside a statement's literal
      if (at > from) this.push(data.subarray(from, at));
      from = end === -1 ? data.length : end + 1;
      search = from;
    }
    if (from < data.length) this.push(data.subarray(from));
    if (data.length > 0) this.lineStart = data[data.length - 1] === 0x0a;
    if (this.lineStart && data.length > 1) {
      const start = data.lastIndexOf(0x0a, data.length - 2) + 1;
      this.lastLine = data.toString('latin1', start, Math.min(data.length - 1, start + 200));
    }
  }
}
