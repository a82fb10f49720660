import { Injectable } from '@nestjs/common';
import type { Updateable } from 'kysely';
import { createLogger } from '../../common/logger.js';
import type { MediaNodesTable } from '../db/schema.js';
import { FleetApiError, notFound } from '../fleet-errors.js';
import type { CreateMediaNode, PatchMediaNode } from '../protocol/admin-api.schema.js';
import type {
  ClassPlacementView,
  LecturePlacementView,
  MediaNodeView,
} from '../protocol/admin-views.schema.js';
import {
  MediaNodesRepository,
  type MediaNodeRow,
  type PlacementRow,
} from '../repositories/media-nodes.repository.js';
import { ClassPlacementService } from './class-placement.service.js';
import { FleetClock } from './fleet-options.js';
export type { ClassPlacementView, LecturePlacementView, MediaNodeView };

/** IT's media nodes (issue 19): register, list, change, remove. The admin secret is write-only. */
@Injectable()
export class MediaNodesService {
  private readonly log = createLogger(MediaNodesService.name);

  constructor(
    private readonly repo: MediaNodesRepository,
    private readonly placement: ClassPlacementService,
    private readonly clock: FleetClock,
  ) {}

  async list(): Promise<MediaNodeView[]> {
    const [nodes, placements] = await Promise.all([this.repo.listNodes(), this.repo.listPlacements()]);
    return nodes.map((n) => toView(n, placements));
  }

  async get(id: string): Promise<MediaNodeView> {
    const node = await this.repo.findNode(id);
    if (!node) throw notFound('media node', id);
    return toView(node, await this.repo.listPlacements());
  }

  async create(input: CreateMediaNode): Promise<MediaNodeView> {
    const now = this.clock.now().toISOString();
    const inserted = await this.repo.insertNode({
      id: input.id,
      ws_url: input.wsUrl,
      admin_url: input.adminUrl,
      admin_secret: input.adminSecret ?? null,
      region: input.region,
      capacity: input.capacity,
      recordings_dir: input.recordingsDir ?? null,
      sessions: null,
      rooms: null,
      participants: null,
      error: null,
      checked_at: null,
      created_at: now,
      updated_at: now,
    });
    if (!inserted)
      throw new FleetApiError(409, 'E-CONFLICT', `a media node with id "${input.id}" exists already`);
    this.log.info(`Registered media node node=${input.id} region=${input.region} capacity=${input.capacity}`);
    return this.get(input.id);
  }

  async patch(id: string, input: PatchMediaNode): Promise<MediaNodeView> {
    if (!(await this.repo.findNode(id))) throw notFound('media node', id);
    const patch: Updateable<MediaNodesTable> = { updated_at: this.clock.now().toISOString() };
    if (input.wsUrl !== undefined) patch.ws_url = input.wsUrl;
    if (input.adminUrl !== undefined) patch.admin_url = input.adminUrl;
    if (input.adminSecret !== undefined) patch.admin_secret = input.adminSecret;
    if (input.region !== undefined) patch.region = input.region;
    if (input.capacity !== undefined) patch.capacity = input.capacity;
    // Rooms made from now on record there; a room that exists keeps what it was made with.
    if (input.recordingsDir !== undefined) patch.recordings_dir = input.recordingsDir;
    await this.repo.updateNode(id, patch);
    // The boxes' URLs are copied into the placements: a new URL reaches them with their next config.
    if (input.wsUrl !== undefined) await this.placement.refreshUrls();
    this.log.info(`Changed media node node=${id} fields=${Object.keys(input).join(',')}`);
    return this.get(id);
  }

  /** Its classes move to other nodes first; refused (409) while one of them has nowhere to go. */
  async remove(id: string): Promise<void> {
    if (!(await this.repo.findNode(id))) throw notFound('media node', id);
    const stuck = await this.placement.evacuate(id);
    if (stuck.length > 0)
      throw new FleetApiError(
        409,
        'E-NODE-IN-USE',
        `media node "${id}" carries classes no other node can take: ${stuck.join(', ')}; register or free another node first`,
      );
    await this.repo.deleteNode(id);
    // Boxes that kept it as a fallback get a list without it.
    await this.placement.refreshUrls();
    this.log.info(`Removed media node node=${id}`);
  }

  /** Where a class is, for the teacher's studio client and the dashboard. */
  async placementOf(classId: string): Promise<ClassPlacementView> {
    const view = await this.placement.view(classId);
    if (!view)
      throw new FleetApiError(404, 'E-NOT-PLACED', `class "${classId}" is not placed on a media node`);
    return view;
  }

  /** Where a lecture's teacher publishes, for the studio client (issue 19). */
  async lecturePlacementOf(room: number): Promise<LecturePlacementView> {
    const view = await this.placement.lectureView(room);
    if (!view)
      throw new FleetApiError(
        404,
        'E-NOT-PLACED',
        `no class of lecture room ${room} is placed on a media node`,
      );
    return view;
  }
}

function toView(row: MediaNodeRow, placements: readonly PlacementRow[]): MediaNodeView {
  return {
    id: row.id,
    wsUrl: row.ws_url,
    adminUrl: row.admin_url,
    adminSecretSet: row.admin_secret !== null,
    region: row.region,
    capacity: Number(row.capacity),
    recordingsDir: row.recordings_dir,
    status: row.status === 'up' || row.status === 'down' ? row.status : 'unknown',
    sessions: row.sessions === null ? null : Number(row.sessions),
    rooms: row.rooms === null ? null : Number(row.rooms),
    participants: row.participants === null ? null : Number(row.participants),
    classes: placements.filter((p) => p.node_id === row.id).length,
    error: row.error,
    checkedAt: row.checked_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
