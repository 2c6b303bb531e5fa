/**
 * What a node says about itself over CQL (`system.local`): the readiness probe of a node this
 * host starts (node-process.ts) — it answers a query on its native port, and it is the node we
 * started (its cluster name, and its tokens when it was given some), not another one on the same
 * address and port. (2.1's `system.local` has no address column.)
 */
import { cqlClient } from './cql-client';
import { compareTokens } from './tokens';

export interface LocalNodeInfo {
  clusterName: string;
  hostId: string;
  releaseVersion: string;
  dataCenter: string;
  rack: string;
  /** Its tokens, sorted as numbers. */
  tokens: string[];
}

interface LocalRow {
  cluster_name: string;
  host_id: { toString(): string } | null;
  release_version: string;
  data_center: string;
  rack: string;
  tokens: string[] | null;
}

/**
 * Asks the node at `address:port` (that node only) about itself.
 * @throws Error saying why it did not answer, or that another node answered.
 */
export async function readLocalNode(address: string, port: number, expect: { clusterName: string; tokens?: readonly string[] }, timeoutMs = 5_000): Promise<LocalNodeInfo> {
  const client = cqlClient({ contactPoints: [address], port, onlyThese: true, connectTimeoutMs: timeoutMs, readTimeoutMs: timeoutMs });
  try {
    const result = await client.execute('SELECT cluster_name, host_id, release_version, data_center, rack, tokens FROM system.local');
    const row = result.first() as unknown as LocalRow | null;
    if (!row) throw new Error(`${address}:${port} answered without a system.local row`);
    const tokens = [...(row.tokens ?? [])].sort(compareTokens);
    const expected = expect.tokens ? [...expect.tokens].sort(compareTokens) : tokens;
    if (row.cluster_name !== expect.clusterName || expected.join(',') !== tokens.join(',')) {
      throw new Error(`${address}:${port} is answered by another node (cluster ${row.cluster_name}, tokens ${tokens.join(',')})`);
    }
    return {
      clusterName: row.cluster_name, hostId: String(row.host_id ?? ''), releaseVersion: row.release_version,
      dataCenter: row.data_center, rack: row.rack, tokens,
    };
  } finally {
    await client.shutdown().catch(() => undefined);
  }
}
