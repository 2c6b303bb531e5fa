/** The kv digest against a real etcd: paging-independent, history-aware, and sensitive to every field. */
import { noop } from 'cockatiel';
import { Etcd3 } from 'etcd3';
import { computeKvDigest } from '../../../drivers/etcd/kv-digest';
import { mapEtcdError } from '../../../drivers/etcd/errors';
import { currentRevision, startTestEtcd, stopAllEtcd, writeKeys, type TestEtcd } from '../../harness/etcd';

describe('computeKvDigest', () => {
  let etcd: TestEtcd;
  afterAll(stopAllEtcd);
  beforeAll(async () => {
    etcd = await startTestEtcd('digest');
    await writeKeys(etcd.client, 250, { binary: true, valueBytes: 100 });
  });

  it('gives the same digest and count whatever the page size', async () => {
    // Prepare
    const revision = await currentRevision(etcd.client);

    // Act
    const digests = await Promise.all([1, 7, 100, 1000].map((pageSize) => computeKvDigest(etcd.client, revision, { pageSize })));

    // Assess
    expect(new Set(digests.map((d) => d.digest)).size).toBe(1);
    expect(digests.map((d) => d.keyCount)).toEqual([250, 250, 250, 250]);
  });

  it('reads history: an old revision keeps its digest; rewriting the same value still changes the latest one', async () => {
    // Prepare
    const before = await currentRevision(etcd.client);
    const digestBefore = await computeKvDigest(etcd.client, before);
    const same = await etcd.client.get('key/000042').buffer();
    await etcd.client.put('key/000042').value(same!);
    const after = await currentRevision(etcd.client);

    // Act
    const oldAgain = await computeKvDigest(etcd.client, before);
    const latest = await computeKvDigest(etcd.client, after);

    // Assess
    expect(oldAgain).toEqual(digestBefore);
    expect(latest.keyCount).toBe(digestBefore.keyCount);
    expect(latest.digest).not.toBe(digestBefore.digest);
  });

  it('halves its page size when a page exceeds the gRPC message limit (4 MiB by default)', async () => {
    // Prepare
    const big = await startTestEtcd('digest-big');
    await writeKeys(big.client, 60, { prefix: 'big/', binary: true, valueBytes: 100_000, batch: 10 });
    // gRPC's default 4 MiB receive limit, and no circuit breaker (as the driver's own clients).
    const defaultLimits = new Etcd3({ hosts: [big.clientUrl], faultHandling: { host: () => noop, global: noop } });
    const revision = await currentRevision(big.client);

    // Act
    const oneShot = await computeKvDigest(defaultLimits, revision, { pageSize: 1000, pageBytes: 64 * 1024 * 1024 })
      .finally(() => defaultLimits.close());
    const reference = await computeKvDigest(big.client, revision, { pageSize: 1 });

    // Assess
    expect(oneShot).toEqual(reference);
    expect(oneShot.keyCount).toBe(60);
  });

  it('a compacted revision fails with an error mapped to ETCD_COMPACTED', async () => {
    // Prepare
    const old = await currentRevision(etcd.client);
    await etcd.client.put('key/000001').value('newer');
    await etcd.client.kv.compact({ revision: old + 1, physical: true });

    // Act
    const error = await computeKvDigest(etcd.client, old).catch((e: unknown) => e);

    // Assess
    expect(mapEtcdError(error)).toMatchObject({ name: 'PermanentError', code: 'ETCD_COMPACTED' });
  });
});
