import { Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { reason } from '../../common/errors.js';
import { createLogger } from '../../common/logger.js';
import { KioskPageGateway } from '../gateways/kiosk-page.gateway.js';
import { CameraPort } from '../ports/camera.port.js';
import { ClassSessionService } from './class-session.service.js';
import { HealthService } from './health.service.js';
import { ScreenService } from './screen.service.js';

/**
 * Keeps the camera available to the page (the CSI bridge, if any) and follows hot-plug during a
 * class: a camera lost mid-class stops the outgoing video and the class goes on with sound; the
 * camera back resumes the video, without anyone pressing anything.
 */
@Injectable()
export class CameraWatchService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = createLogger(CameraWatchService.name);
  /** Whether the page sends video in the current class; undefined outside a class. */
  private videoOn: boolean | undefined;

  constructor(
    private readonly camera: CameraPort,
    private readonly health: HealthService,
    private readonly session: ClassSessionService,
    private readonly page: KioskPageGateway,
    private readonly screen: ScreenService,
  ) {}

  onApplicationBootstrap(): void {
    const owner = CameraWatchService.name;
    this.health.changed.on(owner, () => this.sync());
    this.session.changed.on(owner, () => this.sync());
    this.camera
      .ensureStarted()
      .catch((error: unknown) => this.log.error(`Can't start camera: ${reason(error)}`));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.camera
      .ensureStopped()
      .catch((error: unknown) => this.log.warn(`Can't stop camera: ${reason(error)}`));
  }

  private sync(): void {
    const { state } = this.session.state;
    const cameraOk = this.health.get('camera').status === 'ok';
    if (state !== 'live' && state !== 'reconnecting') {
      if (this.videoOn !== undefined) {
        this.videoOn = undefined;
        this.screen.setAudioOnly(false);
      }
      return;
    }
    if (this.videoOn === undefined) {
      // Just went live: the page published video only if the camera was there at the join.
      this.videoOn = cameraOk;
      if (!cameraOk) this.screen.setAudioOnly(true);
      return;
    }
    if (cameraOk === this.videoOn) return;
    this.videoOn = cameraOk;
    this.page.send({ type: 'publisher.video', enabled: cameraOk });
    this.screen.setAudioOnly(!cameraOk);
    if (cameraOk) this.log.info('Resumed video: the camera is back');
    else
      this.log.warn(
        `Stopped video, class goes on with sound: ${this.health.get('camera').detail ?? 'camera lost'}`,
      );
  }
}
