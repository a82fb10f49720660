import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, UseGuards } from '@nestjs/common';
import { notFound, parseInput } from '../fleet-errors.js';
import { AdminGuard } from '../guards/admin.guard.js';
import { createMediaNodeSchema, idParam, patchMediaNodeSchema } from '../protocol/admin-api.schema.js';
import {
  MediaNodesService,
  type ClassPlacementView,
  type LecturePlacementView,
  type MediaNodeView,
} from '../services/media-nodes.service.js';

function id(value: string, what: string): string {
  if (!idParam.safeParse(value).success) throw notFound(what, value);
  return value;
}

/** Media nodes (issue 19) and where classes are; admin credential required. */
@Controller('api/v1/admin')
@UseGuards(AdminGuard)
export class MediaNodesController {
  constructor(private readonly nodes: MediaNodesService) {}

  @Get('media-nodes')
  list(): Promise<MediaNodeView[]> {
    return this.nodes.list();
  }

  @Post('media-nodes')
  @HttpCode(201)
  create(@Body() body: unknown): Promise<MediaNodeView> {
    return this.nodes.create(parseInput(createMediaNodeSchema, body, 'media node'));
  }

  @Get('media-nodes/:nodeId')
  get(@Param('nodeId') nodeId: string): Promise<MediaNodeView> {
    return this.nodes.get(id(nodeId, 'media node'));
  }

  @Patch('media-nodes/:nodeId')
  patch(@Param('nodeId') nodeId: string, @Body() body: unknown): Promise<MediaNodeView> {
    return this.nodes.patch(
      id(nodeId, 'media node'),
      parseInput(patchMediaNodeSchema, body, 'media node change'),
    );
  }

  /** Its classes move to other nodes first (409 E-NODE-IN-USE when one can't). */
  @Delete('media-nodes/:nodeId')
  @HttpCode(204)
  async remove(@Param('nodeId') nodeId: string): Promise<void> {
    await this.nodes.remove(id(nodeId, 'media node'));
  }

  /**
   * "Which node and room for this class": the teacher's studio client asks it before joining and again
   * when its Janus is gone, so it follows a class the fleet moved (a class is a centre's id today).
   */
  @Get('classes/:classId/placement')
  placement(@Param('classId') classId: string): Promise<ClassPlacementView> {
    return this.nodes.placementOf(id(classId, 'class'));
  }

  /**
   * "Which node and room for this lecture": the node its teacher publishes on (the lecture's home
   * node; the fleet forwards the teacher from there to the other nodes of the lecture).
   */
  @Get('lectures/:room/placement')
  lecturePlacement(@Param('room') room: string): Promise<LecturePlacementView> {
    if (!/^[1-9][0-9]{0,15}$/.test(room)) throw notFound('lecture', room);
    return this.nodes.lecturePlacementOf(Number(room));
  }
}
