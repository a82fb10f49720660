import { GpioError } from './gpio.port.js';

/** The pull resistor of an input line: a button to GND needs a pull-up, a button to 3V3 a pull-down. */
export type GpioBias = 'pull-up' | 'pull-down';

/** The pull could not be set (no pinctrl, no access, or it did not take). */
export class GpioBiasError extends GpioError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { ...options, code: 'E-GPIO-BIAS' });
  }
}

/**
 * Pull resistors of the header's lines. sysfs GPIO (onoff) cannot set them, and a BCM2711 resets GPIO 9–27
 * to pull-down, so an active-low button never changes level unless something sets a pull-up: config.txt at
 * power-on (the image and the package write it) and, at start, this port (issue 12).
 */
export abstract class GpioBiasPort {
  /** Set the pull of `bcm` and check that it took; rejects with GpioBiasError saying why not. */
  abstract ensureBias(bcm: number, bias: GpioBias): Promise<void>;
}
