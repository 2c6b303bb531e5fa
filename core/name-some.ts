/**
 * A list for a message: the first `most` of `items` joined by `separator`, then how many more —
 * `a, b, c, and 7 more` — so that thousands of names do not drown the message (nor exceed what a
 * state machine keeps of it); `none` when there are none. `total` counts items beyond those given,
 * for a caller that stopped collecting them.
 */
export function nameSome(items: readonly string[], { most = 10, separator = ', ', total = items.length }: { most?: number; separator?: string; total?: number } = {}): string {
  if (total === 0) return 'none';
  const named = items.slice(0, most);
  const rest = total - named.length;
  return rest > 0 ? `${named.join(separator)}${separator.trimEnd()} and ${rest} more` : named.join(separator);
}
