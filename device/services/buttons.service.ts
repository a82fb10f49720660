import { Injectable, Optional, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { reason } from '../../common/errors.js';
import { createLogger } from '../../common/logger.js';
import { Signal } from '../../common/signal.js';
import { PressDetector, type PressEvent } from '../domain/press-detector.js';
import { keyCode, keyName } from '../domain/input-events.js';
import { ClockPort, type TimerHandle } from '../ports/clock.port.js';
import { GpioBiasPort } from '../ports/gpio-bias.port.js';
import { GpioError, GpioPort, type GpioLevel } from '../ports/gpio.port.js';
import type { DeviceHealth } from '../ports/health.js';
import { KeyInputPort, type KeyInputEvent } from '../ports/key-input.port.js';
import { ClassSessionService } from './class-session.service.js';
import { ConfigService } from './config.service.js';
import { HealthService } from './health.service.js';
import { MetricsService } from './metrics.service.js';
import { MuteService } from './mute.service.js';
import { ReplayService } from './replay.service.js';

export type ButtonName = 'class' | 'mute';

const POLL_MS = 50;
export const MAX_SIMULATED_HOLD_MS = 30_000;

/** Where a button's presses come from (hardware.buttons): a GPIO pin, or a key of a USB input device. */
type ButtonSource = { kind: 'gpio'; pin: number } | { kind: 'usb'; device?: string; key: number };

interface Button {
  readonly name: ButtonName;
  readonly source: ButtonSource;
  readonly detector: PressDetector;
  input?: { close(): Promise<void> };
  /** Why the button can't be used now (not opened, held since start, USB device unplugged); ok otherwise. */
  problem?: { code: string; detail: string };
  /** A pull that could not be set: the button may still work (config.txt), so it is only a warning. */
  biasProblem?: string;
  settleTimer?: TimerHandle;
  holdTimer?: TimerHandle;
  /** A hold during this press already did something; its release is not a short press. */
  consumed: boolean;
}

/**
 * The physical buttons: pin edges or USB key events → debounce and hold detection → class and mute
 * actions. Both sources feed the same press detector, so a USB button behaves exactly as a wired one.
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
    private readonly keys: KeyInputPort,
    private readonly bias: GpioBiasPort,
    /** Lesson catch-up (issue 21, fleet boxes): while idle, the class button may be the replay's. */
    @Optional() private readonly replay?: ReplayService,
  ) {
    const { gpio: pins, buttons: sources } = config.current.hardware;
    const source = (name: ButtonName, pin: number): ButtonSource => {
      const chosen = sources[name];
      // The schema has checked the key; keyCode cannot miss here.
      return chosen.source === 'usb'
        ? { kind: 'usb', device: chosen.device, key: keyCode(chosen.key)! }
        : { kind: 'gpio', pin };
    };
    const { endHoldMs, selfTestHoldMs } = config.current.session;
    const debounceMs = pins.debounceMs;
    this.debounceMs = debounceMs;
    this.endHoldMs = endHoldMs;
    this.activeLow = pins.activeLow;
    this.buttons = {
      class: {
        name: 'class',
        source: source('class', pins.classButton),
        detector: new PressDetector({ debounceMs, holdThresholdsMs: [endHoldMs] }),
        consumed: false,
      },
      mute: {
        name: 'mute',
        source: source('mute', pins.muteButton),
        detector: new PressDetector({ debounceMs, holdThresholdsMs: [selfTestHoldMs] }),
        consumed: false,
      },
    };
  }

  async onModuleInit(): Promise<void> {
    for (const button of Object.values(this.buttons)) {
      // A wrong pin, a missing chip or an unplugged USB button must not stop the daemon (it would restart
      // in a loop): the screen and the status API say what is wrong, and IT can still reach the box.
      if (button.source.kind === 'gpio') await this.openGpio(button, button.source.pin);
      else await this.openUsb(button, button.source);
    }
    this.reportHealth();
  }

  private async openGpio(button: Button, pin: number): Promise<void> {
    // Pull-up (or -down) before the first read, so the level read at open is the button's, not a float.
    try {
      await this.bias.ensureBias(pin, this.activeLow ? 'pull-up' : 'pull-down');
    } catch (error) {
      button.biasProblem = reason(error);
      this.log.warn(`Can't set button bias button=${button.name} bcm=${pin}: ${reason(error)}`);
    }
    let input;
    try {
      input = await this.gpio.openInput(pin, { label: `${button.name} button`, activeLow: this.activeLow });
    } catch (error) {
      button.problem = { code: error instanceof GpioError ? error.code : 'E-GPIO', detail: reason(error) };
      this.log.error(`Can't open button button=${button.name} bcm=${pin}: ${reason(error)}`);
      return;
    }
    button.input = input;
    input.watch((level, at) => this.onLevel(button, level, at));
    // A button that reads "pressed" before anyone pressed it is stuck, shorted or wired without its pull-up:
    // a fault for IT, never a press (issue 12). It becomes usable once it reads released.
    const level = await input.read().catch(() => 0 as GpioLevel);
    if (level === 1 && !button.problem) this.markStuck(button, `GPIO ${pin}`);
    this.log.info(`Opened button button=${button.name} bcm=${pin} level=${level}`);
  }

  private async openUsb(button: Button, source: Extract<ButtonSource, { kind: 'usb' }>): Promise<void> {
    const label = `${button.name} button`;
    let input;
    try {
      input = await this.keys.open({ label, device: source.device, key: source.key });
    } catch (error) {
      button.problem = { code: 'E-BUTTON-USB-MISSING', detail: reason(error) };
      this.log.error(`Can't open button button=${button.name} key=${keyName(source.key)}: ${reason(error)}`);
      return;
    }
    button.input = input;
    input.watch((event) => this.onKeyEvent(button, event));
  }

  private onKeyEvent(button: Button, event: KeyInputEvent): void {
    switch (event.type) {
      case 'level':
        this.onLevel(button, event.level, event.at);
        return;
      case 'heldBeforeOpen':
        this.markStuck(button, 'the USB button');
        return;
      case 'device':
        button.problem = event.state.present
          ? undefined
          : { code: event.state.code, detail: `${button.name} button: ${event.state.problem}` };
        if (event.state.present)
          this.log.info(`Found USB button button=${button.name} device="${event.state.name}"`);
        this.reportHealth();
        return;
    }
  }

  private markStuck(button: Button, what: string): void {
    button.problem = {
      code: 'E-BUTTON-STUCK',
      detail: `the ${button.name} button (${what}) reads pressed without a press: stuck, shorted, or without its pull-up; it works again once released`,
    };
    this.log.warn(`Found button held at start button=${button.name}`);
    this.reportHealth();
  }

  /** One entry for both buttons: the first problem's code, every problem's words. */
  private reportHealth(): void {
    const buttons = Object.values(this.buttons);
    const problems = buttons.filter((b) => b.problem).map((b) => b.problem!);
    const bias = buttons.filter((b) => b.biasProblem).map((b) => `${b.name} button: ${b.biasProblem!}`);
    let value: DeviceHealth;
    if (problems.length > 0) {
      value = {
        status: problems[0]!.code === 'E-BUTTON-USB-MISSING' ? 'missing' : 'error',
        code: problems[0]!.code,
        detail: [...problems.map((p) => p.detail), ...bias].join('; '),
      };
    } else if (bias.length > 0) {
      value = { status: 'error', code: 'E-GPIO-BIAS', detail: bias.join('; ') };
    } else {
      value = { status: 'ok' };
    }
    this.health.set('buttons', value);
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

  /** Press a button as a person would, through its pin or key (sim mode); resolves after release settles. */
  async simulatePress(name: ButtonName, holdMs: number): Promise<void> {
    const button = this.buttons[name];
    const drive = (level: GpioLevel) =>
      button.source.kind === 'gpio'
        ? this.gpio.simulateInput(button.source.pin, level)
        : this.keys.simulateKey(`${button.name} button`, level);
    drive(1);
    await this.clock.sleep(holdMs);
    drive(0);
    await this.clock.sleep(this.debounceMs + POLL_MS);
  }

  private onLevel(button: Button, level: GpioLevel, at: number): void {
    if (button.problem?.code === 'E-BUTTON-STUCK') {
      // Held since start: its release only makes it usable; nothing it did before counts as a press.
      if (level === 0) {
        button.problem = undefined;
        this.log.info(`Released stuck button button=${button.name}`);
        this.reportHealth();
      }
      return;
    }
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
          // While idle, a replay on offer or playing takes the press (a class due soon withdraws the offer).
          if (button.name === 'class' && this.replay?.onClassDown()) {
            this.log.info('Pressed button button=class action=replay');
            // A press that starts a class is spent: neither its hold nor its release ends that class.
          } else if (button.name === 'class' && this.session.dispatch({ type: 'classPressed' })) {
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
    if (this.replay?.onClassHold()) {
      button.consumed = true;
      this.log.info(`Held button button=class ms=${thresholdMs} action=endReplay`);
      return;
    }
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
