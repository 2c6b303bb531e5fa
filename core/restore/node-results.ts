/**
 * A restore's result as one, from each node's (what validation gets and the report shows): a single
 * node's is its own; several nodes' endpoints are kept by node name beside `address` (what the
 * whole target is reached at: the driver's endpoint), their bytes summed, and the duration is the
 * slowest node's (the nodes restore at once).
 */
import type { JsonObject, RestoreResult } from '../driver/types';

export function mergedResult(results: ReadonlyArray<{ node: string; result: RestoreResult }>, address?: string): RestoreResult {
  if (results.length === 1) return results[0].result;
  const nodes: JsonObject = {};
  for (const { node, result } of results) nodes[node] = result.endpoint;
  return {
    endpoint: { ...(address === undefined ? {} : { address }), nodes },
    bytes: results.reduce((sum, { result }) => sum + result.bytes, 0),
    durationMs: Math.max(...results.map(({ result }) => result.durationMs)),
  };
}
