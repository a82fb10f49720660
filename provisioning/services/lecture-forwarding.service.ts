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
  type MediaNodeLoad,
  type PublisherStream,
} from '../ports/media-node-admin.port.js';
import type { MediaNodeRow, PlacementRow } from '../repositories/media-nodes.repository.js';

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

  constructor(private readonly admin: MediaNodeAdminPort) {}

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

  /** One round: `loads` holds the nodes that answered this round's check (undefined: down). */
  async reconcile(
    nodes: readonly MediaNodeRow[],
    placements: readonly PlacementRow[],
    loads: ReadonlyMap<string, MediaNodeLoad | undefined>,
  ): Promise<void> {
    const up = new Set([...loads].filter(([, load]) => load !== undefined).map(([id]) => id));
    const classesIn = new Map<number, number>();
    for (const p of placements) classesIn.set(Number(p.room), (classesIn.get(Number(p.room)) ?? 0) + 1);
    for (const lecture of LectureForwardingService.lectures(placements, up)) {
      if ((classesIn.get(lecture.room) ?? 0) < 2) continue;
      // A node that missed one check is not yet down: its forwards are not undone for one lost answer.
      if (nodes.some((n) => lecture.nodeIds.includes(n.id) && !up.has(n.id) && n.status !== 'down')) continue;
      // Nodes holding the room: the lecture's, its fallbacks, any other that may keep stale forwards.
      const holding = nodes.filter((n) => loads.get(n.id)?.rooms.some((r) => r.room === lecture.room));
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
    const seen: LectureNode[] = [];
    for (const node of holding) {
      const state = await this.read(node, lecture.room).catch((error: unknown) => {
        // A node that stops answering mid-round is left out; the next round's check marks it down.
        if (error instanceof MediaNodeError && error.code === 'E-NODE-UNREACHABLE') return undefined;
        throw error;
      });
      if (state) seen.push(state);
    }
    const actions = planForwards(lecture.home, new Set(lecture.nodeIds), seen);
    const streams = new Map<string, Map<number, PublisherStream[]>>();
    for (const action of actions) await this.apply(action, lecture.room, holding, streams);
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
