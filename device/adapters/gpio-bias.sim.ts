import { Injectable } from '@nestjs/common';
import { GpioBiasPort, type GpioBias } from '../ports/gpio-bias.port.js';

/** Pulls without a header: remembered, so a test or the demo can see what the daemon asked for. */
@Injectable()
export class SimGpioBias extends GpioBiasPort {
  readonly biases = new Map<number, GpioBias>();

  async ensureBias(bcm: number, bias: GpioBias): Promise<void> {
    this.biases.set(bcm, bias);
  }
}
