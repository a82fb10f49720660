import { Body, Controller, Get, Headers, HttpCode, Param, Post, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import {
  actionResultSchema,
  heartbeatSchema,
  type DesiredConfig,
  type HeartbeatResponse,
} from '../../common/fleet-protocol.js';
import { parseInput } from '../fleet-errors.js';
import { DeviceSignatureGuard } from '../guards/device-signature.guard.js';
import { DesiredConfigService } from '../services/desired-config.service.js';
import { DevicesService } from '../services/devices.service.js';

/** What a box may do: only on `/api/v1/devices/{its own id}/…`, every request signed. */
@Controller('api/v1/devices/:id')
@UseGuards(DeviceSignatureGuard)
export class DeviceApiController {
  constructor(
    private readonly devices: DevicesService,
    private readonly desired: DesiredConfigService,
  ) {}

  @Post('heartbeat')
  @HttpCode(200)
  heartbeat(@Param('id') id: string, @Body() body: unknown): Promise<HeartbeatResponse> {
    return this.devices.heartbeat(id, parseInput(heartbeatSchema, body, 'heartbeat'));
  }

  /** An unchanged config is a bodiless 304, so polling every heartbeat costs almost nothing. */
  @Get('config')
  async config(
    @Param('id') id: string,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<DesiredConfig | undefined> {
    const { config, etag } = await this.desired.forDevice(id);
    void reply.header('etag', etag).header('cache-control', 'no-cache');
    if (ifNoneMatch !== undefined && ifNoneMatch.split(',').some((tag) => tag.trim() === etag)) {
      void reply.status(304);
      return undefined;
    }
    return config;
  }

  @Post('actions/:actionId/result')
  @HttpCode(204)
  async actionResult(
    @Param('id') id: string,
    @Param('actionId') actionId: string,
    @Body() body: unknown,
  ): Promise<void> {
    await this.devices.reportAction(id, actionId, parseInput(actionResultSchema, body, 'action result'));
  }
}
