import { Body, Controller, Get, HttpCode, Param, Post, Put, Req, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Readable } from 'node:stream';
import { z } from 'zod';
import { releaseVersion } from '../../common/release-manifest.js';
import { badRequest, notFound, parseInput } from '../fleet-errors.js';
import { AdminGuard } from '../guards/admin.guard.js';
import { idParam } from '../protocol/admin-api.schema.js';
import {
  createReleaseSchema,
  createRolloutSchema,
  setChannelSchema,
} from '../protocol/releases-api.schema.js';
import {
  ReleasesService,
  type DeviceUpdateView,
  type ReleaseView,
  type RolloutProgress,
  type RolloutView,
} from '../services/releases.service.js';

const rolloutActionSchema = z.enum(['pause', 'resume', 'abort']);

function rollout(value: string): string {
  if (!z.uuid().safeParse(value).success) throw notFound('rollout', value);
  return value;
}

function version(value: string): string {
  if (!releaseVersion.safeParse(value).success) throw notFound('release', value);
  return value;
}

function device(value: string): string {
  if (!idParam.safeParse(value).success) throw notFound('device', value);
  return value;
}

/** IT's side of updates: register a signed release, upload its payload, roll it out. */
@Controller('api/v1/admin')
@UseGuards(AdminGuard)
export class ReleasesController {
  constructor(private readonly releases: ReleasesService) {}

  @Get('releases')
  list(): Promise<ReleaseView[]> {
    return this.releases.list();
  }

  @Post('releases')
  @HttpCode(201)
  create(@Body() body: unknown): Promise<ReleaseView> {
    return this.releases.create(parseInput(createReleaseSchema, body, 'release'));
  }

  @Get('releases/:version')
  get(@Param('version') v: string): Promise<ReleaseView> {
    return this.releases.get(version(v));
  }

  /** `Content-Type: application/octet-stream`; streamed to disk, never held in memory. */
  @Put('releases/:version/payload')
  async upload(
    @Param('version') v: string,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ReleaseView> {
    if (!(request.body instanceof Readable)) {
      throw badRequest('send the payload as the request body with content-type application/octet-stream');
    }
    try {
      return await this.releases.upload(version(v), request.body);
    } catch (error) {
      // The rest of a refused body is never read: close the connection after the answer rather
      // than leave it open, stalled, holding the client (and the server's shutdown).
      void reply.header('connection', 'close');
      throw error;
    }
  }

  @Post('releases/:version/rollouts')
  @HttpCode(201)
  rollout(@Param('version') v: string, @Body() body: unknown): Promise<RolloutView> {
    return this.releases.rollout(version(v), parseInput(createRolloutSchema, body, 'rollout'));
  }

  /** A rollout's progress over the boxes it is aimed at (the dashboard's bar). */
  @Get('rollouts/:rolloutId/progress')
  progress(@Param('rolloutId') id: string): Promise<RolloutProgress> {
    return this.releases.rolloutProgress(rollout(id));
  }

  /** pause: no new offers; resume; abort: for good. */
  @Post('rollouts/:rolloutId/:action')
  @HttpCode(200)
  changeRollout(@Param('rolloutId') id: string, @Param('action') action: string): Promise<RolloutView> {
    return this.releases.changeRollout(
      rollout(id),
      parseInput(rolloutActionSchema, action, 'rollout action'),
    );
  }

  @Put('devices/:deviceId/channel')
  setChannel(@Param('deviceId') id: string, @Body() body: unknown): Promise<DeviceUpdateView> {
    return this.releases.setChannel(device(id), parseInput(setChannelSchema, body, 'channel').channel);
  }

  @Get('devices/:deviceId/update')
  deviceUpdate(@Param('deviceId') id: string): Promise<DeviceUpdateView> {
    return this.releases.deviceUpdate(device(id));
  }
}
