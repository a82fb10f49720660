import { Gpio, type BinaryValue, type Direction, type Edge, type Options, type ValueCallback } from 'onoff';
import { reason } from '../../common/errors.js';
import { createLogger } from '../../common/logger.js';
import { headerLine } from '../domain/gpio-chips.js';
import { SimulationUnsupportedError } from '../ports/health.js';
import { ClockPort } from '../ports/clock.port.js';
import {
  GpioBusyError,
  GpioChipNotFoundError,
  GpioError,
  GpioPort,
  type GpioInput,
  type GpioLevel,
  type GpioLineOptions,
  type GpioOutput,
} from '../ports/gpio.port.js';
import { readGpioChips } from './gpio-chips.sysfs.js';

/** The part of onoff's `Gpio` this adapter uses; tests pass a fake class with the same shape. */
export interface OnoffLine {
  read(): Promise<BinaryValue>;
  write(value: BinaryValue): Promise<void>;
  watch(callback: ValueCallback): void;
  unwatchAll(): void;
  unexport(): void;
}
export type OnoffLineClass = new (
  gpio: number,
  direction: Direction,
  edge?: Edge,
  options?: Options,
) => OnoffLine;

/**
 * Header GPIO through sysfs (onoff). Lines are `base + BCM` of the header chip found at run time
 * (kernel 6.6 moved the base to 512 on a Pi 4 and 571 on a Pi 5). Debouncing is done by the
 * PressDetector, so onoff's own debounce stays off. Pull-ups cannot be set through sysfs: they
 * come from `gpio=…=ip,pu` in config.txt (docs/hardware.md).
 */
export class OnoffGpio extends GpioPort {
  private readonly log = createLogger(OnoffGpio.name);
  private readonly owners = new Map<number, string>();
  private lines: Promise<Awaited<ReturnType<typeof readGpioChips>>> | undefined;

  constructor(
    private readonly clock: ClockPort,
    private readonly LineClass: OnoffLineClass = Gpio,
    private readonly sysRoot = '/sys',
  ) {
    super();
  }

  async openInput(bcm: number, options: GpioLineOptions): Promise<GpioInput> {
    const { line, gpio } = await this.open(bcm, options, 'in', 'both');
    const log = this.log;
    return {
      read: async () => (await gpio.read()) as GpioLevel,
      watch: (listener) =>
        gpio.watch((error, value) => {
          if (error)
            log.warn(
              `Can't read GPIO edge bcm=${bcm} line=${line} label="${options.label}": ${reason(error)}`,
            );
          else listener(value, this.clock.now());
        }),
      close: async () => this.release(bcm, gpio),
    };
  }

  async openOutput(bcm: number, options: GpioLineOptions): Promise<GpioOutput> {
    // "high"/"low" set the raw level together with the direction (gpiolib-sysfs direction_store
    // uses gpiod_direction_output_raw), so the LED starts dark without a glitch, whatever the polarity.
    const { gpio } = await this.open(bcm, options, options.activeLow ? 'high' : 'low', undefined);
    return {
      write: (level) => gpio.write(level),
      close: async () => this.release(bcm, gpio),
    };
  }

  simulateInput(): void {
    throw new SimulationUnsupportedError('pressing a button');
  }

  private async open(
    bcm: number,
    options: GpioLineOptions,
    direction: Direction,
    edge: Edge | undefined,
  ): Promise<{ line: number; gpio: OnoffLine }> {
    const owner = this.owners.get(bcm);
    if (owner)
      throw new GpioBusyError(`GPIO ${bcm} for the ${options.label} is already used by the ${owner}`);
    this.lines ??= readGpioChips(this.sysRoot);
    const { chips, skipped } = await this.lines;
    const found = headerLine(chips, bcm);
    if (!found.ok) {
      const extra = skipped.length > 0 ? `; unreadable: ${skipped.join(', ')}` : '';
      throw new GpioChipNotFoundError(
        `GPIO ${bcm} (BCM) for the ${options.label} has no line: ${found.problem}${extra}`,
      );
    }
    let gpio: OnoffLine;
    try {
      gpio = new this.LineClass(found.line, direction, edge, {
        activeLow: options.activeLow,
        debounceTimeout: 0,
      });
    } catch (error) {
      throw openError(bcm, found.line, options.label, error);
    }
    this.owners.set(bcm, options.label);
    this.log.info(
      `Opened GPIO bcm=${bcm} line=${found.line} chip=${found.chip.name} label="${options.label}" direction=${direction}`,
    );
    return { line: found.line, gpio };
  }

  private release(bcm: number, gpio: OnoffLine): void {
    if (!this.owners.has(bcm)) return;
    this.owners.delete(bcm);
    try {
      gpio.unwatchAll();
      gpio.unexport();
    } catch (error) {
      this.log.warn(`Can't release GPIO bcm=${bcm}: ${reason(error)}`);
    }
  }
}

function openError(bcm: number, line: number, label: string, error: unknown): GpioError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const what = `GPIO ${bcm} (line ${line}) for the ${label}`;
  if (code === 'EBUSY') {
    return new GpioBusyError(`${what} is held by a kernel driver or another program`, {
      cause: error,
    });
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new GpioError(`${what} is not accessible (the daemon's user must be in the gpio group)`, {
      cause: error,
      code: 'E-GPIO-ACCESS',
    });
  }
  return new GpioError(`${what} could not be opened`, { cause: error });
}
