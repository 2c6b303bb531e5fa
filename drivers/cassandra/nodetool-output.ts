/**
 * Reading what nodetool 2.1 prints (`status`, `ring`, `describering`, `listsnapshots`, and
 * `cfstats` as 2.1 to 4.x print it): pure parsers, so they are tested on captured output. Lines that are not rows (headers, notes such as
 * "Non-system keyspaces don't have the same replication settings") are skipped.
 */
import { compareTokens } from './tokens';

/** One node as `nodetool status` lists it. */
export interface StatusNode {
  dataCenter: string;
  status: 'up' | 'down';
  state: 'normal' | 'leaving' | 'joining' | 'moving';
  address: string;
  /** As printed, e.g. `49.74 KB`, or `?`. */
  load: string;
  /** How many tokens it has (status prints the token itself when every node has one). */
  tokenCount: number;
  /** Its token, when status printed it (one token per node). */
  token?: string;
  /** `Owns (effective)` in percent; undefined when printed as `?`. */
  owns?: number;
  hostId: string;
  rack: string;
}

const STATUS = { U: 'up', D: 'down' } as const;
const STATE = { N: 'normal', L: 'leaving', J: 'joining', M: 'moving' } as const;

/** A status row with the `Tokens` column (a count): `UN  127.0.0.1  49.74 KB  1  66.7%  <host id>  rack1`. */
const STATUS_WITH_COUNT = /^([UD])([NLJM])\s+(\S+)\s+(.+?)\s+(\d+)\s+(\?|[\d.]+%)\s+(\S+)\s+(\S+)\s*$/;
/** A status row with the `Token` column: `UN  127.0.0.1  49.74 KB  100.0%  <host id>  -9223372036854775808  rack1`. */
const STATUS_WITH_TOKEN = /^([UD])([NLJM])\s+(\S+)\s+(.+?)\s+(\?|[\d.]+%)\s+(\S+)\s+(-?\d+)\s+(\S+)\s*$/;
const DATA_CENTER = /^Datacenter:\s*(.+?)\s*$/;

/** Each line of `output` that is not a `Datacenter:` header, with the data center it is listed under. */
function linesByDataCenter(output: string): Array<{ dataCenter: string; line: string }> {
  let dataCenter = '';
  return output.split('\n').flatMap((line) => {
    const dc = DATA_CENTER.exec(line);
    if (dc) { dataCenter = dc[1]; return []; }
    return [{ dataCenter, line }];
  });
}

function percent(text: string): number | undefined {
  return text === '?' ? undefined : Number(text.replace('%', ''));
}

/** The nodes `nodetool status` lists, in its order. */
export function parseStatus(output: string): StatusNode[] {
  const nodes: StatusNode[] = [];
  for (const { dataCenter, line } of linesByDataCenter(output)) {
    const withCount = STATUS_WITH_COUNT.exec(line);
    if (withCount) {
      const [, s, st, address, load, count, owns, hostId, rack] = withCount;
      nodes.push({ dataCenter, status: STATUS[s as 'U'], state: STATE[st as 'N'], address, load, tokenCount: Number(count), owns: percent(owns), hostId, rack });
      continue;
    }
    const withToken = STATUS_WITH_TOKEN.exec(line);
    if (withToken) {
      const [, s, st, address, load, owns, hostId, token, rack] = withToken;
      nodes.push({ dataCenter, status: STATUS[s as 'U'], state: STATE[st as 'N'], address, load, tokenCount: 1, token, owns: percent(owns), hostId, rack });
    }
  }
  return nodes;
}

/** One token of the ring as `nodetool ring` lists it: the node owning the range that ends at it. */
export interface RingEntry {
  dataCenter: string;
  address: string;
  rack: string;
  status: 'up' | 'down' | 'unknown';
  state: 'normal' | 'leaving' | 'joining' | 'moving';
  token: string;
}

/** `127.0.0.1  rack1  Up  Normal  49.74 KB  66.67%  -9223372036854775808` */
const RING_ROW = /^(\S+)\s+(\S+)\s+(Up|Down|\?)\s+(Normal|Leaving|Joining|Moving)\s+.+?\s+(-?\d+)\s*$/;

/** Every token of the ring, in nodetool's order (ascending per data center). */
export function parseRing(output: string): RingEntry[] {
  const entries: RingEntry[] = [];
  for (const { dataCenter, line } of linesByDataCenter(output)) {
    const row = RING_ROW.exec(line);
    if (!row) continue;
    const [, address, rack, status, state, token] = row;
    entries.push({
      dataCenter, address, rack, token,
      status: status === 'Up' ? 'up' : status === 'Down' ? 'down' : 'unknown',
      state: state.toLowerCase() as RingEntry['state'],
    });
  }
  return entries;
}

/** Each node's tokens (sorted as numbers), from a parsed ring. */
export function tokensByNode(ring: readonly RingEntry[]): Map<string, string[]> {
  const byNode = new Map<string, string[]>();
  for (const entry of ring) byNode.set(entry.address, [...(byNode.get(entry.address) ?? []), entry.token]);
  for (const tokens of byNode.values()) tokens.sort(compareTokens);
  return byNode;
}

/** A token range of a keyspace and its replicas, as `nodetool describering <ks>` prints it. */
export interface TokenRange {
  /** Exclusive. */
  start: string;
  /** Inclusive. */
  end: string;
  /** Replica addresses, in Cassandra's order. */
  endpoints: string[];
  /** Where each replica is. */
  details: Array<{ host: string; dataCenter: string; rack: string }>;
}

const RANGE = /TokenRange\(start_token:(-?\d+), end_token:(-?\d+), endpoints:\[([^\]]*)\].*?endpoint_details:\[(.*)\]\)\s*$/;
const DETAIL = /EndpointDetails\(host:([^,]+), datacenter:([^,]+), rack:([^)]+)\)/g;

function list(text: string): string[] {
  return text.split(',').map((s) => s.trim()).filter(Boolean);
}

/** The ranges `nodetool describering` lists. */
export function parseDescribeRing(output: string): TokenRange[] {
  const ranges: TokenRange[] = [];
  for (const line of output.split('\n')) {
    const match = RANGE.exec(line);
    if (!match) continue;
    const [, start, end, endpoints, details] = match;
    ranges.push({
      start, end, endpoints: list(endpoints),
      details: [...details.matchAll(DETAIL)].map(([, host, dataCenter, rack]) => ({ host, dataCenter, rack })),
    });
  }
  return ranges;
}

/** One table's part of a snapshot, as `nodetool listsnapshots` lists it. */
export interface SnapshotEntry {
  tag: string;
  keyspace: string;
  table: string;
  /** As printed, e.g. `0 bytes`. */
  trueSize: string;
  sizeOnDisk: string;
}

/** `tag1  shop  items  0 bytes  8.82 KB` (sizes are a number and a unit). */
const SNAPSHOT_ROW = /^(\S+)\s+(\S+)\s+(\S+)\s+([\d.]+ \S+)\s+([\d.]+ \S+)\s*$/;

/** The snapshots `nodetool listsnapshots` lists (none: `There are no snapshots`). */
export function parseListSnapshots(output: string): SnapshotEntry[] {
  return output.split('\n').flatMap((line) => {
    const match = SNAPSHOT_ROW.exec(line);
    if (!match || match[1] === 'Snapshot') return [];
    const [, tag, keyspace, table, trueSize, sizeOnDisk] = match;
    return [{ tag, keyspace, table, trueSize, sizeOnDisk }];
  });
}

/** What `nodetool cfstats` says of one table on one node: what it holds besides what a read returns. */
export interface TableStats {
  keyspace: string;
  table: string;
  /** Live SSTables. */
  sstables: number;
  /** Writes (cells, row and partition deletions) in the current memtable. */
  memtableCells: number;
  /** Memtables switched out and not yet written (0 when not printed). */
  pendingFlushes: number;
}

/** `Keyspace: ks` (2.1, 2.2) or `Keyspace : ks` (3.x on). */
const STATS_KEYSPACE = /^Keyspace\s*:\s*(.+?)\s*$/;
/** `Table: t`, or `Table (index): t.i` (3.x on: an index's stats, not the table's). */
const STATS_TABLE = /^\s+Table( \(index\))?:\s*(.+?)\s*$/;
const STATS_FIELDS = {
  sstables: /^\s+SSTable count:\s*(\d+)\s*$/,
  memtableCells: /^\s+Memtable cell count:\s*(\d+)\s*$/,
  pendingFlushes: /^\s+Pending flushes:\s*(\d+)\s*$/,
} as const;

/**
 * The tables `nodetool cfstats` (`tablestats`) lists, with their SSTable and memtable counts; a
 * table whose SSTable count or memtable cell count nodetool did not print is left out (the caller
 * cannot tell what it holds).
 */
export function parseTableStats(output: string): TableStats[] {
  const tables: TableStats[] = [];
  let keyspace = '';
  let current: Partial<TableStats> | undefined;
  const done = () => {
    if (current?.sstables !== undefined && current.memtableCells !== undefined) tables.push({ pendingFlushes: 0, ...current } as TableStats);
    current = undefined;
  };
  for (const line of output.split('\n')) {
    const ks = STATS_KEYSPACE.exec(line);
    if (ks) { done(); keyspace = ks[1]; continue; }
    const table = STATS_TABLE.exec(line);
    if (table) { done(); if (!table[1]) current = { keyspace, table: table[2] }; continue; }
    if (!current) continue;
    for (const [field, pattern] of Object.entries(STATS_FIELDS)) {
      const value = pattern.exec(line);
      if (value) current[field as keyof typeof STATS_FIELDS] = Number(value[1]);
    }
  }
  done();
  return tables;
}
