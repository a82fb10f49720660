import { Injectable, Optional, type OnApplicationBootstrap } from '@nestjs/common';
import { VERSION } from '../../common/version.js';
import { KioskPageGateway } from '../gateways/kiosk-page.gateway.js';
import type { ScreenState } from '../protocol/kiosk-messages.js';
import { ButtonsService } from './buttons.service.js';
import { ClassSessionService } from './class-session.service.js';
import { ConfigService } from './config.service.js';
import { FleetClientService } from './fleet-client.service.js';
import { HealthService } from './health.service.js';
import { MuteService } from './mute.service.js';
import { UplinkService } from './uplink.service.js';

/** Draws nothing itself: tells the kiosk page what to show whenever anything it shows changes. */
@Injectable()
export class ScreenService implements OnApplicationBootstrap {
  private scheduled = false;

  constructor(
    private readonly page: KioskPageGateway,
    private readonly session: ClassSessionService,
    private readonly buttons: ButtonsService,
    private readonly mute: MuteService,
    private readonly health: HealthService,
    private readonly config: ConfigService,
    private readonly uplink: UplinkService,
    @Optional() private readonly fleet?: FleetClientService,
  ) {}

  onApplicationBootstrap(): void {
    const owner = ScreenService.name;
    const redraw = (): void => this.schedule();
    this.session.changed.on(owner, redraw);
    this.buttons.holdProgress.on(owner, redraw);
    this.mute.changed.on(owner, redraw);
    this.health.changed.on(owner, redraw);
    this.config.changed.on(owner, redraw);
    this.uplink.changed.on(owner, redraw);
    this.fleet?.nextClassChanged.on(owner, redraw);
    this.page.connected.on(owner, () => {
      this.sendConfig();
      this.schedule();
    });
  }

  screen(): ScreenState {
    const config = this.config.current;
    const snapshot = this.session.state;
    return {
      state: snapshot.state,
      displayName: config.device.displayName,
      centreName: config.device.centreName,
      room: this.session.currentRoom ?? config.janus.room,
      configured: config.janus.url !== undefined && config.janus.room !== undefined,
      muted: this.mute.isMuted,
      remoteFeeds: this.session.remoteFeeds.map(({ feed, display }) => ({ feed, display })),
      health: this.health.snapshot(),
      errorCode: snapshot.errorCode,
      endCountdownMs: this.buttons.endCountdownMs(),
      endHoldMs: config.session.endHoldMs,
      hint: this.session.currentHint,
      joinStep: this.session.joinStep,
      audioOnly: this.uplink.audioOnly,
      nextClass: this.fleet?.nextClass(),
      version: VERSION,
    };
  }

  private sendConfig(): void {
    const { hardware, janus } = this.config.current;
    this.page.send({
      type: 'config',
      media: { width: hardware.camera.width, height: hardware.camera.height, fps: hardware.camera.fps },
      iceServers: janus.iceServers,
      bitrateKbps: janus.bitrateKbps,
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.page.send({ type: 'screen', screen: this.screen() });
    });
  }
}
