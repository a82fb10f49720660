import { Injectable } from '@nestjs/common';
import { createLogger } from '../../common/logger.js';
import { HostPort } from '../ports/host.port.js';

/** A laptop or CI pretending to be a box: a reboot is only logged and counted. */
@Injectable()
export class SimHost extends HostPort {
  private readonly log = createLogger(SimHost.name);
  reboots = 0;

  uptimeSec(): Promise<number> {
    return Promise.resolve(Math.round(process.uptime()));
  }

  temperatureC(): Promise<number | undefined> {
    return Promise.resolve(undefined);
  }

  reboot(): Promise<void> {
    this.reboots++;
    this.log.warn('Rebooting (simulated): nothing happens in sim mode');
    return Promise.resolve();
  }
}
