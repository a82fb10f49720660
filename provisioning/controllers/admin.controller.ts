import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
  Res,
  UseGuards,
} from '@nestjs/common';
import { z } from 'zod';
import type { FastifyReply } from 'fastify';
import { centreId as centreIdSchema } from '../../common/fleet-protocol.js';
import { notFound, parseInput } from '../fleet-errors.js';
import { AdminGuard } from '../guards/admin.guard.js';
import {
  overviewGroupsQuerySchema,
  overviewQuerySchema,
  type Overview,
  type OverviewGroups,
} from '../protocol/overview-api.schema.js';
import { OverviewService } from '../services/overview.service.js';
import {
  deviceHistoryQuerySchema,
  fleetHistoryQuerySchema,
  type DeviceHistory,
  type FleetHistory,
} from '../protocol/history-api.schema.js';
import { HistoryService } from '../services/history.service.js';
import {
  createActionSchema,
  createAdminSchema,
  createCentreSchema,
  idParam,
  mintTokensSchema,
  patchCentreSchema,
  patchDeviceSchema,
} from '../protocol/admin-api.schema.js';
import { AdminAuthService, type AdminView } from '../services/admin-auth.service.js';
import { AuditService, type AuditView } from '../services/audit.service.js';
import { CentresService, type CentreView } from '../services/centres.service.js';
import {
  DevicesService,
  type ActionView,
  type DeviceLogsView,
  type DeviceView,
} from '../services/devices.service.js';
import { EnrolmentService, type MintedToken, type TokenView } from '../services/enrolment.service.js';
import { CatchupStatsService, type CatchupCentreView } from '../services/catchup-stats.service.js';

/** A malformed id can't name anything: answered like an unknown one. */
function id(value: string, what: string): string {
  if (!idParam.safeParse(value).success) throw notFound(what, value);
  return value;
}

@Controller('api/v1/admin')
@UseGuards(AdminGuard)
export class AdminController {
  constructor(
    private readonly centres: CentresService,
    private readonly devices: DevicesService,
    private readonly enrolment: EnrolmentService,
    private readonly admins: AdminAuthService,
    private readonly audit: AuditService,
    private readonly overviews: OverviewService,
    private readonly history: HistoryService,
    private readonly catchup: CatchupStatsService,
  ) {}

  /** Lesson catch-up (issue 21): per centre, minutes missed and caught up over the last `days` (default 30). */
  @Get('catchup')
  catchupStats(
    @Query('days') days: string | undefined,
  ): Promise<{ since: string; centres: CatchupCentreView[] }> {
    const n = parseInput(z.coerce.number().int().min(1).max(366).default(30), days, 'days');
    return this.catchup.perCentre(n);
  }

  /**
   * One page of the fleet, searched, filtered and sorted by the server, with the fleet's counts.
   * The dashboard refreshes with If-None-Match: an unchanged page is a bodiless 304.
   */
  @Get('overview')
  async overview(
    @Query() query: Record<string, string>,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Overview | undefined> {
    const { overview, etag } = await this.overviews.overview(
      parseInput(overviewQuerySchema, query, 'overview query'),
    );
    void reply.header('etag', etag).header('cache-control', 'no-cache');
    if (ifNoneMatch !== undefined && ifNoneMatch.split(',').some((tag) => tag.trim() === etag)) {
      void reply.status(304);
      return undefined;
    }
    return overview;
  }

  /** The grouped view: regions, or one region's centres, with counts online / in class / problem / update failed. */
  @Get('overview/groups')
  async overviewGroups(@Query() query: Record<string, string>): Promise<OverviewGroups> {
    const { region } = parseInput(overviewGroupsQuerySchema, query, 'groups query');
    return this.overviews.groups(region);
  }

  /** Every admin action (API and CLI) with who did it, newest first. */
  @Get('audit')
  async auditLog(@Query('limit') limit: string | undefined): Promise<{ entries: AuditView[] }> {
    const n = parseInput(z.coerce.number().int().min(1).max(1000).default(100), limit, 'limit');
    return { entries: await this.audit.list(n) };
  }

  @Get('admins')
  listAdmins(): Promise<AdminView[]> {
    return this.admins.list();
  }

  @Post('admins')
  @HttpCode(201)
  async createAdmin(@Body() body: unknown): Promise<{ name: string; token: string }> {
    const input = parseInput(createAdminSchema, body, 'admin');
    const token = await this.admins.create(input.name, { expiresInSeconds: input.expiresInSeconds });
    return { name: input.name, token };
  }

  @Delete('admins/:name')
  @HttpCode(204)
  async revokeAdmin(@Param('name') name: string): Promise<void> {
    await this.admins.revoke(name);
  }

  @Get('centres')
  listCentres(): Promise<CentreView[]> {
    return this.centres.list();
  }

  @Post('centres')
  @HttpCode(201)
  createCentre(@Body() body: unknown): Promise<CentreView> {
    return this.centres.create(parseInput(createCentreSchema, body, 'centre'));
  }

  @Get('centres/:centreId')
  getCentre(@Param('centreId') centreId: string): Promise<CentreView> {
    return this.centres.get(id(centreId, 'centre'));
  }

  @Patch('centres/:centreId')
  patchCentre(@Param('centreId') centreId: string, @Body() body: unknown): Promise<CentreView> {
    return this.centres.patch(id(centreId, 'centre'), parseInput(patchCentreSchema, body, 'centre change'));
  }

  @Post('centres/:centreId/enrolment-tokens')
  @HttpCode(201)
  async mintTokens(
    @Param('centreId') centreId: string,
    @Body() body: unknown,
  ): Promise<{ tokens: MintedToken[] }> {
    const input = parseInput(mintTokensSchema, body, 'token request');
    return { tokens: await this.enrolment.mint(id(centreId, 'centre'), input) };
  }

  @Get('centres/:centreId/enrolment-tokens')
  async listTokens(@Param('centreId') centreId: string): Promise<{ tokens: TokenView[] }> {
    return { tokens: await this.enrolment.list(id(centreId, 'centre')) };
  }

  /** Revoke an unused token: a box holding it can't enrol any more. */
  @Delete('centres/:centreId/enrolment-tokens/:tokenId')
  @HttpCode(204)
  async revokeToken(@Param('centreId') centreId: string, @Param('tokenId') tokenId: string): Promise<void> {
    await this.enrolment.revoke(id(centreId, 'centre'), tokenId);
  }

  @Get('devices')
  listDevices(@Query('centre') centre: string | undefined): Promise<DeviceView[]> {
    const filter = parseInput(centreIdSchema.optional(), centre, 'centre filter');
    return this.devices.list(filter);
  }

  @Get('devices/:deviceId')
  getDevice(@Param('deviceId') deviceId: string): Promise<DeviceView> {
    return this.devices.get(id(deviceId, 'device'));
  }

  @Patch('devices/:deviceId')
  patchDevice(@Param('deviceId') deviceId: string, @Body() body: unknown): Promise<DeviceView> {
    return this.devices.rename(
      id(deviceId, 'device'),
      parseInput(patchDeviceSchema, body, 'device change').displayName,
    );
  }

  @Post('devices/:deviceId/actions')
  @HttpCode(201)
  requestAction(@Param('deviceId') deviceId: string, @Body() body: unknown): Promise<ActionView> {
    return this.devices.requestAction(
      id(deviceId, 'device'),
      parseInput(createActionSchema, body, 'action').kind,
    );
  }

  @Get('devices/:deviceId/actions')
  listActions(@Param('deviceId') deviceId: string): Promise<ActionView[]> {
    return this.devices.actions(id(deviceId, 'device'));
  }

  /** The box's vitals over 24 h (per minute) or 7 d (per hour), as columns for the plots. */
  @Get('devices/:deviceId/history')
  deviceHistory(
    @Param('deviceId') deviceId: string,
    @Query() query: Record<string, string>,
  ): Promise<DeviceHistory> {
    return this.history.device(
      id(deviceId, 'device'),
      parseInput(deviceHistoryQuerySchema, query, 'history query'),
    );
  }

  /** Fleet-wide: boxes heard from per hour, class hours per day by region or centre, update failures. */
  @Get('history/fleet')
  fleetHistory(@Query() query: Record<string, string>): Promise<FleetHistory> {
    return this.history.fleetWide(parseInput(fleetHistoryQuerySchema, query, 'history query'));
  }

  @Get('devices/:deviceId/snapshot')
  snapshot(@Param('deviceId') deviceId: string, @Res() reply: FastifyReply): Promise<void> {
    return this.picture(deviceId, 'snapshot', reply);
  }

  /** The kiosk's screen, as the box sent it for a `screenshot` action. */
  @Get('devices/:deviceId/screenshot')
  screenshot(@Param('deviceId') deviceId: string, @Res() reply: FastifyReply): Promise<void> {
    return this.picture(deviceId, 'screenshot', reply);
  }

  /** The box's latest log lines, as it sent them for a `logs` action (secrets redacted). */
  @Get('devices/:deviceId/logs')
  logs(@Param('deviceId') deviceId: string): Promise<DeviceLogsView> {
    return this.devices.logs(id(deviceId, 'device'));
  }

  private async picture(
    deviceId: string,
    kind: 'snapshot' | 'screenshot',
    reply: FastifyReply,
  ): Promise<void> {
    const { jpeg, takenAt } = await this.devices.snapshot(id(deviceId, 'device'), kind);
    await reply
      .header('content-type', 'image/jpeg')
      .header('x-taken-at', takenAt)
      .header('cache-control', 'no-store')
      .send(jpeg);
  }
}
