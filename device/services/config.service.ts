import { Injectable } from '@nestjs/common';
import { Signal } from '../../common/signal.js';
import type { DeviceConfig } from '../config/device-config.schema.js';

/** The effective device config; replaced as a whole when the fleet sends a new one. */
@Injectable()
export class ConfigService {
  readonly changed = new Signal<DeviceConfig>('config.changed');

  constructor(private config: DeviceConfig) {}

  get current(): DeviceConfig {
    return this.config;
  }

  replace(next: DeviceConfig): void {
    this.config = next;
    this.changed.emit(next);
  }
}
