import { Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { reason } from '../../common/errors.js';
import { createLogger } from '../../common/logger.js';
import { Signal } from '../../common/signal.js';
import { PressDetector, type PressEvent } from '../domain/press-detector.js';
import { ClockPort, type TimerHandle } from '../ports/clock.port.js';
import { GpioError, GpioPort, type GpioInput, type GpioLevel } from '../ports/gpio.port.js';
import { ClassSessionService } from './class-session.service.js';
import { ConfigService } from './config.service.js';
import { HealthService } from './health.service.js';
import { MetricsService } from './metrics.service.js';
import { MuteService } from './mute.service.js';

export type ButtonName = 'class' | 'mute';

const POLL_MS = 50;
export const MAX_SIMULATED_HOLD_MS = 30_000;

interface Button {
  readonly name: ButtonName;
  readonly pin: number;
  readonly detector: PressDetector;
  input?: GpioInput;
  settleTimer?: TimerHandle;
  holdTimer?: TimerHandle;
  /** A hold during this press already did something; its release is not a short press. */
  consumed: boolean;
}

/**
 * The physical buttons: pin edges → debounce and hold detection → class and mute actions.
 * The class button starts a class as it goes down (issue 17: the press and its release are not
 * waited for) and ends a live one only when held. The mute button toggles the microphone on its
 * release, so that holding it 5 s while idle can start the self-test instead.
 */
@Injectable()
export class ButtonsService implements OnModuleInit, OnApplicationShutdown {
  private readonly log = createLogger(ButtonsService.name);
  private readonly buttons: Record<ButtonName, Button>;
  private readonly debounceMs: number;
  private readonly endHoldMs: number;
  private readonly activeLow: boolean;
  readonly holdProgress = new Signal<void>('buttons.holdProgress');

  constructor(
    private readonly gpio: GpioPort,
    private readonly clock: ClockPort,
    private readonly session: ClassSessionService,
    private readonly mute: MuteService,
    private readonly metrics: MetricsService,
    config: ConfigService,
    private readonly health: HealthService,
  ) {
    const { gpio: pins } = config.current.hardware;
    const { endHoldMs, selfTestHoldMs } = config.current.session;
    const debounceMs = pins.debounceMs;
    this.debounceMs = debounceMs;
    this.endHoldMs = endHoldMs;
    this.activeLow = pins.activeLow;
    this.buttons = {
      class: {
        name: 'class',
        pin: pins.classButton,
        detector: new PressDetector({ debounceMs, holdThresholdsMs: [endHoldMs] }),
        consumed: false,
      },
      mute: {
        name: 'mute',
        pin: pins.muteButton,
        detector: new PressDetector({ debounceMs, holdThresholdsMs: [selfTestHoldMs] }),
        consumed: false,
      },
    };
  }

  async onModuleInit(): Promise<void> {
    const problems: string[] = [];
    let code = 'E-GPIO';
    for (const button of Object.values(this.buttons)) {
      // A wrong pin or a missing chip must not stop the daemon (it would restart in a loop):
      // the screen and the status API say what is wrong, and IT can still reach the box.
      try {
        button.input = await this.gpio.openInput(button.pin, {
          label: `${button.name} button`,
          activeLow: this.activeLow,
        });
      } catch (error) {
        if (error instanceof GpioError) code = error.code;
        problems.push(reason(error));
        this.log.error(`Can't open button button=${button.name} bcm=${button.pin}: ${reason(error)}`);
        continue;
      }
      button.input.watch((level, at) => this.onEdge(button, level, at));
      this.log.info(`Opened button button=${button.name} bcm=${button.pin}`);
    }
    this.health.set(
      'buttons',
      problems.length === 0 ? { status: 'ok' } : { status: 'error', code, detail: problems.join('; ') },
    );
  }

  async onApplicationShutdown(): Promise<void> {
    for (const button of Object.values(this.buttons)) {
      this.clock.clearTimeout(button.settleTimer);
      this.clock.clearInterval(button.holdTimer);
      await button.input?.close().catch(() => undefined);
    }
  }

  /** ms left before a held class button ends the class, while it is held in a class. */
  endCountdownMs(): number | undefined {
    const button = this.buttons.class;
    if (!button.detector.isDown || button.consumed) return undefined;
    const state = this.session.state.state;
    if (state !== 'live' && state !== 'reconnecting') return undefined;
    return Math.max(0, this.endHoldMs - button.detector.heldFor(this.clock.now()));
  }

  /** Press a button as a person would, through the pin (sim mode); resolves after release settles. */
  async simulatePress(name: ButtonName, holdMs: number): Promise<void> {
    const button = this.buttons[name];
    this.gpio.simulateInput(button.pin, 1);
    await this.clock.sleep(holdMs);
    this.gpio.simulateInput(button.pin, 0);
    await this.clock.sleep(this.debounceMs + POLL_MS);
  }

  private onEdge(button: Button, level: GpioLevel, at: number): void {
    this.handle(button, button.detector.input(level === 1, at));
    // Settle the level once the debounce time has passed without another edge.
    this.clock.clearTimeout(button.settleTimer);
    button.settleTimer = this.clock.setTimeout(
      () => this.handle(button, button.detector.poll(this.clock.now())),
      this.debounceMs + 1,
    );
  }

  private handle(button: Button, events: PressEvent[]): void {
    for (const event of events) {
      switch (event.type) {
        case 'down':
          button.consumed = false;
          this.clock.clearInterval(button.holdTimer);
          button.holdTimer = this.clock.setInterval(() => {
            this.handle(button, button.detector.poll(this.clock.now()));
            this.holdProgress.emit();
          }, POLL_MS);
          // A press that starts a class is spent: neither its hold nor its release ends that class.
          if (button.name === 'class' && this.session.dispatch({ type: 'classPressed' })) {
            button.consumed = true;
            this.metrics.presses.inc({ button: 'class', kind: 'short' });
            this.log.info('Pressed button button=class action=classPressed');
          }
          this.holdProgress.emit();
          break;
        case 'hold':
          if (button.consumed) break;
          if (button.name === 'class') this.onClassHold(button, event.thresholdMs);
          else this.onMuteHold(button, event.thresholdMs);
          break;
        case 'up':
          this.clock.clearInterval(button.holdTimer);
          button.holdTimer = undefined;
          if (!button.consumed) this.onRelease(button, event.heldMs);
          this.holdProgress.emit();
          break;
      }
    }
  }

  /** A press that did nothing on the way down: the class button hints, the mute button toggles. */
  private onRelease(button: Button, heldMs: number): void {
    if (button.name === 'mute') {
      this.metrics.presses.inc({ button: 'mute', kind: 'short' });
      this.mute.toggle();
      return;
    }
    this.log.info(`Released button button=class heldMs=${heldMs}`);
    this.session.dispatch({ type: 'classReleasedShort' });
  }

  private onClassHold(button: Button, thresholdMs: number): void {
    if (this.session.dispatch({ type: 'classEndHoldReached' })) {
      button.consumed = true;
      this.metrics.presses.inc({ button: 'class', kind: 'hold' });
      this.log.info(`Held button button=class ms=${thresholdMs} action=classEndHoldReached`);
    }
  }

  /** Held 5 s while idle (or on the error screen): the self-test, and the release does not toggle mute. */
  private onMuteHold(button: Button, thresholdMs: number): void {
    if (this.session.dispatch({ type: 'selfTestHoldReached' })) {
      button.consumed = true;
      this.metrics.presses.inc({ button: 'mute', kind: 'hold' });
      this.log.info(`Held button button=mute ms=${thresholdMs} action=selfTestHoldReached`);
    }
  }
}
