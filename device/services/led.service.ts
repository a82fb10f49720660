import {
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { reason } from '../../common/errors.js';
import { createLogger } from '../../common/logger.js';
import { LED_TICK_MS, ledLevelAt, statusLedPattern, type LedPattern } from '../domain/led-pattern.js';
import { ClockPort, type TimerHandle } from '../ports/clock.port.js';
import { GpioPort, type GpioLevel, type GpioOutput } from '../ports/gpio.port.js';
import { ClassSessionService } from './class-session.service.js';
import { ConfigService } from './config.service.js';
import { MuteService } from './mute.service.js';

/** The status LED follows the class state; the mute LED follows the microphone. */
@Injectable()
export class LedService implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = createLogger(LedService.name);
  private status: GpioOutput | undefined;
  private muteLed: GpioOutput | undefined;
  private timer: TimerHandle | undefined;
  private selfTestRunning = false;
  private lastStatusLevel: GpioLevel | undefined;
  private lastMuteLevel: GpioLevel | undefined;

  constructor(
    private readonly gpio: GpioPort,
    private readonly clock: ClockPort,
    private readonly session: ClassSessionService,
    private readonly mute: MuteService,
    private readonly config: ConfigService,
  ) {}

  async onModuleInit(): Promise<void> {
    const { statusLed, muteLed } = this.config.current.hardware.gpio;
    // A dark LED is no reason to stop the box: log it (the patterns stay readable in /api/status).
    this.status = await this.open(statusLed, 'status LED');
    this.muteLed = await this.open(muteLed, 'mute LED');
  }

  private async open(bcm: number, label: string): Promise<GpioOutput | undefined> {
    try {
      return await this.gpio.openOutput(bcm, { label, activeLow: false });
    } catch (error) {
      this.log.error(`Can't open LED label="${label}" bcm=${bcm}: ${reason(error)}`);
      return undefined;
    }
  }

  onApplicationBootstrap(): void {
    this.timer = this.clock.setInterval(() => this.tick(), LED_TICK_MS);
    this.tick();
  }

  async onApplicationShutdown(): Promise<void> {
    this.clock.clearInterval(this.timer);
    for (const led of [this.status, this.muteLed]) {
      await led?.write(0).catch(() => undefined);
      await led?.close().catch(() => undefined);
    }
  }

  setSelfTestRunning(running: boolean): void {
    this.selfTestRunning = running;
    this.tick();
  }

  patterns(): { status: LedPattern; mute: LedPattern } {
    return {
      status: statusLedPattern(this.session.state.state, this.selfTestRunning),
      mute: this.mute.isMuted ? 'solid' : 'off',
    };
  }

  private tick(): void {
    const now = this.clock.now();
    const { status, mute } = this.patterns();
    const statusLevel = ledLevelAt(status, now);
    const muteLevel = ledLevelAt(mute, now);
    if (statusLevel !== this.lastStatusLevel) {
      this.lastStatusLevel = statusLevel;
      this.status
        ?.write(statusLevel)
        .catch((error: unknown) => this.log.warn(`Can't set status LED: ${reason(error)}`));
    }
    if (muteLevel !== this.lastMuteLevel) {
      this.lastMuteLevel = muteLevel;
      this.muteLed
        ?.write(muteLevel)
        .catch((error: unknown) => this.log.warn(`Can't set mute LED: ${reason(error)}`));
    }
  }
}
