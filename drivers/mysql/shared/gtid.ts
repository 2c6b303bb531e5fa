/**
 * MariaDB GTID positions (`domain-server-sequence`, comma separated, one per domain) as the
 * driver needs them: parse, merge (the later sequence per domain wins) and "does this position
 * cover that GTID". A position holds at most one GTID per replication domain.
 */
import { PermanentError } from '../../../core/errors';

/** One MariaDB GTID. */
export interface Gtid {
  domain: number;
  server: number;
  sequence: number;
}

const GTID = /^(\d+)-(\d+)-(\d+)$/;

/** Parses `0-1-42`. @throws PermanentError `INVALID_GTID` */
export function parseGtid(text: string): Gtid {
  const match = GTID.exec(text.trim());
  if (!match) throw new PermanentError(`'${text}' is not a MariaDB GTID (domain-server-sequence)`, { code: 'INVALID_GTID', engine: 'mysql' });
  return { domain: Number(match[1]), server: Number(match[2]), sequence: Number(match[3]) };
}

/** Formats a GTID as `domain-server-sequence`. */
export function formatGtid(gtid: Gtid): string {
  return `${gtid.domain}-${gtid.server}-${gtid.sequence}`;
}

/** Parses a position (`0-1-42,1-2-7`, empty = none) into one GTID per domain. */
export function parseGtidPosition(text: string | undefined): Map<number, Gtid> {
  const position = new Map<number, Gtid>();
  for (const part of (text ?? '').split(',').map((p) => p.trim()).filter(Boolean)) {
    const gtid = parseGtid(part);
    const existing = position.get(gtid.domain);
    if (!existing || existing.sequence < gtid.sequence) position.set(gtid.domain, gtid);
  }
  return position;
}

/**
 * A recorded position as MariaDB GTIDs, one per domain; none for a MySQL position (`uuid:ranges`),
 * which has no MariaDB domains.
 */
export function mariadbPosition(text: string | undefined): Map<number, Gtid> {
  try {
    return parseGtidPosition(text);
  } catch {
    return new Map();
  }
}

/** Formats a position, domains in ascending order. */
export function formatGtidPosition(position: Map<number, Gtid>): string {
  return [...position.values()].sort((a, b) => a.domain - b.domain).map(formatGtid).join(',');
}

/** Merges positions: per domain, the GTID with the highest sequence number. */
export function mergeGtidPositions(...positions: Array<string | undefined>): string {
  const merged = new Map<number, Gtid>();
  for (const position of positions) {
    for (const gtid of parseGtidPosition(position).values()) {
      const existing = merged.get(gtid.domain);
      if (!existing || existing.sequence < gtid.sequence) merged.set(gtid.domain, gtid);
    }
  }
  return formatGtidPosition(merged);
}

/** True when `position` has reached `gtid` (same domain, sequence at least as high). */
export function positionCovers(position: string | undefined, gtid: string): boolean {
  const wanted = parseGtid(gtid);
  const have = parseGtidPosition(position).get(wanted.domain);
  return have !== undefined && have.sequence >= wanted.sequence;
}
