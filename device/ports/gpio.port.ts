import { ClassboxError } from '../../common/errors.js';

/** A logical level: 1 = active (button pressed, LED lit), whatever the wiring's polarity. */
export type GpioLevel = 0 | 1;

export interface GpioLineOptions {
  /** Label for logs and errors, e.g. "class button". */
  readonly label: string;
  /** The line is active when pulled low (buttons to ground with a pull-up). */
  readonly activeLow: boolean;
}

export interface GpioInput {
  read(): Promise<GpioLevel>;
  /** Called on every edge with the new logical level and the time it was seen (ms). */
  watch(listener: (level: GpioLevel, at: number) => void): void;
  close(): Promise<void>;
}

export interface GpioOutput {
  write(level: GpioLevel): Promise<void>;
  close(): Promise<void>;
}

export type GpioErrorCode = 'E-GPIO' | 'E-GPIO-CHIP' | 'E-GPIO-BUSY' | 'E-GPIO-ACCESS' | 'E-GPIO-BIAS';

export class GpioError extends ClassboxError<GpioErrorCode> {
  constructor(message: string, options?: { cause?: unknown; code?: GpioErrorCode }) {
    super(options?.code ?? 'E-GPIO', message, options);
  }
}

/** No chip on this board drives the header, or the pin is outside it. */
export class GpioChipNotFoundError extends GpioError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { ...options, code: 'E-GPIO-CHIP' });
  }
}

/** The line is held by a kernel driver (e.g. an overlay) or another program. */
export class GpioBusyError extends GpioError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { ...options, code: 'E-GPIO-BUSY' });
  }
}

/**
 * The header's GPIO lines, by BCM number. The real adapter is sysfs (onoff); a libgpiod
 * adapter can replace it behind this port when sysfs GPIO is removed from the kernel.
 */
export abstract class GpioPort {
  abstract openInput(bcm: number, options: GpioLineOptions): Promise<GpioInput>;
  abstract openOutput(bcm: number, options: GpioLineOptions): Promise<GpioOutput>;
  /** Drive an input line as a button would (sim only; hardware throws SimulationUnsupportedError). */
  abstract simulateInput(bcm: number, level: GpioLevel): void;
}
