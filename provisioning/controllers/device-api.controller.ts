import { Body, Controller, Get, Headers, HttpCode, Param, Post, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import {
  type ClassPlacement,
  actionResultSchema,
  heartbeatSchema,
  type DesiredConfig,
  type HeartbeatResponse,
} from '../../common/fleet-protocol.js';
import { CATCHUP_FIELD, cutRequestSchema, type Cut } from '../../common/catchup-protocol.js';
import { sendByteRange } from '../../common/http-range.js';
import { FleetApiError, parseInput } from '../fleet-errors.js';
import { CatchupCutsService } from '../services/catchup-cuts.service.js';
import { CatchupStatsService } from '../services/catchup-stats.service.js';
import { DeviceSignatureGuard, SignedDeviceOf, StoresNonceItself } from '../guards/device-signature.guard.js';
import { DesiredConfigService } from '../services/desired-config.service.js';
import { DevicesService } from '../services/devices.service.js';
import { ClassPlacementService } from '../services/class-placement.service.js';
import { ReleasesService } from '../services/releases.service.js';
import type { SignedDevice } from '../services/request-signature.service.js';

/** What a box may do: only on `/api/v1/devices/{its own id}/…`, every request signed. */
@Controller('api/v1/devices/:id')
@UseGuards(DeviceSignatureGuard)
export class DeviceApiController {
  constructor(
    private readonly devices: DevicesService,
    private readonly desired: DesiredConfigService,
    private readonly releases: ReleasesService,
    private readonly placements: ClassPlacementService,
    private readonly cuts: CatchupCutsService,
    private readonly catchupStats: CatchupStatsService,
  ) {}

  /**
   * Where the box's class is now (issue 19): asked by a box that lost its Janus, so it follows a
   * class the fleet moved without waiting for its next heartbeat. 404 E-NOT-PLACED: no media node.
   */
  @Get('placement')
  async placement(@SignedDeviceOf() signed: SignedDevice): Promise<ClassPlacement> {
    const view = await this.placements.view(signed.row.centre_id);
    if (!view)
      throw new FleetApiError(
        404,
        'E-NOT-PLACED',
        `the class of centre "${signed.row.centre_id}" is not placed on a media node`,
      );
    return { url: view.node.wsUrl, room: view.room, fallbackUrls: view.fallbacks.map((f) => f.wsUrl) };
  }

  @Post('heartbeat')
  @HttpCode(200)
  // Its nonce goes in with the heartbeat's own write: one transaction per heartbeat batch, not two.
  @StoresNonceItself()
  async heartbeat(@SignedDeviceOf() signed: SignedDevice, @Body() body: unknown): Promise<HeartbeatResponse> {
    const beat = parseInput(heartbeatSchema, body, 'heartbeat');
    const answer = await this.devices.heartbeat(signed, beat);
    const update = await this.releases.onHeartbeat(signed.row, beat.update);
    if (beat.catchup) await this.catchupStats.record(signed.row.id, signed.row.centre_id, beat.catchup);
    // The optional fields this server takes (a box sends them only when listed here).
    const accepts = [CATCHUP_FIELD];
    return update ? { ...answer, update, accepts } : { ...answer, accepts };
  }

  /**
   * Lesson catch-up (issue 21): cut a stretch of the teacher's recording of the box's room. 404
   * E-CATCHUP-NO-RECORDING when no recording holds it, 422 E-CATCHUP-RECORDING-BAD when it can't be cut.
   */
  @Post('catchup/cuts')
  @HttpCode(200)
  async cut(@SignedDeviceOf() signed: SignedDevice, @Body() body: unknown): Promise<Cut> {
    return this.cuts.cut(signed.row.id, parseInput(cutRequestSchema, body, 'cut request'));
  }

  /** A cut's bytes, resumable: `Range: bytes=N-` gives a 206. */
  @Get('catchup/cuts/:cutId')
  async cutBytes(
    @SignedDeviceOf() signed: SignedDevice,
    @Param('cutId') cutId: string,
    @Headers('range') range: string | undefined,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const cut = await this.cuts.open(signed.row.id, cutId);
    await sendByteRange(reply, range, cut.size, 'video/webm', (start, end) => cut.open(start, end));
  }

  /** The release payload, resumable: `Range: bytes=N-` or `bytes=N-M` gives a 206. */
  @Get('releases/:version/payload')
  async payload(
    @Param('id') id: string,
    @Param('version') version: string,
    @Headers('range') range: string | undefined,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const payload = await this.releases.payloadFor(id, version);
    await sendByteRange(reply, range, payload.size, 'application/octet-stream', (start, end) =>
      payload.open(start, end),
    );
  }

  /** An unchanged config is a bodiless 304, so polling every heartbeat costs almost nothing. */
  @Get('config')
  config(
    @SignedDeviceOf() signed: SignedDevice,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): DesiredConfig | undefined {
    const { config, etag } = this.desired.forSignedDevice(signed.row);
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
