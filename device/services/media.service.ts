import { Injectable, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import type { MediaReport, MediaStatus, Receiving } from '../../common/media-report.js';
import { createLogger } from '../../common/logger.js';
import {
  effectiveMedia,
  MEDIA_PROFILES,
  profileForBoard,
  type EffectiveMedia,
} from '../domain/media-profile.js';
import type { PictureLayer } from '../domain/receive-layers.js';
import { KioskPagePort } from '../ports/kiosk-page.port.js';
import { BoardPort } from '../ports/board.port.js';
import { ClockPort } from '../ports/clock.port.js';
import { ConfigService } from './config.service.js';

/** The page reports every 5 s; a report three times that old describes a class that has ended. */
const REPORT_MAX_AGE_MS = 15_000;

/**
 * The box's media (issue 16): which profile it sends with — `media.profile` when the config names one,
 * else the board's — and the page's latest report of what it sends and receives, for the status API and
 * the heartbeat. The board does not change while the daemon runs, so it is read once.
 */
@Injectable()
export class MediaService implements OnModuleInit, OnApplicationBootstrap {
  private readonly log = createLogger(MediaService.name);
  private board: string | undefined;
  private report: { at: number; report: MediaReport } | undefined;
  private receiving: readonly Receiving[] | undefined;

  constructor(
    private readonly config: ConfigService,
    private readonly boards: BoardPort,
    private readonly page: KioskPagePort,
    private readonly clock: ClockPort,
  ) {}

  async onModuleInit(): Promise<void> {
    this.board = await this.boards.model().catch(() => undefined);
    const media = this.current();
    this.log.info(
      `Chose media profile profile=${media.profile.name} from=${this.config.current.media.profile ? 'config' : 'board'} size=${media.width}x${media.height} fps=${media.fps} videoKbps=${media.videoKbps} layers=${this.layers()} maxThumbnails=${this.maxThumbnails()} maxTeacherLayer=${this.maxTeacherLayer()}`,
    );
  }

  onApplicationBootstrap(): void {
    const owner = MediaService.name;
    this.page.mediaStats.on(owner, (m) => {
      this.report = { at: this.clock.now(), report: m.report };
    });
    this.page.disconnected.on(owner, () => {
      this.report = undefined;
    });
  }

  /** What the page is told to capture and send. */
  current(): EffectiveMedia {
    const { media, hardware, janus } = this.config.current;
    const name = media.profile ?? profileForBoard(this.board);
    return effectiveMedia(MEDIA_PROFILES[name], hardware.camera, janus.bitrateKbps);
  }

  /** Other centres' videos decoded at once besides the teacher's: the config's, else the profile's. */
  maxThumbnails(): number {
    return this.config.current.media.maxThumbnails ?? this.current().profile.maxThumbnails;
  }

  /** The largest of the teacher's layers asked for: the config's, else the profile's (docs/media.md, "Receiving"). */
  maxTeacherLayer(): PictureLayer {
    return this.config.current.media.maxTeacherLayer ?? this.current().profile.maxTeacherLayer;
  }

  /** Simulcast layers sent: the config's, else the profile's (docs/media.md, "Layers"). */
  layers(): number {
    return this.config.current.media.layers ?? this.current().profile.layers;
  }

  /** What the box receives of each publisher now (ReceiveService), undefined outside a class. */
  setReceiving(receiving: readonly Receiving[] | undefined): void {
    this.receiving = receiving;
  }

  /** The profile, and the page's measurements while they are fresh (in class). */
  status(): MediaStatus {
    const fresh =
      this.report && this.clock.now() - this.report.at <= REPORT_MAX_AGE_MS ? this.report.report : undefined;
    return {
      profile: this.current().profile.name,
      maxThumbnails: this.maxThumbnails(),
      ...(fresh ?? {}),
      ...(this.receiving ? { receiving: [...this.receiving] } : {}),
    };
  }
}
