/**
 * A lecture spread over several media nodes (issue 19), with the VideoRoom's remote publishers:
 * pure rules over what the nodes' admin APIs showed this round; no I/O, no time.
 *
 * The teacher publishes on the lecture's home node. Every local publisher there (the teacher, and the
 * centres placed there) is forwarded to every other node of the lecture, and every local publisher of
 * those nodes (their centres) to the home node: each box sees the teacher as a publisher of its own
 * room, and the teacher sees every centre. Nothing goes from one outer node to another (Janus forwards
 * only local publishers, so a remote publisher is never passed on). A remote publisher keeps its
 * origin's id and display, so a box picks the teacher the same way on any node.
 */

/** One class of the lecture: where it is and since when. */
export interface LectureClass {
  readonly classId: string;
  readonly nodeId: string;
  readonly placedAt: string;
}

/** A node holding the lecture's room, as seen this round (only nodes that answered). */
export interface LectureNode {
  readonly nodeId: string;
  readonly publishers: readonly { readonly id: number; readonly display: string; readonly remote: boolean }[];
  /** Of each local publisher: the `remote_id`s it is forwarded to. */
  readonly remotes: ReadonlyMap<number, readonly string[]>;
}

export type ForwardAction =
  /** A remote publisher whose origin is gone, or whose forward is gone (it would stay frozen). */
  | { readonly kind: 'remove-remote'; readonly nodeId: string; readonly publisherId: number }
  /** A forward to a node that is no longer wanted, or lost its remote publisher (it restarted). */
  | {
      readonly kind: 'unpublish';
      readonly nodeId: string;
      readonly publisherId: number;
      readonly remoteId: string;
    }
  | {
      readonly kind: 'forward';
      readonly from: string;
      readonly to: string;
      readonly publisherId: number;
      readonly display: string;
    };

/** The `remote_id` a forward to `nodeId` is made under: one per target node, so it can be found again. */
export function remoteIdFor(nodeId: string): string {
  return `classbox-to-${nodeId}`;
}

const OURS = /^classbox-to-/;

/**
 * Where the teacher publishes: the node of the lecture's longest-placed class among nodes that are up.
 * It stays put while classes join or other nodes fail; when the home node dies, its classes move and
 * the next longest-placed class's node is home (the teacher's client asks the fleet again).
 */
export function homeNode(classes: readonly LectureClass[], upNodes: ReadonlySet<string>): string | undefined {
  return [...classes]
    .filter((c) => upNodes.has(c.nodeId))
    .sort((a, b) => a.placedAt.localeCompare(b.placedAt) || a.classId.localeCompare(b.classId))[0]?.nodeId;
}

/**
 * What to do this round so that the forwards are as wanted. `lectureNodes`: the nodes the lecture's
 * classes are placed on; `nodes`: every node that answered and holds the room (the lecture's, and others
 * that once carried it and may keep stale remote publishers). Clean-ups come before new forwards.
 */
export function planForwards(
  home: string,
  lectureNodes: ReadonlySet<string>,
  nodes: readonly LectureNode[],
): ForwardAction[] {
  const byId = new Map(nodes.map((n) => [n.nodeId, n]));
  /** The wanted (from → to) pairs between nodes that answered. */
  const wanted = (from: string, to: string): boolean =>
    from !== to &&
    lectureNodes.has(from) &&
    lectureNodes.has(to) &&
    byId.has(from) &&
    byId.has(to) &&
    (from === home || to === home);
  const locals = (n: LectureNode) => n.publishers.filter((p) => !p.remote);

  const cleanups: ForwardAction[] = [];
  const forwards: ForwardAction[] = [];
  /** Remote publishers each node should have: id → the node it comes from. */
  const expected = new Map<string, Map<number, string>>(nodes.map((n) => [n.nodeId, new Map()]));

  for (const from of nodes) {
    for (const p of locals(from)) {
      const remoteIds = from.remotes.get(p.id) ?? [];
      for (const remoteId of remoteIds)
        if (
          OURS.test(remoteId) &&
          !nodes.some((to) => remoteIdFor(to.nodeId) === remoteId && wanted(from.nodeId, to.nodeId))
        )
          cleanups.push({ kind: 'unpublish', nodeId: from.nodeId, publisherId: p.id, remoteId });
      for (const to of nodes) {
        if (!wanted(from.nodeId, to.nodeId)) continue;
        expected.get(to.nodeId)!.set(p.id, from.nodeId);
        const remoteId = remoteIdFor(to.nodeId);
        const there = to.publishers.find((q) => q.id === p.id);
        const forwarded = remoteIds.includes(remoteId);
        if (forwarded && there?.remote) continue;
        // Half a forward is redone whole: the ports of a remote publisher made earlier are not known.
        if (forwarded) cleanups.push({ kind: 'unpublish', nodeId: from.nodeId, publisherId: p.id, remoteId });
        if (there?.remote) cleanups.push({ kind: 'remove-remote', nodeId: to.nodeId, publisherId: p.id });
        // A local publisher there with the same id (ids are random 53-bit numbers): leave it be.
        if (there && !there.remote) continue;
        forwards.push({
          kind: 'forward',
          from: from.nodeId,
          to: to.nodeId,
          publisherId: p.id,
          display: p.display,
        });
      }
    }
  }
  for (const node of nodes) {
    const mine = expected.get(node.nodeId)!;
    for (const p of node.publishers)
      if (p.remote && !mine.has(p.id))
        cleanups.push({ kind: 'remove-remote', nodeId: node.nodeId, publisherId: p.id });
  }
  return [...cleanups, ...forwards];
}
