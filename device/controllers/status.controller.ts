import { Controller, Get, Header } from '@nestjs/common';
import { StatusService, type DeviceStatus } from '../services/status.service.js';
import { MetricsService } from '../services/metrics.service.js';

@Controller()
export class StatusController {
  constructor(
    private readonly status: StatusService,
    private readonly metrics: MetricsService,
  ) {}

  @Get('api/status')
  get(): DeviceStatus {
    return this.status.status();
  }

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  async prometheus(): Promise<string> {
    return this.metrics.text();
  }
}
