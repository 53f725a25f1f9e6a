/**
 * Kahn's algorithm. Among the nodes ready at any moment the one listed first wins, so the
 * order is the same on every run and follows the config where the edges leave a choice.
 * Returns the nodes that could not be placed (a cycle) as `stuck`.
 */
export function topologicalOrder(
  names: readonly string[],
  edges: readonly (readonly [string, string])[],
): { order: string[]; stuck: string[] } {
  const position = new Map(names.map((n, i) => [n, i]));
  const indegree = new Map(names.map((n) => [n, 0]));
  const successors = new Map<string, string[]>(names.map((n) => [n, []]));
  for (const [from, to] of edges) {
    successors.get(from)?.push(to);
    indegree.set(to, (indegree.get(to) ?? 0) + 1);
  }
  const ready = names.filter((n) => indegree.get(n) === 0);
  const order: string[] = [];
  while (ready.length > 0) {
    ready.sort((a, b) => (position.get(a) ?? 0) - (position.get(b) ?? 0));
    const next = ready.shift() as string;
    order.push(next);
    for (const succ of successors.get(next) ?? []) {
      const left = (indegree.get(succ) ?? 0) - 1;
      indegree.set(succ, left);
      if (left === 0) ready.push(succ);
    }
  }
  const placed = new Set(order);
  return { order, stuck: names.filter((n) => !placed.has(n)) };
}
