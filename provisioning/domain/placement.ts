/**
 * Where a class goes (issue 19): pure rules over the nodes as the fleet last saw them; no I/O, no time.
 * A node takes a class when it is up and carries fewer classes than its capacity. Nodes of the class's
 * region come first, then the least loaded (classes over capacity, then participants measured).
 */

export interface NodeForPlacement {
  readonly id: string;
  readonly region: string;
  readonly capacity: number;
  readonly status: 'up' | 'down' | 'unknown';
  /** Classes placed on it now (as primary), not counting the one being placed. */
  readonly placed: number;
  /** Participants its videorooms had at the last check. */
  readonly participants: number | null;
}

export interface Placement {
  readonly nodeId: string;
  /** Node ids a box tries, in order, when its node is gone and the fleet can't be asked. */
  readonly fallbackIds: readonly string[];
}

/** How many fallback nodes a box is given. */
export const FALLBACKS = 2;

/** The nodes that can take a class of `region`, best first. */
export function rankNodes(nodes: readonly NodeForPlacement[], region: string): NodeForPlacement[] {
  return nodes
    .filter((n) => n.status === 'up' && n.placed < n.capacity)
    .sort(
      (a, b) =>
        Number(b.region === region) - Number(a.region === region) ||
        a.placed / a.capacity - b.placed / b.capacity ||
        (a.participants ?? 0) - (b.participants ?? 0) ||
        a.id.localeCompare(b.id),
    );
}

/**
 * A new class's node and fallbacks; undefined when no node can take it. `lecture`: where a class of the
 * same room already is (centres sharing a room number are one lecture). The class joins it, with the
 * same fallbacks so that both move together, while that node is up, has room, and is of the class's
 * region or its region has no node that can take it. Otherwise the class is placed as any class and
 * the lecture is spread over nodes: the fleet forwards it between them (lecture-forwarding.ts).
 */
export function placeClass(
  nodes: readonly NodeForPlacement[],
  region: string,
  lecture?: Placement,
): Placement | undefined {
  const ranked = rankNodes(nodes, region);
  const there = lecture && ranked.find((n) => n.id === lecture.nodeId);
  if (lecture && there && (there.region === region || !ranked.some((n) => n.region === region)))
    return lecture;
  const [first, ...rest] = ranked;
  if (!first) return undefined;
  return { nodeId: first.id, fallbackIds: rest.slice(0, FALLBACKS).map((n) => n.id) };
}

/**
 * The class's place once its node is down. Its first fallback that can take it wins, before any
 * better-ranked node: a box that can't reach the fleet walks its fallback list in this order, so the
 * fleet must choose as it does, or one class would split over two nodes. Undefined: nowhere to go.
 */
export function replaceClass(
  nodes: readonly NodeForPlacement[],
  region: string,
  current: Placement,
): Placement | undefined {
  const ranked = rankNodes(
    nodes.filter((n) => n.id !== current.nodeId),
    region,
  );
  const usable = new Set(ranked.map((n) => n.id));
  const nodeId = current.fallbackIds.find((id) => usable.has(id)) ?? ranked[0]?.id;
  if (nodeId === undefined) return undefined;
  // The fallbacks keep their order; new ones fill up from the ranking.
  const fallbackIds = [
    ...current.fallbackIds.filter((id) => id !== nodeId && usable.has(id)),
    ...ranked.map((n) => n.id).filter((id) => id !== nodeId && !current.fallbackIds.includes(id)),
  ].slice(0, FALLBACKS);
  return { nodeId, fallbackIds };
}
