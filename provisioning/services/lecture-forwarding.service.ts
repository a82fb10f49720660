import { Injectable } from '@nestjs/common';
import { reason } from '../../common/errors.js';
import { createLogger } from '../../common/logger.js';
import {
  homeNode,
  planForwards,
  remoteIdFor,
  type ForwardAction,
  type LectureClass,
  type LectureNode,
} from '../domain/lecture-forwarding.js';
import {
  MediaNodeAdminPort,
  MediaNodeError,
  type MediaNodeAccess,
  type PublisherStream,
} from '../ports/media-node-admin.port.js';
import {
  MediaNodesRepository,
  type MediaNodeRow,
  type PlacementRow,
} from '../repositories/media-nodes.repository.js';

/** A lecture as the teacher's client needs it: its room and the node the teacher publishes on. */
export interface LecturePlace {
  readonly room: number;
  readonly home: string;
  readonly nodeIds: readonly string[];
}

/**
 * Keeps the forwards of lectures spread over several nodes as `planForwards` wants them (issue 19),
 * once per placement round: reads each node's publishers and forwards, removes what is stale, and
 * forwards what is missing. Everything it knows is read from the nodes each round, so replicas and a
 * restarted fleet agree, and a node that restarted (forgetting its remote publishers) is redone.
 */
@Injectable()
export class LectureForwardingService {
  private readonly log = createLogger(LectureForwardingService.name);
  /** Failures already logged, by what failed: a round each second must not repeat them. */
  private readonly reported = new Set<string>();

  constructor(
    private readonly repo: MediaNodesRepository,
    private readonly admin: MediaNodeAdminPort,
  ) {}

  /** Each room's nodes and its home node (a room none of whose nodes is up is left out). */
  static lectures(placements: readonly PlacementRow[], upNodes: ReadonlySet<string>): LecturePlace[] {
    const byRoom = new Map<number, LectureClass[]>();
    for (const p of placements) {
      const room = Number(p.room);
      const classes = byRoom.get(room) ?? [];
      classes.push({ classId: p.class_id, nodeId: p.node_id, placedAt: p.placed_at });
      byRoom.set(room, classes);
    }
    const lectures: LecturePlace[] = [];
    for (const [room, classes] of byRoom) {
      const home = homeNode(classes, upNodes);
      if (home === undefined) continue;
      lectures.push({ room, home, nodeIds: [...new Set(classes.map((c) => c.nodeId))].sort() });
    }
    return lectures;
  }

  /**
   * One round, on its own timer beside the node checks (a slow round here never delays noticing a dead
   * node). Nodes count as up when their last check answered; a lecture with a node that missed its last
   * check but is not down yet is left alone this round: one lost answer undoes no forward.
   */
  async round(): Promise<void> {
    const [nodes, placements] = await Promise.all([this.repo.listNodes(), this.repo.listPlacements()]);
    const up = new Set(nodes.filter((n) => n.status === 'up' && Number(n.failures) === 0).map((n) => n.id));
    const classesIn = new Map<number, PlacementRow[]>();
    for (const p of placements) classesIn.set(Number(p.room), [...(classesIn.get(Number(p.room)) ?? []), p]);
    for (const lecture of LectureForwardingService.lectures(placements, up)) {
      const classes = classesIn.get(lecture.room) ?? [];
      if (classes.length < 2) continue;
      if (nodes.some((n) => lecture.nodeIds.includes(n.id) && !up.has(n.id) && n.status !== 'down')) continue;
      // Nodes that may hold the room: the lecture's, and its classes' fallbacks (a node a class left is
      // one of its fallbacks, and may keep stale forwards).
      const maybe = new Set(classes.flatMap((c) => [c.node_id, ...fallbacksOf(c)]));
      const holding = nodes.filter((n) => maybe.has(n.id) && up.has(n.id));
      // A lecture on one node costs one list per node and round: the full reading only when a remote
      // publisher is left over from when it was spread.
      if (lecture.nodeIds.length < 2 && !(await this.anyRemote(holding, lecture.room))) continue;
      try {
        await this.reconcileLecture(lecture, holding);
        this.reported.delete(`lecture-${lecture.room}`);
      } catch (error) {
        if (!(error instanceof MediaNodeError)) throw error;
        if (!this.reported.has(`lecture-${lecture.room}`))
          this.log.warn(`Can't forward lecture room=${lecture.room}: ${reason(error)}`);
        this.reported.add(`lecture-${lecture.room}`);
      }
    }
  }

  private async anyRemote(nodes: readonly MediaNodeRow[], room: number): Promise<boolean> {
    for (const node of nodes) {
      const publishers = await this.admin.publishers(accessOf(node), room).catch(() => []);
      if (publishers.some((p) => p.remote)) return true;
    }
    return false;
  }

  private async reconcileLecture(lecture: LecturePlace, holding: readonly MediaNodeRow[]): Promise<void> {
    let unreachable = false;
    const read = await Promise.all(
      holding.map((node) =>
        this.read(node, lecture.room).catch((error: unknown) => {
          if (!(error instanceof MediaNodeError) || error.code === 'E-NODE-BAD-ANSWER') throw error;
          // A node of the lecture that stopped answering: nothing is undone until the checks call it
          // down. A node where the room is not (yet) made is left out.
          if (error.code === 'E-NODE-UNREACHABLE' && lecture.nodeIds.includes(node.id)) unreachable = true;
          return undefined;
        }),
      ),
    );
    if (unreachable) return;
    const seen = read.filter((state) => state !== undefined);
    const actions = planForwards(lecture.home, new Set(lecture.nodeIds), seen);
    const streams = new Map<string, Map<number, PublisherStream[]>>();
    const keyOf = (action: ForwardAction) => `${lecture.room}:${JSON.stringify(action)}`;
    // Failures reported of actions no longer wanted are forgotten: the set stays as small as the plan.
    const planned = new Set(actions.map(keyOf));
    for (const key of this.reported)
      if (key.startsWith(`${lecture.room}:`) && !planned.has(key)) this.reported.delete(key);
    // One action that fails (a publisher that left meanwhile) does not hold up the others.
    for (const action of actions) {
      const key = keyOf(action);
      try {
        await this.apply(action, lecture.room, holding, streams);
        this.reported.delete(key);
      } catch (error) {
        if (!(error instanceof MediaNodeError)) throw error;
        if (!this.reported.has(key))
          this.log.warn(`Can't ${action.kind} in lecture room=${lecture.room}: ${reason(error)}`);
        this.reported.add(key);
      }
    }
  }

  private async read(node: MediaNodeRow, room: number): Promise<LectureNode> {
    const access = accessOf(node);
    const publishers = await this.admin.publishers(access, room);
    const remotes = new Map<number, string[]>();
    for (const p of publishers)
      if (!p.remote) remotes.set(p.id, await this.admin.remotesOf(access, room, p.id));
    return { nodeId: node.id, publishers, remotes };
  }

  private async apply(
    action: ForwardAction,
    room: number,
    nodes: readonly MediaNodeRow[],
    streams: Map<string, Map<number, PublisherStream[]>>,
  ): Promise<void> {
    const node = (id: string) => nodes.find((n) => n.id === id)!;
    switch (action.kind) {
      case 'remove-remote':
        await this.admin.removeRemotePublisher(accessOf(node(action.nodeId)), room, action.publisherId);
        this.log.info(
          `Removed remote publisher room=${room} node=${action.nodeId} feed=${action.publisherId}`,
        );
        return;
      case 'unpublish':
        await this.admin.unpublishRemotely(
          accessOf(node(action.nodeId)),
          room,
          action.publisherId,
          action.remoteId,
        );
        this.log.info(
          `Stopped forward room=${room} node=${action.nodeId} feed=${action.publisherId} remote=${action.remoteId}`,
        );
        return;
      case 'forward': {
        const from = node(action.from);
        const to = node(action.to);
        let known = streams.get(from.id);
        if (!known) {
          known = await this.admin.publisherStreams(accessOf(from), room);
          streams.set(from.id, known);
        }
        // No streams yet (media not up): the next round forwards it.
        const mine = known.get(action.publisherId);
        if (!mine) return;
        const ports = await this.admin.addRemotePublisher(accessOf(to), room, {
          id: action.publisherId,
          display: action.display,
          streams: mine,
        });
        try {
          await this.admin.publishRemotely(accessOf(from), room, {
            publisherId: action.publisherId,
            remoteId: remoteIdFor(to.id),
            host: rtpHostOf(to),
            ports,
          });
        } catch (error) {
          // The publisher left meanwhile: its remote twin goes too rather than stay a frozen tile.
          await this.admin
            .removeRemotePublisher(accessOf(to), room, action.publisherId)
            .catch(() => undefined);
          throw error;
        }
        this.log.info(
          `Forwarded publisher room=${room} feed=${action.publisherId} from=${from.id} to=${to.id} port=${ports.port}`,
        );
        return;
      }
    }
  }
}

function fallbacksOf(row: Pick<PlacementRow, 'fallback_ids_json'>): string[] {
  const parsed: unknown = JSON.parse(row.fallback_ids_json);
  return Array.isArray(parsed) ? parsed.filter((id): id is string => typeof id === 'string') : [];
}

function accessOf(node: MediaNodeRow): MediaNodeAccess {
  return { adminUrl: node.admin_url, adminSecret: node.admin_secret };
}

/**
 * Where another node sends this node's RTP: the host of its public WebSocket URL. Nodes of one
 * deployment reach each other there (docs/scaling.md); a node behind a proxy needs that host to be its own.
 */
export function rtpHostOf(node: Pick<MediaNodeRow, 'ws_url'>): string {
  return new URL(node.ws_url).hostname.replace(/^\[(.*)\]$/, '$1');
}
