import { Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { reason } from '../../common/errors.js';
import { createLogger } from '../../common/logger.js';
import { CameraPort } from '../ports/camera.port.js';

/**
 * Keeps the camera available to the page (the CSI bridge, if any). Hot-plug during a class is
 * followed by the UplinkService, which stops and resumes the outgoing video with the camera's health.
 */
@Injectable()
export class CameraWatchService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = createLogger(CameraWatchService.name);

  constructor(private readonly camera: CameraPort) {}

  onApplicationBootstrap(): void {
    this.camera
      .ensureStarted()
      .catch((error: unknown) => this.log.error(`Can't start camera: ${reason(error)}`));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.camera
      .ensureStopped()
      .catch((error: unknown) => this.log.warn(`Can't stop camera: ${reason(error)}`));
  }
}
