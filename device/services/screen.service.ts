import { Injectable, Optional, type OnApplicationBootstrap } from '@nestjs/common';
import { VERSION } from '../../common/version.js';
import { UNENROLLED_IDENTITY } from '../config/config-layers.js';
import { KioskPagePort } from '../ports/kiosk-page.port.js';
import { selfTestDetail } from '../domain/self-test.js';
import { CameraPort } from '../ports/camera.port.js';
import { MicrophonePort } from '../ports/microphone.port.js';
import { SpeakerPort } from '../ports/speaker.port.js';
import type { ScreenState } from '../protocol/kiosk-messages.js';
import { ButtonsService } from './buttons.service.js';
import { ClassSessionService } from './class-session.service.js';
import { ConfigService } from './config.service.js';
import { HealthService } from './health.service.js';
import { MediaService } from './media.service.js';
import { MuteService } from './mute.service.js';
import { NextClassService } from './next-class.service.js';
import { UplinkService } from './uplink.service.js';
import { SelfTestService } from './self-test.service.js';
import { ReplayService } from './replay.service.js';

/** Draws nothing itself: tells the kiosk page what to show whenever anything it shows changes. */
@Injectable()
export class ScreenService implements OnApplicationBootstrap {
  private scheduled = false;
  private sentLabels = '';
  private sentMedia = '';

  constructor(
    private readonly page: KioskPagePort,
    private readonly session: ClassSessionService,
    private readonly buttons: ButtonsService,
    private readonly mute: MuteService,
    private readonly health: HealthService,
    private readonly config: ConfigService,
    private readonly uplink: UplinkService,
    private readonly selfTest: SelfTestService,
    private readonly camera: CameraPort,
    private readonly microphone: MicrophonePort,
    private readonly speaker: SpeakerPort,
    private readonly media: MediaService,
    @Optional() private readonly nextClass?: NextClassService,
    @Optional() private readonly replay?: ReplayService,
  ) {}

  onApplicationBootstrap(): void {
    const owner = ScreenService.name;
    const redraw = (): void => this.schedule();
    this.session.changed.on(owner, redraw);
    this.buttons.holdProgress.on(owner, redraw);
    this.mute.changed.on(owner, redraw);
    this.health.changed.on(owner, redraw);
    this.selfTest.changed.on(owner, redraw);
    // A different camera or microphone plugged in has a different label: the page must pick it anew.
    this.health.changed.on(owner, () => {
      if (this.labels() !== this.sentLabels) this.sendConfig();
    });
    this.config.changed.on(owner, redraw);
    // The fleet may change the profile or the bitrate cap: the page prepares its publisher anew with them.
    this.config.changed.on(owner, () => {
      if (this.mediaKey() !== this.sentMedia) this.sendConfig();
    });
    this.uplink.changed.on(owner, redraw);
    this.nextClass?.changed.on(owner, redraw);
    this.replay?.changed.on(owner, redraw);
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
      enrolled: config.fleet === undefined || config.device.id !== UNENROLLED_IDENTITY.id,
      muted: this.mute.isMuted,
      remoteFeeds: this.session.remoteFeeds.map(({ feed, display }) => ({ feed, display })),
      health: this.health.snapshot(),
      errorCode: snapshot.errorCode,
      endCountdownMs: this.buttons.endCountdownMs(),
      endHoldMs: config.session.endHoldMs,
      selfTestHoldMs: config.session.selfTestHoldMs,
      hint: this.session.currentHint,
      joinStep: this.session.joinStep,
      audioOnly: this.uplink.audioOnly,
      nextClass: this.nextClass?.next(),
      selfTest: this.selfTest.results()?.map((r) => ({
        check: r.check,
        status: r.status,
        ...(selfTestDetail(r) ? { detail: selfTestDetail(r) } : {}),
      })),
      version: VERSION,
      ...(this.replay?.view() ? { catchup: this.replay.view() } : {}),
    };
  }

  private sendConfig(): void {
    const { janus } = this.config.current;
    const media = this.media.current();
    this.sentLabels = this.labels();
    this.sentMedia = this.mediaKey();
    this.page.send({
      type: 'config',
      media: {
        width: media.width,
        height: media.height,
        fps: media.fps,
        cameraLabel: this.camera.current()?.browserLabel,
        microphoneLabel: this.microphone.current()?.browserLabel,
        speakerLabel: this.speaker.current()?.browserLabel,
      },
      iceServers: janus.iceServers,
      bitrateKbps: media.videoKbps,
      profile: {
        name: media.profile.name,
        videoCodec: media.profile.videoCodec,
        audioKbps: media.audioKbps,
        layers: this.media.layers(),
      },
    });
  }

  /** What the page's publisher is made with: a change means it prepares it anew. */
  private mediaKey(): string {
    return JSON.stringify({ ...this.media.current(), layers: this.media.layers() });
  }

  private labels(): string {
    return [this.camera.current(), this.microphone.current(), this.speaker.current()]
      .map((d) => d?.browserLabel ?? '')
      .join('\n');
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
