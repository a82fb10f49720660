import { Controller, Get, Header, ServiceUnavailableException } from '@nestjs/common';
import { reason } from '../../common/errors.js';
import { KioskBrowserPort } from '../ports/kiosk-browser.port.js';
import { StatusService, type DeviceStatus } from '../services/status.service.js';
import { MetricsService } from '../services/metrics.service.js';

@Controller()
export class StatusController {
  constructor(
    private readonly status: StatusService,
    private readonly metrics: MetricsService,
    private readonly kiosk: KioskBrowserPort,
  ) {}

  /** What the box's screen shows right now, as PNG (IT diagnostics, the headless demo). */
  @Get('api/kiosk/screenshot')
  @Header('Content-Type', 'image/png')
  @Header('Cache-Control', 'no-store')
  async screenshot(): Promise<Buffer> {
    try {
      return await this.kiosk.screenshot();
    } catch (error) {
      throw new ServiceUnavailableException(`can't take a screenshot: ${reason(error)}`);
    }
  }

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
