import { Injectable } from '@nestjs/common';
import { ClassboxError, reason } from '../../common/errors.js';
import { createLogger } from '../../common/logger.js';
import { KioskPagePort } from '../ports/kiosk-page.port.js';
import { CameraPort } from '../ports/camera.port.js';
import { StillCameraPort } from '../ports/still-camera.port.js';
import { ConfigService } from './config.service.js';

export interface Snapshot {
  readonly image: Buffer;
  /** `page`: a frame of the page's live stream; `camera`: a still taken by the camera itself. */
  readonly source: 'page' | 'camera';
}

export class SnapshotError extends ClassboxError<'E-CAMERA-NO-PICTURE'> {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E-CAMERA-NO-PICTURE', message, options);
  }
}

/**
 * A JPEG of what the camera sees, for IT. While the page shows the camera (always, once it runs)
 * the camera is busy, so the picture comes from the page's stream; without the page, from a still.
 */
@Injectable()
export class SnapshotService {
  private readonly log = createLogger(SnapshotService.name);

  constructor(
    private readonly page: KioskPagePort,
    private readonly stills: StillCameraPort,
    private readonly camera: CameraPort,
    private readonly config: ConfigService,
  ) {}

  async take(): Promise<Snapshot> {
    let pageProblem: string | undefined;
    if (this.page.isConnected()) {
      try {
        return { image: await this.page.requestSnapshot(), source: 'page' };
      } catch (error) {
        pageProblem = reason(error);
        this.log.warn(`Can't take snapshot from the page: ${pageProblem}; trying the camera`);
      }
    }
    const { width, height } = this.config.current.hardware.camera;
    try {
      const camera = this.camera.current()?.csiIndex ?? 0;
      return { image: await this.stills.capture({ camera, width, height }), source: 'camera' };
    } catch (error) {
      const why = pageProblem ? `the page: ${pageProblem}; the camera: ${reason(error)}` : reason(error);
      throw new SnapshotError(`no picture from ${why}`, { cause: error });
    }
  }
}
