import { Injectable } from '@nestjs/common';
import { posix } from 'node:path';
import { reason } from '../../common/errors.js';
import { createLogger } from '../../common/logger.js';
import { placeClass, replaceClass, type NodeForPlacement, type Placement } from '../domain/placement.js';
import {
  MediaNodeAdminPort,
  MediaNodeError,
  type ClassRoom,
  type MediaNodeLoad,
} from '../ports/media-node-admin.port.js';
import type { ClassPlacementView, LecturePlacementView } from '../protocol/admin-views.schema.js';
import {
  MediaNodesRepository,
  type MediaNodeRow,
  type PlacementRow,
  type UnplacedCentre,
} from '../repositories/media-nodes.repository.js';
import { roomOf } from './centres.service.js';
import { FleetClock } from './fleet-options.js';
import { LectureForwardingService } from './lecture-forwarding.service.js';

/** A node is down after this many failed checks in a row (one lost answer moves no class). */
export const NODE_DOWN_AFTER = 2;
/** Publishers a class room takes: a centre's boxes, the teacher, a few guests. */
const ROOM_PUBLISHERS = 16;

/**
 * Places classes on media nodes and keeps them there (issue 19): each round checks every node's
 * admin API, moves the classes of a node that is down to their first usable fallback, creates the
 * rooms a node should have (a restarted Janus has forgotten them), and places the classes not placed
 * yet. The room is created on a node before a placement names it, so a box never joins a room that is
 * not there. Every move is conditional on the placement read, so replicas doing the same round agree.
 */
@Injectable()
export class ClassPlacementService {
  private readonly log = createLogger(ClassPlacementService.name);
  /** Classes already reported as having nowhere to go: a round each second must not repeat it. */
  private readonly reportedStuck = new Set<string>();

  constructor(
    private readonly repo: MediaNodesRepository,
    private readonly admin: MediaNodeAdminPort,
    private readonly clock: FleetClock,
  ) {}

  /** One round of checks and placements; what fails is logged and tried again next round. */
  async checkNodes(): Promise<void> {
    const before = await this.repo.listNodes();
    if (before.length === 0) return;
    const checked = await Promise.all(before.map((node) => this.check(node)));
    const loads = new Map(checked.map(({ node, load }) => [node.id, load]));
    for (const { node } of checked) if (node.status === 'down') await this.evacuate(node.id);
    await this.placeNew();
    await this.ensureRooms(loads);
  }

  /**
   * Move every class whose node is `nodeId` (down, or being removed) to another node.
   * Returns the classes that could not move (no node can take them, or their room could not be made).
   */
  async evacuate(nodeId: string): Promise<string[]> {
    const [nodes, placements] = await Promise.all([this.repo.listNodes(), this.repo.listPlacements()]);
    const mine = placements.filter((p) => p.node_id === nodeId);
    if (mine.length === 0) return [];
    const centres = new Map((await this.repo.centresOf(mine.map((p) => p.class_id))).map((c) => [c.id, c]));
    const stuck: string[] = [];
    for (const from of mine) {
      const centre = centres.get(from.class_id);
      if (!centre) continue;
      // Its first usable fallback, as its boxes walk their list when the fleet can't be asked; a class
      // of a lecture may land on another node than the rest of it, which the forwards then bridge.
      const next = replaceClass(this.candidates(nodes, placements, from.class_id, nodeId), centre.region, {
        nodeId: from.node_id,
        fallbackIds: fallbacksOf(from),
      });
      const to = next && (await this.prepared(centre, next, nodes));
      if (!to) {
        stuck.push(from.class_id);
        if (!this.reportedStuck.has(from.class_id))
          this.log.error(`Can't move class class=${from.class_id} from=${nodeId}: no other node can take it`);
        this.reportedStuck.add(from.class_id);
        continue;
      }
      this.reportedStuck.delete(from.class_id);
      if (await this.repo.movePlacement(from, to)) {
        placements.splice(placements.indexOf(from), 1, to);
        this.log.warn(`Moved class class=${from.class_id} from=${nodeId} to=${to.node_id}`);
      }
    }
    return stuck;
  }

  /** Rebuild the boxes' URL lists from the nodes as they are now (a node's URL changed, or one was removed). */
  async refreshUrls(): Promise<void> {
    const [nodes, placements] = await Promise.all([this.repo.listNodes(), this.repo.listPlacements()]);
    for (const from of placements) {
      const fallbackIds = fallbacksOf(from).filter((id) => nodes.some((n) => n.id === id));
      const to = placementRow(
        from.class_id,
        from.room,
        { nodeId: from.node_id, fallbackIds },
        nodes,
        from.placed_at,
      );
      if (to && (to.urls_json !== from.urls_json || to.fallback_ids_json !== from.fallback_ids_json))
        await this.repo.movePlacement(from, to);
    }
  }

  async view(classId: string): Promise<ClassPlacementView | undefined> {
    const [row, nodes] = await Promise.all([this.repo.findPlacement(classId), this.repo.listNodes()]);
    const node = row && nodes.find((n) => n.id === row.node_id);
    if (!row || !node) return undefined;
    return {
      classId,
      room: Number(row.room),
      node: { id: node.id, wsUrl: node.ws_url },
      fallbacks: fallbacksOf(row)
        .map((id) => nodes.find((n) => n.id === id))
        .filter((n) => n !== undefined)
        .map((n) => ({ id: n.id, wsUrl: n.ws_url })),
      placedAt: row.placed_at,
    };
  }

  /** Where the teacher of the lecture in `room` publishes; undefined when none of its classes is placed. */
  async lectureView(room: number): Promise<LecturePlacementView | undefined> {
    const [nodes, placements] = await Promise.all([this.repo.listNodes(), this.repo.listPlacements()]);
    const up = new Set(nodes.filter((n) => n.status === 'up').map((n) => n.id));
    const lecture = LectureForwardingService.lectures(
      placements.filter((p) => Number(p.room) === room),
      up,
    )[0];
    if (!lecture) return undefined;
    const ref = (id: string) => {
      const n = nodes.find((x) => x.id === id);
      return n && { id: n.id, wsUrl: n.ws_url };
    };
    const homeClass = placements.find((p) => Number(p.room) === room && p.node_id === lecture.home)!;
    const defined = <T>(x: T | undefined): x is T => x !== undefined;
    return {
      room,
      node: ref(lecture.home)!,
      fallbacks: fallbacksOf(homeClass).map(ref).filter(defined),
      nodes: lecture.nodeIds.map(ref).filter(defined),
    };
  }

  private async check(node: MediaNodeRow): Promise<{ node: MediaNodeRow; load?: MediaNodeLoad }> {
    const checkedAt = this.clock.now().toISOString();
    try {
      const load = await this.admin.load({ adminUrl: node.admin_url, adminSecret: node.admin_secret });
      const up = {
        ...node,
        status: 'up',
        failures: 0,
        sessions: load.sessions,
        rooms: load.rooms.length,
        participants: load.rooms.reduce((sum, r) => sum + r.participants, 0),
        error: null,
        checked_at: checkedAt,
      };
      if (node.status !== 'up') this.log.info(`Media node is up node=${node.id}`);
      await this.saveCheck(up);
      return { node: up, load };
    } catch (error) {
      if (!(error instanceof MediaNodeError)) throw error;
      const failures = Number(node.failures) + 1;
      const down = {
        ...node,
        status: failures >= NODE_DOWN_AFTER ? 'down' : node.status,
        failures,
        error: `${error.code}: ${error.message}`,
        checked_at: checkedAt,
      };
      if (down.status === 'down' && node.status !== 'down')
        this.log.error(`Media node is down node=${node.id}: ${error.message}`);
      await this.saveCheck(down);
      return { node: down };
    }
  }

  private async saveCheck(node: MediaNodeRow): Promise<void> {
    await this.repo.updateNode(node.id, {
      status: node.status,
      failures: node.failures,
      sessions: node.sessions,
      rooms: node.rooms,
      participants: node.participants,
      error: node.error,
      checked_at: node.checked_at,
    });
  }

  private async placeNew(): Promise<void> {
    const unplaced = await this.repo.unplacedCentres();
    if (unplaced.length === 0) return;
    const [nodes, placements] = await Promise.all([this.repo.listNodes(), this.repo.listPlacements()]);
    for (const centre of unplaced) {
      const room = roomOf(centre).room;
      // Of a lecture spread over nodes, its class on a node of this region is the one to join.
      const region = new Set(nodes.filter((n) => n.region === centre.region).map((n) => n.id));
      const ofLecture = placements.filter((p) => Number(p.room) === room);
      const lecture = ofLecture.find((p) => region.has(p.node_id)) ?? ofLecture[0];
      const chosen = placeClass(
        this.candidates(nodes, placements, centre.id),
        centre.region,
        lecture && { nodeId: lecture.node_id, fallbackIds: fallbacksOf(lecture) },
      );
      const row = chosen && (await this.prepared(centre, chosen, nodes));
      if (!row) {
        if (!this.reportedStuck.has(centre.id))
          this.log.warn(`Can't place class class=${centre.id}: no media node is up with room to spare`);
        this.reportedStuck.add(centre.id);
        continue;
      }
      this.reportedStuck.delete(centre.id);
      if (await this.repo.insertPlacement(row)) {
        placements.push(row);
        this.log.info(
          `Placed class class=${centre.id} node=${row.node_id} fallbacks=${row.fallback_ids_json}`,
        );
      }
    }
  }

  /** Create on each node that is up the rooms of the classes it carries or backs up and lacks. */
  private async ensureRooms(loads: ReadonlyMap<string, MediaNodeLoad | undefined>): Promise<void> {
    const [nodes, placements] = await Promise.all([this.repo.listNodes(), this.repo.listPlacements()]);
    const missing: { node: MediaNodeRow; classId: string }[] = [];
    for (const node of nodes) {
      const load = loads.get(node.id);
      if (!load) continue;
      const present = new Set(load.rooms.map((r) => r.room));
      for (const p of placements) {
        if (present.has(Number(p.room))) continue;
        if (p.node_id === node.id || fallbacksOf(p).includes(node.id))
          missing.push({ node, classId: p.class_id });
      }
    }
    if (missing.length === 0) return;
    // Only the centres whose rooms are missing are read: a round costs no read per class otherwise.
    const centres = new Map(
      (await this.repo.centresOf([...new Set(missing.map((m) => m.classId))])).map((c) => [c.id, c]),
    );
    for (const { node, classId } of missing) {
      const centre = centres.get(classId);
      if (centre) await this.createRoom(node, centre);
    }
  }

  /** The placement row for `placement`, once the class's room exists on its node; undefined if it can't be made. */
  private async prepared(
    centre: UnplacedCentre,
    placement: Placement,
    nodes: readonly MediaNodeRow[],
  ): Promise<PlacementRow | undefined> {
    const primary = nodes.find((n) => n.id === placement.nodeId);
    if (!primary || !(await this.createRoom(primary, centre))) return undefined;
    // The fallbacks' rooms are made now when they can be, else by a later round's ensureRooms.
    for (const id of placement.fallbackIds) {
      const node = nodes.find((n) => n.id === id);
      if (node) await this.createRoom(node, centre);
    }
    return placementRow(centre.id, roomOf(centre).room, placement, nodes, this.clock.now().toISOString());
  }

  private async createRoom(node: MediaNodeRow, centre: UnplacedCentre): Promise<boolean> {
    const room = classRoom(centre, node);
    try {
      if (await this.admin.ensureRoom({ adminUrl: node.admin_url, adminSecret: node.admin_secret }, room))
        this.log.info(`Created room room=${room.room} class=${centre.id} node=${node.id}`);
      return true;
    } catch (error) {
      this.log.warn(
        `Can't create room room=${room.room} class=${centre.id} node=${node.id}: ${reason(error)}`,
      );
      return false;
    }
  }

  /** The nodes as placement sees them for one class (its own placement not counted), `excluded` left out. */
  private candidates(
    nodes: readonly MediaNodeRow[],
    placements: readonly PlacementRow[],
    classId: string,
    excluded?: string,
  ): NodeForPlacement[] {
    const others = placements.filter((p) => p.class_id !== classId);
    return nodes
      .filter((n) => n.id !== excluded)
      .map((n) => ({
        id: n.id,
        region: n.region,
        capacity: Number(n.capacity),
        status: n.status === 'up' || n.status === 'down' ? n.status : 'unknown',
        placed: others.filter((p) => p.node_id === n.id).length,
        participants: n.participants === null ? null : Number(n.participants),
      }));
  }
}

function fallbacksOf(row: Pick<PlacementRow, 'fallback_ids_json'>): string[] {
  const parsed: unknown = JSON.parse(row.fallback_ids_json);
  return Array.isArray(parsed) ? parsed.filter((id): id is string => typeof id === 'string') : [];
}

function classRoom(centre: UnplacedCentre, node: MediaNodeRow): ClassRoom {
  const room = roomOf(centre);
  return {
    room: room.room,
    description: centre.name,
    pin: room.pin,
    bitrate: (room.bitrateKbps ?? 1024) * 1000,
    publishers: ROOM_PUBLISHERS,
    // Per class, under the node's recordings folder: the layout the fleet's cutter reads
    // (`--recordings-dir`/room-<room>, or one folder per node under it; docs/catchup.md).
    ...(node.recordings_dir !== null ? { recDir: posix.join(node.recordings_dir, `room-${room.room}`) } : {}),
  };
}

function placementRow(
  classId: string,
  room: number,
  placement: Placement,
  nodes: readonly MediaNodeRow[],
  placedAt: string,
): PlacementRow | undefined {
  const urlOf = (id: string): string | undefined => nodes.find((n) => n.id === id)?.ws_url;
  const primary = urlOf(placement.nodeId);
  if (primary === undefined) return undefined;
  const fallbackIds = placement.fallbackIds.filter((id) => urlOf(id) !== undefined);
  return {
    class_id: classId,
    node_id: placement.nodeId,
    fallback_ids_json: JSON.stringify(fallbackIds),
    urls_json: JSON.stringify([primary, ...fallbackIds.map((id) => urlOf(id)!)]),
    room,
    placed_at: placedAt,
  };
}
