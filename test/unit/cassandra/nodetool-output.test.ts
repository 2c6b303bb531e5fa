/**
 * nodetool 2.1's output read into typed rows (drivers/cassandra/nodetool-output.ts), on output
 * captured from real nodes; cfstats also as 4.x prints it (its TableStatsPrinter).
 */
import {
  parseDescribeRing, parseListSnapshots, parseRing, parseStatus, parseTableStats, tokensByNode,
} from '../../../drivers/cassandra/nodetool-output';

const STATUS_ONE_NODE = `Datacenter: datacenter1
=======================
Status=Up/Down
|/ State=Normal/Leaving/Joining/Moving
--  Address    Load       Owns (effective)  Host ID                               Token                                    Rack
UN  127.0.0.1  69.38 KB   100.0%            ed8b4e09-215d-4b49-92f4-2ed68f902a7b  -9223372036854775808                     rack1
`;

const STATUS_THREE_NODES = `Note: Non-system keyspaces don't have the same replication settings, effective ownership information is meaningless
Datacenter: datacenter1
=======================
Status=Up/Down
|/ State=Normal/Leaving/Joining/Moving
--  Address    Load       Tokens  Owns (effective)  Host ID                               Rack
UN  127.0.0.1  49.74 KB   1       66.7%             9c4050bd-7fd8-4fc2-a2c4-1c2b3e93fc7a  rack1
DN  127.0.0.2  40.48 KB   256     ?                 5e84edf9-048b-4a47-b26a-af39d94d096f  rack1
UJ  127.0.0.3  ?          1       66.7%             20ff6aa2-d2ec-4185-a5df-de2ea3cc7108  rack2
`;

const RING = `
Datacenter: datacenter1
==========
Address    Rack        Status State   Load            Owns                Token                                       
                                                                          3074457345618258602                         
127.0.0.1  rack1       Up     Normal  49.74 KB        66.67%              -9223372036854775808                        
127.0.0.2  rack1       Up     Normal  40.48 KB        66.67%              -3074457345618258603                        
127.0.0.3  rack1       Down   Normal  49.75 KB        66.67%              3074457345618258602                         
127.0.0.1  rack1       Up     Normal  49.74 KB        66.67%              -5000                                       

`;

const DESCRIBE_RING = `Schema Version:cc14f39c-171a-395b-b940-28b88c245066
TokenRange: 
	TokenRange(start_token:-9223372036854775808, end_token:-3074457345618258603, endpoints:[127.0.0.2, 127.0.0.3], rpc_endpoints:[127.0.0.2, 127.0.0.3], endpoint_details:[EndpointDetails(host:127.0.0.2, datacenter:datacenter1, rack:rack1), EndpointDetails(host:127.0.0.3, datacenter:datacenter1, rack:rack1)])
	TokenRange(start_token:3074457345618258602, end_token:-9223372036854775808, endpoints:[127.0.0.1, 127.0.0.2], rpc_endpoints:[127.0.0.1, 127.0.0.2], endpoint_details:[EndpointDetails(host:127.0.0.1, datacenter:datacenter1, rack:rack1), EndpointDetails(host:127.0.0.2, datacenter:datacenter1, rack:rack1)])
`;

const LIST_SNAPSHOTS = `Snapshot Details: 
Snapshot name       Keyspace name                Column family name           True size          Size on disk       
tag1                shop                         items                        0 bytes            8.82 KB            
tag1                shop                         page_views                   1.5 MB             1.5 MB             

Total TrueDiskSpaceUsed: 1.5 MB

`;

/** 2.1.0 (abridged): a table whose one row was deleted (the tombstone in the memtable) and one never written to. */
const CFSTATS_21 = `Keyspace: k
\tRead Count: 0
\tRead Latency: NaN ms.
\tWrite Count: 1
\tWrite Latency: 0.228 ms.
\tPending Flushes: 0
\t\tTable: Mixed
\t\tSSTable count: 0
\t\tSpace used (live), bytes: 0
\t\tSpace used (total), bytes: 0
\t\tSpace used by snapshots (total), bytes: 0
\t\tSSTable Compression Ratio: 0.0
\t\tMemtable cell count: 0
\t\tMemtable data size, bytes: 0
\t\tMemtable switch count: 0
\t\tLocal read count: 0
\t\tLocal read latency: NaN ms
\t\tLocal write count: 0
\t\tLocal write latency: NaN ms
\t\tPending flushes: 0
\t\tBloom filter false positives: 0
\t\tAverage tombstones per slice (last five minutes): 0.0

\t\tTable: t
\t\tSSTable count: 0
\t\tSpace used (live), bytes: 0
\t\tSSTable Compression Ratio: 0.0
\t\tMemtable cell count: 1
\t\tMemtable data size, bytes: 0
\t\tMemtable switch count: 0
\t\tPending flushes: 0
\t\tAverage tombstones per slice (last five minutes): 0.0

----------------
`;

/** 4.x: \`Keyspace : \`, an \`Old SSTable count\`, an index listed as a table of its own. */
const CFSTATS_4 = `Total number of tables: 2
----------------
Keyspace : shop
\tRead Count: 4
\tRead Latency: 0.1 ms
\tWrite Count: 9
\tWrite Latency: 0.02 ms
\tPending Flushes: 0
\t\tTable: items
\t\tSSTable count: 2
\t\tOld SSTable count: 0
\t\tSpace used (live): 10240
\t\tMemtable cell count: 0
\t\tMemtable data size: 0
\t\tMemtable switch count: 3
\t\tPending flushes: 1
\t\tPercent repaired: 0.0

\t\tTable (index): items.items_name_idx
\t\tSSTable count: 7
\t\tOld SSTable count: 0
\t\tMemtable cell count: 5
\t\tPending flushes: 0

----------------
`;

describe('nodetool 2.1 output', () => {
  it('status: one node (the Token column) and several (the Tokens count), unknown ownership and states', () => {
    expect(parseStatus(STATUS_ONE_NODE)).toEqual([{
      dataCenter: 'datacenter1', status: 'up', state: 'normal', address: '127.0.0.1', load: '69.38 KB', tokenCount: 1,
      token: '-9223372036854775808', owns: 100, hostId: 'ed8b4e09-215d-4b49-92f4-2ed68f902a7b', rack: 'rack1',
    }]);
    expect(parseStatus(STATUS_THREE_NODES).map((n) => [n.address, n.status, n.state, n.load, n.tokenCount, n.owns, n.rack])).toEqual([
      ['127.0.0.1', 'up', 'normal', '49.74 KB', 1, 66.7, 'rack1'],
      ['127.0.0.2', 'down', 'normal', '40.48 KB', 256, undefined, 'rack1'],
      ['127.0.0.3', 'up', 'joining', '?', 1, 66.7, 'rack2'],
    ]);
  });

  it("ring: every token and its node, each node's tokens in ring order", () => {
    const ring = parseRing(RING);
    expect(ring.map((e) => [e.address, e.status, e.token])).toEqual([
      ['127.0.0.1', 'up', '-9223372036854775808'],
      ['127.0.0.2', 'up', '-3074457345618258603'],
      ['127.0.0.3', 'down', '3074457345618258602'],
      ['127.0.0.1', 'up', '-5000'],
    ]);
    expect(Object.fromEntries(tokensByNode(ring))).toEqual({
      '127.0.0.1': ['-9223372036854775808', '-5000'],
      '127.0.0.2': ['-3074457345618258603'],
      '127.0.0.3': ['3074457345618258602'],
    });
  });

  it('describering: each range with its replicas and where they are', () => {
    const ranges = parseDescribeRing(DESCRIBE_RING);
    expect(ranges).toHaveLength(2);
    expect(ranges[1]).toEqual({
      start: '3074457345618258602', end: '-9223372036854775808', endpoints: ['127.0.0.1', '127.0.0.2'],
      details: [{ host: '127.0.0.1', dataCenter: 'datacenter1', rack: 'rack1' }, { host: '127.0.0.2', dataCenter: 'datacenter1', rack: 'rack1' }],
    });
  });

  it('listsnapshots: a row per table, none for "There are no snapshots"', () => {
    expect(parseListSnapshots(LIST_SNAPSHOTS)).toEqual([
      { tag: 'tag1', keyspace: 'shop', table: 'items', trueSize: '0 bytes', sizeOnDisk: '8.82 KB' },
      { tag: 'tag1', keyspace: 'shop', table: 'page_views', trueSize: '1.5 MB', sizeOnDisk: '1.5 MB' },
    ]);
    expect(parseListSnapshots('Snapshot Details: \nThere are no snapshots')).toEqual([]);
  });

  it('cfstats: each table\'s SSTable and memtable counts and pending flushes, in 2.1\'s format and 4.x\'s; an index is not its table', () => {
    expect(parseTableStats(CFSTATS_21)).toEqual([
      { keyspace: 'k', table: 'Mixed', sstables: 0, memtableCells: 0, pendingFlushes: 0 },
      { keyspace: 'k', table: 't', sstables: 0, memtableCells: 1, pendingFlushes: 0 },
    ]);
    expect(parseTableStats(CFSTATS_4)).toEqual([{ keyspace: 'shop', table: 'items', sstables: 2, memtableCells: 0, pendingFlushes: 1 }]);
  });

  it('cfstats: a table without an SSTable count or a memtable cell count is left out (nothing can be told of it)', () => {
    expect(parseTableStats(CFSTATS_21.replace('\t\tMemtable cell count: 1\n', ''))).toEqual([
      { keyspace: 'k', table: 'Mixed', sstables: 0, memtableCells: 0, pendingFlushes: 0 },
    ]);
    expect(parseTableStats('nodetool: Unknown column families: [nope] in keyspace: k')).toEqual([]);
  });
});
