import { Injectable } from '@nestjs/common';
import { ClockPort } from '../ports/clock.port.js';
import {
  GpioError,
  GpioPort,
  type GpioInput,
  type GpioLevel,
  type GpioLineOptions,
  type GpioOutput,
} from '../ports/gpio.port.js';

interface SimLine {
  readonly label: string;
  readonly direction: 'in' | 'out';
  level: GpioLevel;
  readonly watchers: ((level: GpioLevel, at: number) => void)[];
}

/**
 * GPIO without a header: inputs are driven by `simulateInput` (the control API's button
 * presses), outputs remember their level so LEDs can be read back. Same rules as the real
 * pins: one owner per line.
 */
@Injectable()
export class SimGpio extends GpioPort {
  private readonly lines = new Map<number, SimLine>();
  /** Inputs that read active from the moment they are opened (a button held while the box starts). */
  private readonly heldAtOpen = new Set<number>();

  constructor(private readonly clock: ClockPort) {
    super();
  }

  async openInput(bcm: number, options: GpioLineOptions): Promise<GpioInput> {
    const line = this.claim(bcm, options, 'in');
    return {
      read: async () => line.level,
      watch: (listener) => void line.watchers.push(listener),
      close: async () => void this.lines.delete(bcm),
    };
  }

  async openOutput(bcm: number, options: GpioLineOptions): Promise<GpioOutput> {
    const line = this.claim(bcm, options, 'out');
    return {
      write: async (level) => {
        line.level = level;
      },
      close: async () => void this.lines.delete(bcm),
    };
  }

  simulateInput(bcm: number, level: GpioLevel): void {
    const line = this.lines.get(bcm);
    if (line?.direction !== 'in') throw new GpioError(`GPIO ${bcm} is not an open input`);
    if (line.level === level) return;
    line.level = level;
    const at = this.clock.now();
    for (const watcher of line.watchers) watcher(level, at);
  }

  /** Hold a button down before the daemon opens it, as a stuck or taped-down button would be. */
  holdBeforeOpen(bcm: number): void {
    this.heldAtOpen.add(bcm);
  }

  /** The level an output was last set to (tests, diagnostics). */
  outputLevel(bcm: number): GpioLevel | undefined {
    const line = this.lines.get(bcm);
    return line?.direction === 'out' ? line.level : undefined;
  }

  private claim(bcm: number, options: GpioLineOptions, direction: 'in' | 'out'): SimLine {
    const owner = this.lines.get(bcm);
    if (owner)
      throw new GpioError(`GPIO ${bcm} for the ${options.label} is already used by the ${owner.label}`);
    const level = direction === 'in' && this.heldAtOpen.has(bcm) ? 1 : 0;
    const line: SimLine = { label: options.label, direction, level, watchers: [] };
    this.lines.set(bcm, line);
    return line;
  }
}
