import { Injectable, type OnModuleInit } from '@nestjs/common';
import type { MediaStatus } from '../../common/media-report.js';
import { VERSION } from '../../common/version.js';
import type { LedPattern } from '../domain/led-pattern.js';
import type { SessionState } from '../domain/class-session.machine.js';
import type { SelfTestResult } from '../domain/self-test.js';
import { BoardPort } from '../ports/board.port.js';
import type { DeviceHealth } from '../ports/health.js';
import { ClassSessionService } from './class-session.service.js';
import { ConfigService } from './config.service.js';
import { HealthService } from './health.service.js';
import { LedService } from './led.service.js';
import { MediaService } from './media.service.js';
import { MuteService } from './mute.service.js';
import { UplinkService } from './uplink.service.js';
import { SelfTestService } from './self-test.service.js';

/** The body of GET /api/status (a contract: see DESIGN.md). */
export interface DeviceStatus {
  state: SessionState;
  room: number | null;
  feed: string | null;
  remoteFeeds: { feed: string; display: string }[];
  health: Record<string, DeviceHealth>;
  version: string;
  /** The board model (`/proc/device-tree/model`, e.g. "Raspberry Pi 5 Model B Rev 1.0"); null on a PC. */
  board: string | null;
  deviceId: string;
  displayName: string;
  errorCode: string | null;
  muted: boolean;
  leds: { status: LedPattern; mute: LedPattern };
  /** Sound only because the uplink can't carry video; what the page measured going out. */
  network: { audioOnly: boolean; audioOnlyReason: 'camera' | 'uplink' | null; uplinkKbps: number | null };
  /** The self-test's results while they are on screen, else null. */
  selfTest: readonly SelfTestResult[] | null;
  /** The media profile and, in class, what the page measures of what it sends and receives (issue 16). */
  media: MediaStatus;
}

@Injectable()
export class StatusService implements OnModuleInit {
  private board: string | undefined;

  constructor(
    private readonly session: ClassSessionService,
    private readonly health: HealthService,
    private readonly mute: MuteService,
    private readonly leds: LedService,
    private readonly config: ConfigService,
    private readonly uplink: UplinkService,
    private readonly selfTest: SelfTestService,
    private readonly boards: BoardPort,
    private readonly media: MediaService,
  ) {}

  /** The board does not change while the daemon runs: read once. */
  async onModuleInit(): Promise<void> {
    this.board = await this.boards.model().catch(() => undefined);
  }

  status(): DeviceStatus {
    const snapshot = this.session.state;
    const config = this.config.current;
    return {
      state: snapshot.state,
      room: this.session.currentRoom ?? config.janus.room ?? null,
      feed: this.session.currentFeed ?? null,
      remoteFeeds: this.session.remoteFeeds.map(({ feed, display }) => ({ feed, display })),
      health: this.health.snapshot(),
      version: VERSION,
      board: this.board ?? null,
      deviceId: config.device.id,
      displayName: config.device.displayName,
      errorCode: snapshot.errorCode ?? null,
      muted: this.mute.isMuted,
      leds: this.leds.patterns(),
      network: {
        audioOnly: this.uplink.audioOnly,
        audioOnlyReason: this.uplink.audioOnlyReason ?? null,
        uplinkKbps: this.uplink.uplinkKbps ?? null,
      },
      selfTest: this.selfTest.results() ?? null,
      media: this.media.status(),
    };
  }
}
