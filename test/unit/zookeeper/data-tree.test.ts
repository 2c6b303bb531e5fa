import { DataTree } from '../../../drivers/zookeeper/files/data-tree';
import type { Txn, TxnRecord } from '../../../drivers/zookeeper/files/txn-records';
import { dataSha256, TreeDigest } from '../../../drivers/zookeeper/tree-digest';

const OPEN = [{ perms: 31, scheme: 'world', id: 'anyone' }];
const SESSION = 0x1000abcn;
const txn = (zxid: bigint, record: TxnRecord, clientId = SESSION): Txn => ({ header: { clientId, cxid: 0, zxid, time: 0n, type: 0 }, record });
const create = (path: string, data = '', ephemeral = false): TxnRecord => ({ op: 'create', path, data: Buffer.from(data), acl: OPEN, ephemeral, parentCVersion: 1 });

function rootTree(): DataTree {
  const tree = new DataTree();
  tree.addSnapshotNode('/', { data: Buffer.alloc(0), acl: OPEN, ephemeralOwner: 0n });
  tree.addSnapshotNode('/zookeeper', { data: Buffer.alloc(0), acl: OPEN, ephemeralOwner: 0n });
  return tree;
}

describe('DataTree replay', () => {
  it('skips a create of an existing node and a delete or setData of a missing one, as a fuzzy snapshot needs', () => {
    // Prepare
    const tree = rootTree();
    tree.addSnapshotNode('/a', { data: Buffer.from('later'), acl: OPEN, ephemeralOwner: 0n });

    // Act
    tree.apply(txn(1n, create('/a', 'earlier')));
    tree.apply(txn(2n, { op: 'delete', path: '/gone' }));
    tree.apply(txn(3n, { op: 'setData', path: '/gone', data: Buffer.from('x'), version: 1 }));
    tree.apply(txn(4n, create('/no/parent')));

    // Assess
    expect(tree.nodes.get('/a')?.dataSha256).toEqual(dataSha256(Buffer.from('later')));
    expect([...tree.nodes.keys()].sort()).toEqual(['/', '/a', '/zookeeper']);
  });

  it('applies a multi whole, or nothing when one part failed', () => {
    // Prepare
    const tree = rootTree();

    // Act
    tree.apply(txn(1n, { op: 'multi', txns: [create('/m1'), create('/m1/x'), { op: 'check', path: '/m1', version: 0 }] }));
    tree.apply(txn(2n, { op: 'multi', txns: [create('/m2'), { op: 'error', err: -101 }] }));

    // Assess
    expect(tree.nodes.has('/m1/x')).toBe(true);
    expect(tree.nodes.has('/m2')).toBe(false);
  });

  it("deletes a closed session's ephemerals, named in the txn or not", () => {
    // Prepare
    const tree = rootTree();
    tree.apply(txn(1n, create('/e1', '', true)));
    tree.apply(txn(2n, create('/e2', '', true)));
    tree.apply(txn(3n, create('/other', '', true), 0x999n));

    // Act
    tree.apply(txn(4n, { op: 'closeSession', paths2Delete: ['/e1'] }));

    // Assess
    expect([...tree.nodes.keys()].sort()).toEqual(['/', '/other', '/zookeeper']);
  });

  it('summarises persistent, container and TTL nodes alike with the root, leaving out ephemerals and /zookeeper', async () => {
    // Prepare
    const tree = rootTree();
    tree.apply(txn(1n, create('/p', 'p')));
    tree.apply(txn(2n, { op: 'createContainer', path: '/c', data: Buffer.from('c'), acl: OPEN, parentCVersion: 1 }));
    tree.apply(txn(3n, { op: 'createTTL', path: '/t', data: Buffer.from('t'), acl: OPEN, parentCVersion: 1, ttl: 5000n }));
    tree.apply(txn(4n, create('/e', '', true)));
    tree.apply(txn(5n, { op: 'setACL', path: '/p', acl: [{ perms: 1, scheme: 'world', id: 'anyone' }], version: 1 }));
    const expected = new TreeDigest();
    expected.add({ path: '/', data: Buffer.alloc(0), acl: OPEN });
    expected.add({ path: '/p', data: Buffer.from('p'), acl: [{ perms: 1, scheme: 'world', id: 'anyone' }] });
    expected.add({ path: '/c', data: Buffer.from('c'), acl: OPEN });
    expected.add({ path: '/t', data: Buffer.from('t'), acl: OPEN });

    // Act + Assess
    expect(await tree.summary()).toEqual(expected.summary());
  });

  it('digests large data (hashed by a hashing thread from a copy) as set, even when the reader reuses its buffer', async () => {
    // Prepare: data of several sizes around the thread threshold, set from one reused buffer, some overwritten
    const tree = rootTree();
    const expected = new TreeDigest();
    expected.add({ path: '/', data: Buffer.alloc(0), acl: OPEN });
    const reused = Buffer.alloc(900_000);
    const sizes = [10, 64 * 1024 - 1, 64 * 1024, 300_000, 900_000];
    sizes.forEach((size, i) => {
      reused.fill(i + 1);
      const data = reused.subarray(0, size);
      tree.apply(txn(BigInt(2 * i + 1), { op: 'create', path: `/n${i}`, data, acl: OPEN, ephemeral: false, parentCVersion: 1 }));
      reused.fill(i + 100);
      tree.apply(txn(BigInt(2 * i + 2), { op: 'setData', path: `/n${i}`, data: reused.subarray(0, size), version: 1 }));
      expected.add({ path: `/n${i}`, data: Buffer.alloc(size, i + 100), acl: OPEN });
      reused.fill(0); // what a reader does with its buffer next
    });

    // Act + Assess
    expect(await tree.summary()).toEqual(expected.summary());
  });
});
