import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { enrolRequestSchema, type EnrolResponse } from '../../common/fleet-protocol.js';
import { VERSION } from '../../common/version.js';
import { parseInput } from '../fleet-errors.js';
import { FleetRepository } from '../repositories/fleet.repository.js';
import { EnrolmentService } from '../services/enrolment.service.js';

@Controller('api/v1')
export class EnrolController {
  constructor(
    private readonly enrolment: EnrolmentService,
    private readonly repo: FleetRepository,
  ) {}

  /** Rate-limited per client address (see fleet-server.ts). */
  @Post('enrol')
  @HttpCode(201)
  enrol(@Body() body: unknown): Promise<EnrolResponse> {
    return this.enrolment.enrol(parseInput(enrolRequestSchema, body, 'enrolment'));
  }

  /** For load balancers and the CLI: answers only when the database does. */
  @Get('health')
  async health(): Promise<{ ok: true; version: string }> {
    await this.repo.ping();
    return { ok: true, version: VERSION };
  }
}
